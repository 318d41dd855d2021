"""Writing and reading results/: the figures' JSON numbers (through ``_io``) and how numbers are printed."""

from __future__ import annotations

from ._io import NOISE_FLOOR, atomic_path, read_json, rounded, write_json

__all__ = ["NOISE_FLOOR", "atomic_path", "fmt_point", "fmt_small", "read_json", "rounded", "verdict", "write_json"]


def fmt_small(x: float, floor: float = 1e-12) -> str:
    """Format a (non-negative) error for printing: '< floor' below ``floor``, else 1 significant digit.

    Errors at round-off level differ between machines; printing them as '< 1e-12' keeps notebook
    output stable while still stating the bound.
    """
    return f"< {floor:.0e}" if abs(x) < floor else f"{x:.1e}"


def verdict(holds: bool) -> str:
    """A criterion's verdict as the reports print it."""
    return "holds" if holds else "does not hold"


def fmt_point(p, digits: int = 4) -> str:
    """Format a point as '(+x, +y)' with ``digits`` decimals; round-off-sized values print as +0."""
    return "(" + ", ".join(f"{round(float(x), digits) + 0.0:+.{digits}f}" for x in p) + ")"
