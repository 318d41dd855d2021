"""Argument validation shared by the modules: every bad input names the argument and its range."""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "check_nonnegative",
    "check_positive",
    "check_positive_definite",
    "check_vector",
    "check_probability",
]


def _as_float(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real | np.floating | np.integer):
        raise ValueError(f"Invalid {name} value: {value!r}; expected a real number.")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"Invalid {name} value: {value!r}; expected a finite number.")
    return value


def check_positive(value, name: str) -> float:
    """Return ``value`` as a float, or raise ValueError unless it is a finite number > 0."""
    value = _as_float(value, name)
    if value <= 0:
        raise ValueError(f"Invalid {name} value: {value}; {name} must be > 0.")
    return value


def check_nonnegative(value, name: str) -> float:
    """Return ``value`` as a float, or raise ValueError unless it is a finite number >= 0."""
    value = _as_float(value, name)
    if value < 0:
        raise ValueError(f"Invalid {name} value: {value}; {name} must be >= 0.")
    return value


def check_probability(value, name: str) -> float:
    """Return ``value`` as a float, or raise ValueError unless 0 <= value <= 1."""
    value = _as_float(value, name)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"Invalid {name} value: {value}; {name} must lie in [0, 1].")
    return value


def check_vector(value, name: str, dim: int | None = None) -> np.ndarray:
    """Return ``value`` as a finite float64 vector (of length ``dim`` when given)."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"Invalid {name} shape: {arr.shape}; expected a 1-D vector.")
    if dim is not None and arr.shape[0] != dim:
        raise ValueError(f"Invalid {name} shape: {arr.shape}; expected ({dim},) to match the problem dimension.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"Invalid {name} value: {arr}; entries must be finite.")
    return arr


def check_positive_definite(G, name: str = "G") -> np.ndarray:
    """Return ``G`` as a symmetric positive-definite float64 matrix, or raise ValueError."""
    G = np.asarray(G, dtype=np.float64)
    if G.ndim != 2 or G.shape[0] != G.shape[1]:
        raise ValueError(f"Invalid {name} shape: {G.shape}; expected a square matrix.")
    if not np.all(np.isfinite(G)) or not np.allclose(G, G.T, rtol=1e-12, atol=1e-14):
        raise ValueError(f"Invalid {name} value: the metric must be finite and symmetric.")
    eig_min = float(np.linalg.eigvalsh(G).min())
    if eig_min <= 0:
        raise ValueError(
            f"Invalid {name} value: smallest eigenvalue {eig_min:.3g}; "
            f"{name} must be positive definite (all eigenvalues > 0)."
        )
    return G
