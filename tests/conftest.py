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


#: Test modules that start processes, kernels, browsers or clusters, or train: `pytest -m "not slow"` skips them
#: (and the notebooks under nbval) for a quick inner loop; `make test` runs everything.
SLOW_MODULES = {"test_browser", "test_byte_stability", "test_campaign", "test_checkpoint", "test_lab",
                "test_notebook_parameters", "test_packaging", "test_papermill"}  # fmt: skip


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = getattr(item, "path", None)
        if path is not None and (path.suffix == ".ipynb" or path.stem in SLOW_MODULES):
            item.add_marker(pytest.mark.slow)
        if path is not None and path.stem in {"test_campaign", "test_lab", "test_browser", "test_papermill"}:
            item.add_marker(pytest.mark.integration)
