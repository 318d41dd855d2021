"""Plotting helpers shared by the figures: style, panels, composition and byte-stable saving.

A ``Panel`` is a drawing function plus its layout (rows of axes, projection). Each panel is drawn
once, alone, and saved to results/; the composed figure in fig_images/ tiles those saved PNGs, so
the two can never disagree.
"""

from __future__ import annotations

import pathlib
import re
from collections.abc import Callable
from dataclasses import dataclass

import matplotlib as mpl
import matplotlib.figure
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import QuadMesh

from .results_io import atomic_path

__all__ = [
    "BELIEF_COLOURS",
    "LEARNER_COLOURS",
    "OPTIMISER_STYLE",
    "Panel",
    "STYLE",
    "compose",
    "freeze_layout",
    "loss_grid",
    "loss_heatmap",
    "render_panel",
    "quantise",
    "quantise_figure",
    "save_figure",
    "save_panels",
    "show_saved",
]

#: rcParams for every figure; svg.hashsalt makes SVG ids reproducible.
STYLE = {
    "svg.hashsalt": "lossnav",
    "svg.fonttype": "path",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 7.5,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 100,
    "savefig.dpi": 150,
}

#: The two learners of Figure 1 (and its explorer): the multi-step (least-action) and one-step (gradient) rule.
LEARNER_COLOURS = {"multi-step": "#1a9850", "one-step": "#c0392b"}

#: Figure 4a's beliefs about the gradient, in the saved panel and its explorer alike.
BELIEF_COLOURS = {"kalman": "#1e90ff", "ema": "#e67e22"}

#: One look per optimiser in every figure.
OPTIMISER_STYLE = {
    "sgd": {"label": "SGD", "color": "black", "ls": "-", "marker": "o"},
    "adam": {"label": "Adam", "color": "#d6204e", "ls": "-", "marker": "s"},
    "ballistic": {"label": "Ballistic", "color": "#1e90ff", "ls": "--", "marker": "^"},
}

_METADATA = {
    "png": {"Software": None},
    "pdf": {"Creator": None, "Producer": None, "CreationDate": None},
    "svg": {"Date": None},
}


@dataclass(frozen=True)
class Panel:
    """One panel: ``draw(axes)`` fills a list of ``rows`` x ``cols`` axes (row-major).

    Attributes:
        draw: callable taking the list of axes.
        rows: number of stacked axes (sharing x).
        cols: number of side-by-side axes.
        projection: matplotlib projection of the axes ("3d" for surfaces), or None.
        size: (width, height) in inches when rendered alone.
    """

    draw: Callable[[list], None]
    rows: int = 1
    cols: int = 1
    projection: str | None = None
    size: tuple[float, float] = (3.2, 3.0)


def _fill(container, panel: Panel) -> list:
    kw = {"projection": panel.projection} if panel.projection else {}
    if panel.rows == panel.cols == 1:
        axes = [container.add_subplot(1, 1, 1, **kw)]
    else:
        grid = container.subplots(panel.rows, panel.cols, sharex=panel.cols == 1, subplot_kw=kw)
        axes = list(np.atleast_1d(grid).ravel())
    panel.draw(axes)
    return axes


def render_panel(panel: Panel):
    """Draw ``panel`` alone in a new figure and return the figure."""
    # Non-interactive while building: in Jupyter's inline backend (interactive mode) every pyplot call would draw
    # the half-built figure, and the constrained layout of the final draw would then depend on those intermediate
    # draws, shifting lines by round-off and flipping anti-aliased pixels from run to run.
    with mpl.rc_context(STYLE), plt.ioff():
        fig = plt.figure(figsize=panel.size, layout="constrained")
        _fill(fig, panel)
    return fig


#: Tiling of composed figures, in pixels of the saved panels (savefig.dpi = 150): the gap between panels and
#: rows, the gutter left of each panel that holds its letter, and the letter's height (14 pt).
TILE_GAP, LETTER_GUTTER, LETTER_SIZE = 10, 30, 29

#: The letters' font: DejaVu Sans Bold as shipped inside matplotlib, so that every machine draws the same pixels.
LETTER_FONT = pathlib.Path(mpl.get_data_path(), "fonts", "ttf", "DejaVuSans-Bold.ttf")


