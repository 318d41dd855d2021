"""Frozen, keyword-built parameter objects of the figures: each value normalised once and validated on creation.

A figure's ``Params`` is a ``dataclass(frozen=True, kw_only=True)`` with the paper's values as defaults and its
checks in ``__post_init__``; numbers are stored as floats and vectors as tuples of floats, so that ``GAMMA = 0``
and ``GAMMA = 0.0`` give the same object and the same bytes in results/. ``as_dict`` is what results/figN.json
stores as its parameters.
"""

from __future__ import annotations

import dataclasses

from ._checks import check_finite, check_vector
from ._io import check_output_folder

__all__ = ["FigureParams", "real", "vector"]


def real(value, name: str) -> float:
    """``value`` as a float (a finite real number, not a bool or a string), else ValueError naming ``name``."""
    return check_finite(value, name)


def vector(value, name: str, dim: int | None = None) -> tuple[float, ...]:
    """``value`` as a tuple of finite floats (of length ``dim`` when given), else ValueError naming ``name``."""
    if isinstance(value, str | bytes):
        raise ValueError(f"Invalid {name} value: {value!r}; expected a list of numbers, not a string.")
    return tuple(float(x) for x in check_vector(value, name, dim))


def _plain(value):
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@dataclasses.dataclass(frozen=True, kw_only=True)
class FigureParams:
    """Base of the figures' parameter objects: the output folders every notebook writes (``RESULTS`` for
    results/, ``FIG_IMAGES`` for the composed figure; not stored in results/), checked by ``_check_outputs``
    first in each figure's ``__post_init__``, so that a folder that cannot be written stops the check cell."""

    results: str = dataclasses.field(default="results", metadata={"stored": False})
    fig_images: str = dataclasses.field(default="fig_images", metadata={"stored": False})

    def _check_outputs(self) -> None:
        """RESULTS and FIG_IMAGES must be folders this user can write (``_io.check_output_folder``)."""
        for name in ("results", "fig_images"):
            self._set(**{name: str(check_output_folder(getattr(self, name), name.upper()))})

    def _set(self, **values) -> None:
        """Store normalised values on the frozen instance (only from ``__post_init__``)."""
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def as_dict(self) -> dict:
        """The parameters as plain JSON data (tuples as lists), in field order."""
        return {
            f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self) if f.metadata.get("stored", True)
        }
