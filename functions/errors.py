"""Errors shared by the solvers: the lowest layer, so that no solver imports another for its error type."""

from __future__ import annotations

__all__ = ["ConvergenceError"]


class ConvergenceError(RuntimeError):
    """A solver stopped without meeting its tolerance."""
