"""Argument validation shared by the modules: every bad input names the argument and its range."""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "as_data",
    "check_distinct",
    "check_box",
    "check_choice",
    "check_finite",
    "check_in_box",
    "check_range",
    "check_int",
    "check_nonnegative",
    "check_positive_array",
    "check_times",
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


def check_finite(value, name: str) -> float:
    """Return ``value`` as a float, or raise ValueError unless it is a finite real number."""
    return _as_float(value, name)


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


def as_data(value):
    """``value`` with any torch tensor detached and moved to numpy: a tensor that requires grad is data to the
    solvers, never part of a graph (np.asarray would refuse it)."""
    return value.detach().cpu().numpy() if hasattr(value, "detach") else value


def check_distinct(values, name: str) -> None:
    """Raise ValueError naming ``name`` when a value repeats in ``values``: the figures key each curve, check
    or task by its value, so a repeat would silently collapse onto its first copy."""
    seen, twice = set(), []
    for v in values:
        if v in seen and v not in twice:
            twice.append(v)
        seen.add(v)
    if twice:
        listed = ", ".join(f"{v:g}" for v in twice)
        raise ValueError(
            f"Invalid {name} value: {list(values)!r}; {listed} is listed more than once. Each entry is one curve "
            "keyed by its value, so a repeat would be drawn on its first copy: list distinct values."
        )


def check_vector(value, name: str, dim: int | None = None) -> np.ndarray:
    """Return ``value`` as a finite float64 vector (of length ``dim`` when given); a torch tensor is detached."""
    value = as_data(value)
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"Invalid {name} value: {value!r}; expected a vector of real numbers.") from None
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"Invalid {name} shape: {arr.shape}; expected a non-empty 1-D vector.")
    if dim is not None and arr.shape[0] != dim:
        raise ValueError(f"Invalid {name} shape: {arr.shape}; expected ({dim},) to match the problem dimension.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"Invalid {name} value: {arr}; entries must be finite.")
    return arr


def check_positive_definite(G, name: str = "G") -> np.ndarray:
    """Return ``G`` as a symmetric positive-definite float64 matrix, or raise ValueError."""
    G = np.asarray(G, dtype=np.float64)
    if G.ndim != 2 or G.shape[0] != G.shape[1] or G.size == 0:
        raise ValueError(f"Invalid {name} shape: {G.shape}; expected a non-empty square matrix.")
    if not np.all(np.isfinite(G)) or not np.allclose(G, G.T, rtol=1e-12, atol=1e-14):
        raise ValueError(f"Invalid {name} value: the metric must be finite and symmetric.")
    eig_min = float(np.linalg.eigvalsh(G).min())
    if eig_min <= 0:
        raise ValueError(
            f"Invalid {name} value: smallest eigenvalue {eig_min:.3g}; "
            f"{name} must be positive definite (all eigenvalues > 0)."
        )
    return G


def check_choice(value, name: str, choices):
    """Return ``value`` if it is one of ``choices``, else raise ValueError listing them."""
    if value not in choices:
        raise ValueError(f"Invalid {name} value: {value!r}; expected one of {', '.join(map(str, choices))}.")
    return value


def check_int(value, name: str, low: int, high: int | None = None) -> int:
    """Return ``value`` as an int, or raise ValueError unless it is an integer in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"Invalid {name} value: {value!r}; expected an integer >= {low}.")
    value = int(value)
    if value < low or (high is not None and value > high):
        upper = f" and <= {high}" if high is not None else ""
        raise ValueError(f"Invalid {name} value: {value}; {name} must be an integer >= {low}{upper}.")
    return value


def check_positive_array(value, name: str) -> np.ndarray:
    """Return ``value`` as a float64 array (a scalar is fine) whose entries are all finite and > 0."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.size == 0 or not np.all(np.isfinite(arr)) or not np.all(arr > 0):
        raise ValueError(f"Invalid {name} value: {value!r}; every entry must be a finite number > 0.")
    return arr


def check_times(t, name: str = "t", min_points: int = 2) -> np.ndarray:
    """Return ``t`` as a finite, strictly increasing float64 vector starting at 0 with >= ``min_points`` entries."""
    t = np.asarray(t, dtype=np.float64)
    if t.ndim != 1 or t.size < min_points:
        raise ValueError(
            f"Invalid {name} shape: {t.shape}; expected at least {min_points} times, e.g. np.linspace(0, T, 100)."
        )
    if not np.all(np.isfinite(t)) or t[0] != 0 or np.any(np.diff(t) <= 0):
        raise ValueError(f"Invalid {name} value: expected finite, strictly increasing times starting at 0.")
    return t


def check_range(value, name: str, positive: bool = False) -> tuple[float, float]:
    """Return ``value`` as (lo, hi) with lo < hi, both finite (and > 0 when ``positive``), or raise ValueError."""
    arr = check_vector(value, name, 2)
    if not arr[0] < arr[1] or (positive and arr[0] <= 0):
        need = "0 < lo < hi" if positive else "lo < hi"
        raise ValueError(f"Invalid {name} value: ({arr[0]:g}, {arr[1]:g}); expected (lo, hi) with {need}.")
    return float(arr[0]), float(arr[1])


def check_box(box, name: str) -> tuple[float, float, float, float]:
    """Return a drawn area ``box`` = (x_min, x_max, y_min, y_max) with x_min < x_max and y_min < y_max."""
    x0, x1, y0, y1 = check_vector(box, name, 4)
    check_range((x0, x1), f"{name} x range")
    check_range((y0, y1), f"{name} y range")
    return float(x0), float(x1), float(y0), float(y1)


def check_in_box(point, name: str, box, box_name: str) -> np.ndarray:
    """Return the 2-D ``point`` if it lies in ``box`` = (x_min, x_max, y_min, y_max), else raise ValueError."""
    point = check_vector(point, name, 2)
    x0, x1, y0, y1 = (float(b) for b in box)
    if not (x0 <= point[0] <= x1 and y0 <= point[1] <= y1):
        raise ValueError(
            f"Invalid {name} value: ({point[0]:g}, {point[1]:g}) lies outside the drawn area {box_name} = "
            f"[{x0:g}, {x1:g}] x [{y0:g}, {y1:g}]; move it inside or enlarge {box_name}."
        )
    return point
