"""numpy/torch interchange: code written once works on arrays of either library."""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["const_like", "stack_last"]


def stack_last(parts, like):
    """Stack ``parts`` along a new last axis, in ``like``'s array library."""
    if isinstance(like, torch.Tensor):
        return torch.stack(parts, dim=-1)
    return np.stack(parts, axis=-1)


def const_like(values, like):
    """The float64 constant ``values`` as an array of ``like``'s kind (torch: same dtype and device)."""
    if isinstance(like, torch.Tensor):
        if isinstance(values, np.ndarray) and not values.flags.writeable:  # a value object's frozen array
            return torch.tensor(values, dtype=like.dtype, device=like.device)  # a copy: torch wants writable memory
        return torch.as_tensor(values, dtype=like.dtype, device=like.device)
    return values
