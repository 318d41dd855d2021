"""Saved figures are byte-stable: data differing in the last bits give the same PNG, SVG and PDF bytes."""

import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import SubFigure

from functions.plotting import Panel, quantise, render_panel, save_figure
from functions.results_io import NOISE_FLOOR, rounded


def test_quantise_absorbs_last_bit_noise():
    x = np.linspace(-3.0, 7.0, 10001) ** 3
    noisy = x * (1 + 4 * np.finfo(float).eps)
    assert np.array_equal(quantise(x), quantise(noisy))
    np.testing.assert_allclose(quantise(x), x, rtol=6e-8, atol=0)


def _panel(t, wiggle):
    def draw(axes):
        ax = axes[0]
        ax.plot(t, np.exp(-t) * np.cos(5 * t) + wiggle, lw=2, label="path")
        ax.fill_between(t, -np.exp(-t) + wiggle, np.exp(-t) + wiggle, alpha=0.2)
        ax.scatter(t[::50], np.sin(t[::50]) + wiggle)
        ax.text(t[100], 0.5 + wiggle, "label")
        ax.legend()

    return Panel(draw)


def test_saved_bytes_do_not_depend_on_last_bit_noise(tmp_path):
    t = np.linspace(0.0, 6.0, 601)
    outputs = []
    for i, wiggle in enumerate((0.0, 1e-15)):
        fig = render_panel(_panel(t, wiggle))
        paths = save_figure(fig, tmp_path / f"run{i}", formats=("png", "svg", "pdf"))
        plt.close(fig)
        outputs.append([p.read_bytes() for p in paths])
    for fmt, a, b in zip(("png", "svg", "pdf"), *outputs, strict=True):
        assert a == b, f"{fmt} bytes changed with 1e-15 noise in the data"


def test_svg_ids_are_sequential_and_references_consistent(tmp_path):
    fig = render_panel(_panel(np.linspace(0.0, 6.0, 101), 0.0))
    (path,) = save_figure(fig, tmp_path / "ids", formats=("svg",))
    plt.close(fig)
    text = path.read_text()
    assert not re.search(r'id="[a-z]+[0-9a-f]{8,}"', text), "no hashed ids left"
    refs = set(re.findall(r"url\(#([^)]+)\)", text)) | set(re.findall(r'xlink:href="#([^"]+)"', text))
    assert refs and all(f'id="{ref}"' in text for ref in refs), "every reference points to a defined id"
    assert re.fullmatch(r"p\d+", next(iter(re.findall(r'clip-path="url\(#([^)]+)\)"', text))))


@pytest.mark.parametrize(
    ("value", "stored"),
    [(1.51e-125, 0.0), (-8.75e-126, 0.0), (2.4e-10, 0.0), (1.2345678e-9, 1.23457e-9), (0.123456789, 0.123457)],
)
def test_stored_numbers_have_a_noise_floor(value, stored):
    assert NOISE_FLOOR == 1e-9
    assert rounded({"x": [value]}) == {"x": [stored]}


def test_composed_layout_is_frozen_on_a_rounded_grid(tmp_path):
    """Composed figures are laid out once and their positions rounded, so round-off in the constrained layout
    (which depends on the objects' memory addresses) cannot move a panel between processes."""
    from functions.plotting import compose

    t = np.linspace(0.0, 6.0, 101)
    fig = compose({"a": _panel(t, 0.0), "b": _panel(t, 0.0)}, figsize=(6, 3))
    save_figure(fig, tmp_path / "composed", formats=("png",))
    axes = fig.findobj(Axes)
    subfigs = fig.findobj(lambda a: isinstance(a, SubFigure))
    assert len(axes) == 2 and len(subfigs) == 2
    for bounds in [ax.get_position().bounds for ax in axes] + [s.bbox_relative.bounds for s in subfigs]:
        np.testing.assert_array_equal(np.round(bounds, 9), bounds)
    plt.close(fig)


def test_a_panel_is_laid_out_once_for_all_formats(tmp_path, monkeypatch):
    """save_figure runs the constrained layout once, at the saving resolution, and every format uses that
    layout (rounded): laying out again for each format cost a third of the saving time."""
    import matplotlib as mpl
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    from functions.plotting import STYLE, quantise_figure

    t = np.linspace(0.0, 6.0, 101)
    twin = render_panel(_panel(t, 0.0))  # the layout that saving a PNG with the constrained engine gives
    with mpl.rc_context(STYLE):
        quantise_figure(twin)
        twin.savefig(tmp_path / "twin.png")
    expected = np.round(twin.axes[0].get_position().bounds, 9)
    plt.close(twin)

    calls, draws = [], []
    execute = ConstrainedLayoutEngine.execute
    monkeypatch.setattr(ConstrainedLayoutEngine, "execute", lambda self, fig: calls.append(1) or execute(self, fig))
    draw = mpl.figure.Figure.draw
    monkeypatch.setattr(mpl.figure.Figure, "draw", lambda self, renderer: draws.append(1) or draw(self, renderer))
    fig = render_panel(_panel(t, 0.0))
    save_figure(fig, tmp_path / "panel", formats=("png", "svg", "pdf"))
    assert len(calls) == 1, f"the layout ran {len(calls)} times for 3 formats"
    assert len(draws) == 3, f"{len(draws)} draws for 3 formats (a leftover layout engine makes savefig draw twice)"
    assert fig.get_layout_engine() is None
    np.testing.assert_array_equal(fig.axes[0].get_position().bounds, expected)
    assert fig.axes[0].get_position().bounds != (0.125, 0.11, 0.775, 0.77), "laid out, not matplotlib's default"
    plt.close(fig)


def test_loss_heatmap_draws_the_loss_grid_and_contours_on_request():
    from functions.landscapes import Quadratic
    from functions.plotting import loss_grid, loss_heatmap

    loss, box = Quadratic([2.0, 0.5], [0.3, -0.2]), (-1.0, 2.0, -3.0, 1.0)
    X, Y, Z = loss_grid(loss, box, 31)
    assert X[0, -1] == 2.0 and Y[-1, 0] == 1.0 and Z[5, 7] == loss(np.array([X[5, 7], Y[5, 7]]))
    fig, (a, b) = plt.subplots(1, 2)
    image = loss_heatmap(a, loss, box, n=31, levels=0)
    np.testing.assert_array_equal(image.get_array(), Z)
    assert not a.collections and a.get_xlim() == (-1.0, 2.0) and a.get_ylim() == (-3.0, 1.0)
    loss_heatmap(b, loss, 1.5, n=31, levels=5)
    assert b.collections, "contours drawn"
    assert b.get_xlim() == (-1.5, 1.5), "a scalar lim is the square [-lim, lim]^2"
    plt.close(fig)
