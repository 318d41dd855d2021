"""What the solvers need of a landscape, a drift and a metric, as ``typing.Protocol``s (checked at run time).

Any object with these members works: the package's ``DoubleWell``, ``Quadratic``, ``Metric`` and drifts, or a
user's own. ``Problem`` checks them with ``isinstance`` when it is made, so a wrong object is named at once.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["Drift", "Landscape", "MetricLike", "Frozen"]


@runtime_checkable
class Landscape(Protocol):
    """A loss L(theta) over ``dim`` parameters; ``__call__`` takes numpy arrays and torch tensors (..., dim)."""

    dim: int

    def __call__(self, theta): ...


@runtime_checkable
class Drift(Protocol):
    """Default dynamics f(theta) with its Jacobian J_f (..., dim, dim)."""

    def __call__(self, theta): ...

    def jacobian(self, theta): ...


@runtime_checkable
class MetricLike(Protocol):
    """A constant metric G of parameter space: the matrix, its inverse, |v|_G^2."""

    G: object
    G_inv: object
    dim: int

    def sq_norm(self, v): ...


class Frozen:
    """Value-object mixin: attributes are set once in ``__init__`` (then ``_freeze``), arrays made read-only."""

    _frozen = False

    def _freeze(self) -> None:
        for name, value in list(vars(self).items()):
            if hasattr(value, "flags") and hasattr(value.flags, "writeable"):
                value = value.copy()  # never freeze the caller's own array
                value.flags.writeable = False
                object.__setattr__(self, name, value)
        object.__setattr__(self, "_frozen", True)

    def __setattr__(self, name, value):
        if self._frozen:
            raise AttributeError(f"{type(self).__name__} is immutable: make a new one instead of setting {name!r}.")
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        raise AttributeError(f"{type(self).__name__} is immutable.")
