"""Argument types shared by the command lines (``python -m functions.experiments ...`` and its ``real-model``
part): each parses one option's text and raises ``argparse.ArgumentTypeError`` with the allowed range, so that
argparse names the option and stops before any data is loaded."""

from __future__ import annotations

import argparse
import math

__all__ = ["at_least", "int_or_none", "positive"]


def at_least(low: int):
    """An integer >= ``low``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{value} is out of range; it must be an integer >= {low}")
        return value

    return parse


def int_or_none(low: int, high: int, none: str, meaning: str):
    """An integer in ``low .. high``, or the word ``none`` (``meaning`` says what it stands for)."""

    def parse(text: str) -> int | None:
        if text == none:
            return None
        expected = f"expected an integer in {low} .. {high}, or {none} ({meaning})"
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: {expected}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value}: {expected}")
        return value

    return parse


def positive(text: str) -> float:
    """A finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{value} is out of range; it must be a finite number > 0")
    return value
