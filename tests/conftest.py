"""Shared test setup: a headless matplotlib backend and float64 torch numerics."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch

torch.set_default_dtype(torch.float64)


@pytest.fixture
def rng():
    """A seeded numpy generator, fresh for every test."""
    return np.random.default_rng(20251030)
