"""Helpers for the results/ regression tests: compare numbers and re-rendered panels."""

from __future__ import annotations

import pathlib

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.testing.compare import compare_images

from functions.plotting import render_panel, save_figure

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results"

#: RMS tolerance (0-255 grey levels) for re-rendered panels against results/. Two renders on the same
#: pinned matplotlib are byte-identical (RMS 0); the margin absorbs anti-aliasing differences of other
#: FreeType builds, while a moved curve, marker or label changes ~1% of the pixels by ~200 levels,
#: i.e. an RMS of ~20, far above it.
IMAGE_RMS_TOL = 2.0


def assert_close_tree(fresh, stored, rtol: float, atol: float, path: str = "") -> None:
    """Recursively compare fresh numbers with the stored JSON, through dicts and lists (strings and bools
    exactly)."""
    if isinstance(stored, dict):
        assert set(fresh) == set(stored), f"{path}: keys differ"
        for key in stored:
            assert_close_tree(fresh[key], stored[key], rtol, atol, f"{path}.{key}")
    elif isinstance(stored, str | bool):
        assert fresh == stored, f"{path}: {fresh!r} != {stored!r}"
    elif isinstance(stored, list) and any(isinstance(x, dict | list | str | bool) for x in stored):
        assert len(fresh) == len(stored), f"{path}: {len(fresh)} items != {len(stored)}"
        for i, (f, s) in enumerate(zip(fresh, stored, strict=True)):
            assert_close_tree(f, s, rtol, atol, f"{path}[{i}]")
    else:
        np.testing.assert_allclose(
            np.asarray(fresh, dtype=float),
            np.asarray(stored, dtype=float),
            rtol=rtol,
            atol=atol,
            err_msg=path,
        )


def assert_panels_match(panels: dict, prefix: str, tmp_path: pathlib.Path) -> None:
    """Render each panel to PNG and compare with results/{prefix}_{name}.png."""
    for name, panel in panels.items():
        fig = render_panel(panel)
        (fresh,) = save_figure(fig, tmp_path / f"{prefix}_{name}", formats=("png",))
        plt.close(fig)
        stored = RESULTS / f"{prefix}_{name}.png"
        assert stored.exists(), f"{stored} missing: run `make figures`"
        diff = compare_images(str(stored), str(fresh), tol=IMAGE_RMS_TOL)
        assert diff is None, diff
