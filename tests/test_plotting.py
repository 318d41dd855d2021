"""Saved figures are byte-stable: data differing in the last bits give the same PNG, SVG and PDF bytes."""

import re

import matplotlib.pyplot as plt
import numpy as np
import pytest

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


def _saved_panels(tmp_path):
    """Three saved panels of different sizes: a (3.2 x 3.0 in), b (2.0 x 2.0 in), c (4.0 x 1.5 in)."""
    from PIL import Image

    from functions.plotting import save_panels

    t = np.linspace(0.0, 6.0, 101)
    sizes = {"a": (3.2, 3.0), "b": (2.0, 2.0), "c": (4.0, 1.5)}
    panels = {k: Panel(_panel(t, 0.0).draw, size=v) for k, v in sizes.items()}
    save_panels(panels, tmp_path / "p", formats=("png",))
    return {k: np.asarray(Image.open(tmp_path / f"p_{k}.png").convert("RGB")) for k in sizes}


def test_compose_tiles_the_saved_panel_pixels(tmp_path):
    """The composed figure is the panels' own pixels: rows centred, panels top-aligned, a letter gutter each."""
    from PIL import Image

    from functions.plotting import LETTER_GUTTER, TILE_GAP, compose

    px = _saved_panels(tmp_path)
    (ha, wa), (hb, wb), (hc, wc) = (px[k].shape[:2] for k in "abc")
    assert (wa, ha, wb, hb) == (480, 450, 300, 300), "150 dpi panels"
    path = compose(tmp_path / "p", [["a", "b"], ["c"]], tmp_path / "figs" / "composed")
    assert path == tmp_path / "figs" / "composed.png"
    out = np.asarray(Image.open(path).convert("RGB"))
    width = LETTER_GUTTER + wa + TILE_GAP + LETTER_GUTTER + wb
    assert out.shape == (ha + TILE_GAP + hc, width, 3)
    g = LETTER_GUTTER
    np.testing.assert_array_equal(out[:ha, g : g + wa], px["a"])
    np.testing.assert_array_equal(out[:hb, 2 * g + wa + TILE_GAP :], px["b"])
    assert (out[hb:ha, 2 * g + wa + TILE_GAP :] == 255).all(), "b is top-aligned, white below it"
    x0 = (width - (g + wc)) // 2
    np.testing.assert_array_equal(out[ha + TILE_GAP :, x0 + g : x0 + g + wc], px["c"])
    for x, y in ((0, 0), (g + wa + TILE_GAP, 0), (x0, ha + TILE_GAP)):
        assert (out[y : y + 40, x : x + g] < 128).any(), f"a letter in the gutter at ({x}, {y})"
    plain = compose(tmp_path / "p", [["a", "b"]], tmp_path / "plain", letters=False)
    out = np.asarray(Image.open(plain).convert("RGB"))
    np.testing.assert_array_equal(out, np.concatenate([px["a"], np.full((ha, TILE_GAP, 3), 255), np.pad(
        px["b"], ((0, ha - hb), (0, 0), (0, 0)), constant_values=255)], axis=1))  # fmt: skip


def test_compose_is_byte_stable_and_checks_its_input_before_writing(tmp_path):
    from functions.plotting import compose

    _saved_panels(tmp_path)
    first = compose(tmp_path / "p", [["a", "b", "c"]], tmp_path / "one").read_bytes()
    assert compose(tmp_path / "p", [["a", "b", "c"]], tmp_path / "two").read_bytes() == first
    with pytest.raises(FileNotFoundError, match=r"No saved panel .*p_d\.png.*save the panels first"):
        compose(tmp_path / "p", [["a", "d"]], tmp_path / "bad")
    for layout in ([], [["a"], []], [["a", "a"]]):
        with pytest.raises(ValueError, match=r"Invalid layout value: .*expected rows of distinct panel names"):
            compose(tmp_path / "p", layout, tmp_path / "bad")
    assert not (tmp_path / "bad.png").exists(), "nothing written"


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