def compose(prefix, layout, stem, letters: bool = True) -> pathlib.Path:
    """Compose the panels saved by ``save_panels(panels, prefix)`` into one figure, ``stem``.png.

    The panels' PNGs ``{prefix}_{name}.png`` are tiled row by row as ``layout`` says (e.g. [["a", "b"], ["c"]]):
    rows centred, panels top-aligned, each with its letter in a gutter at its top left. The composed figure is
    the panels' own pixels: nothing is drawn a second time, and it cannot disagree with results/. Written
    atomically, byte-stable (no metadata); returns the path.
    """
    from PIL import Image, ImageDraw, ImageFont

    rows = [list(row) for row in layout]
    names = [name for row in rows for name in row]
    if not names or any(not row for row in rows) or len(set(names)) != len(names):
        raise ValueError(
            f"Invalid layout value: {layout!r}; expected rows of distinct panel names, e.g. [['a', 'b'], ['c']]."
        )
    files = {name: pathlib.Path(f"{prefix}_{name}.png") for name in names}
    missing = [str(f) for f in files.values() if not f.is_file()]
    if missing:
        raise FileNotFoundError(
            f"No saved panel {', '.join(missing)}: compose tiles the PNGs that save_panels(panels, {str(prefix)!r}) "
            "writes; save the panels first, or fix the layout's names."
        )
    images = {}
    for name, f in files.items():
        with Image.open(f) as im:
            images[name] = im.convert("RGB")
    gutter = LETTER_GUTTER if letters else 0
    widths = [sum(images[n].width + gutter for n in row) + TILE_GAP * (len(row) - 1) for row in rows]
    heights = [max(images[n].height for n in row) for row in rows]
    canvas = Image.new("RGB", (max(widths), sum(heights) + TILE_GAP * (len(rows) - 1)), "white")
    draw, font = ImageDraw.Draw(canvas), ImageFont.truetype(str(LETTER_FONT), LETTER_SIZE)
    y = 0
    for row, width, height in zip(rows, widths, heights, strict=True):
        x = (canvas.width - width) // 2
        for name in row:
            canvas.paste(images[name], (x + gutter, y))
            if letters:
                draw.text((x + 2, y + 2), name, fill="black", font=font, anchor="lt")
            x += gutter + images[name].width + TILE_GAP
        y += height + TILE_GAP
    path = pathlib.Path(stem).with_suffix(".png")
    with atomic_path(path) as tmp:
        canvas.save(tmp, format="PNG")
    return path


def quantise(values):
    """``values`` rounded to float32 precision (24-bit mantissa, ~7 significant digits), as float64.

    Computed data differ between CPUs in their last bits (SIMD kernels of numpy, OpenBLAS and torch
    sum and exponentiate in different orders); a drawn coordinate that differs in its 16th digit can
    still flip an anti-aliased pixel, a PDF number or an SVG id. Rounding to float32 maps both
    versions to the same number unless they straddle a float32 rounding boundary (probability about
    2^-29 per value for last-bit noise), and is far below anything visible.
    """
    arr = np.asarray(values, dtype=np.float64)
    return arr.astype(np.float32).astype(np.float64)


def quantise_figure(fig) -> None:
    """Quantise, in place, everything drawn in ``fig`` that comes from data: line and collection coordinates,
    colour arrays, images, text positions in data coordinates, and the axes limits (computed now)."""
    for ax in fig.findobj(Axes):
        for line in ax.get_lines():
            line.set_data(quantise(line.get_xdata()), quantise(line.get_ydata()))
        for coll in ax.collections:
            if isinstance(coll, QuadMesh):
                coll._coordinates = quantise(coll._coordinates)  # no public setter
            elif getattr(coll, "_vec", None) is None:  # 2-D collections (3-D ones are analytic)
                for path in coll.get_paths():
                    if not path.readonly:  # read-only paths are markers, not data
                        path.vertices = quantise(path.vertices)
                coll.stale = True
            offsets = coll.get_offsets()
            if offsets is not None and len(offsets):
                coll.set_offsets(quantise(offsets))
            if coll.get_array() is not None:
                coll.set_array(quantise(coll.get_array()))
        for image in ax.get_images():
            image.set_data(quantise(image.get_array()))
        for text in ax.texts:
            if text.get_transform() == ax.transData:
                text.set_position(quantise(text.get_position()))
        if ax.name != "3d":
            ax.set_xlim(quantise(ax.get_xlim()))
            ax.set_ylim(quantise(ax.get_ylim()))


_SVG_ID = re.compile(r'id="([A-Za-z]+[0-9a-f]{8,})"')


def _stable_svg_ids(path: pathlib.Path) -> None:
    """Rename the hashed ids of an SVG (clip paths, glyphs, markers) to sequential ones in order of appearance,
    so that the file does not depend on the exact floats behind matplotlib's id hashes."""
    text = path.read_text()
    mapping = {}
    for old in _SVG_ID.findall(text):
        mapping.setdefault(old, f"{old.rstrip('0123456789abcdef') or 'id'}{len(mapping) + 1}")
    if mapping:
        pattern = re.compile("|".join(re.escape(k) for k in sorted(mapping, key=len, reverse=True)))
        text = pattern.sub(lambda m: mapping[m.group(0)], text)
    path.write_text(text)


def freeze_layout(fig, dpi: float) -> None:
    """Run ``fig``'s layout engine once at ``dpi`` (no rendering), round every subfigure and axes position to 1e-9
    of the figure, and keep that layout for every later draw, so that a figure saved in several formats or redrawn
    many times is laid out only once. Rounded because the constrained layout of nested subfigures iterates over
    objects in an order that depends on their memory addresses: its positions differ between processes in the
    last bits, which would shift whole panels by round-off and flip anti-aliased pixels."""
    old_dpi = fig.dpi
    fig.set_dpi(dpi)
    engine = fig.get_layout_engine()
    if engine is not None:
        engine.execute(fig)
    # No engine at all, not "none": "none" leaves a placeholder engine, and savefig then lays out (draws without
    # rendering) before every save, which doubles its cost. The rc guard keeps None from picking an engine again.
    with mpl.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
        fig.set_layout_engine(None)
    for sub in fig.findobj(lambda a: isinstance(a, mpl.figure.SubFigure)):
        sub.bbox_relative.set_points(np.round(sub.bbox_relative.get_points(), 9))
    for ax in fig.findobj(Axes):
        ax.set_position(np.round(ax.get_position(original=False).bounds, 9), which="both")
    fig.set_dpi(old_dpi)


def save_figure(fig, stem, formats=("png", "svg", "pdf")) -> list[pathlib.Path]:
    """Save ``fig`` as stem.png/.svg/.pdf, each atomically and byte-stable: no dates or versions, drawn data
    quantised (``quantise_figure``) so that last-bit differences between CPUs cannot reach the bytes, and SVG
    ids numbered in order of appearance."""
    stem = pathlib.Path(stem)
    written = []
    with mpl.rc_context(STYLE), plt.ioff():
        quantise_figure(fig)
        freeze_layout(fig, mpl.rcParams["savefig.dpi"])  # one layout, at the PNG's resolution, for all formats
        for fmt in formats:
            path = stem.with_suffix(f".{fmt}")
            with atomic_path(path) as tmp:
                fig.savefig(tmp, format=fmt, metadata=_METADATA[fmt])
                if fmt == "svg":
                    _stable_svg_ids(tmp)
            written.append(path)
    return written


def show_saved(path) -> None:
    """Display the PNG saved at ``path`` in the notebook: the reader sees exactly the file.

    Independent of the kernel's matplotlib backend (``make figures`` and ``make test`` run the kernels with
    MPLBACKEND=agg, where ``plt.show()`` shows nothing; JupyterLab uses the inline backend).
    """
    from IPython.display import Image, display

    display(Image(filename=str(path)))


def save_panels(panels: dict[str, Panel], prefix, formats=("png", "svg", "pdf")) -> list[pathlib.Path]:
    """Render each panel alone and save it as ``{prefix}_{name}.{fmt}``; returns the paths."""
    written = []
    for name, panel in panels.items():
        fig = render_panel(panel)
        written += save_figure(fig, f"{prefix}_{name}", formats)
        plt.close(fig)
    return written


def _box(lim) -> tuple:
    """(xmin, xmax, ymin, ymax): the square [-lim, lim]^2 for a scalar ``lim``, else ``lim`` itself."""
    return (-lim, lim, -lim, lim) if np.isscalar(lim) else tuple(lim)


def loss_grid(loss, lim, n: int):
    """(X, Y, Z = L(X, Y)) on an n x n grid of the square [-lim, lim]^2 (or of (xmin, xmax, ymin, ymax))."""
    xmin, xmax, ymin, ymax = _box(lim)
    X, Y = np.meshgrid(np.linspace(xmin, xmax, n), np.linspace(ymin, ymax, n))
    return X, Y, loss(np.stack([X, Y], axis=-1))


def loss_heatmap(ax, loss, lim, n: int = 301, cmap="viridis", contour_color="white", levels=10, alpha=1.0):
    """Heatmap of L(theta) on the square [-lim, lim]^2 (or (xmin, xmax, ymin, ymax)) with ``levels`` contours
    (none when 0); returns the image (``image.set_data`` recolours it)."""
    xmin, xmax, ymin, ymax = _box(lim)
    X, Y, Z = loss_grid(loss, lim, n)
    image = ax.imshow(
        Z,
        origin="lower",
        extent=(xmin, xmax, ymin, ymax),
        cmap=cmap,
        alpha=alpha,
        aspect="auto",
        interpolation="bilinear",
    )
    if levels:
        ax.contour(X, Y, Z, levels=levels, colors=contour_color, linewidths=0.6, alpha=0.8, negative_linestyles="solid")
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    return image
