"""Live explorers of the theory figures: sliders over the parameters that carry each figure's story.

Each ``figN_explorer`` returns an ``Explorer``: a small matplotlib figure (no pyplot, so nothing is shown
twice), the sliders' ranges, and ``update(**values)``, which recomputes with closed forms or a warm-started
least-action solve, redraws the figure in place and returns the headline numbers. ``widget(explorer)``
wires ipywidgets sliders to it and shows the figure as a PNG image widget. Explorers never write files:
results/ and fig_images/ belong to the notebooks' main cells.

  fig1: gamma, T, start point -> least-action path (warm start) vs gradient flow over the double well, S,
        and the basin where each learner ends.
  fig2: gamma, H11/H22 -> the optimal trajectory vs the far-sighted (gamma = 0) one over the loss, and the
        rate ratio r1/r2 against its linear (gamma >> 1) and square-root (gamma = 0) limits.
  fig2 (real model): gamma -> the predicted rates r(h) over the real model's spectrum (E1, logistic regression on
        MNIST), with the rates measured mode by mode along the solved optimal path at the recorded gamma nearest
        to the slider, and the log-log slope of rate against curvature, predicted and measured, against gamma.
  fig3: metric ratio, q, j, gamma -> the paths under a metric, a rotation and a decay, their end points and
        the distance of each to the minimum mu.
  fig4: sigma^2/q -> beta1 and a filter-vs-EMA trace; task correlation c -> cumulative loss against the reset
        fraction and the belief-optimal reset 1 - c.
"""

from __future__ import annotations

import dataclasses
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import matplotlib as mpl
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from .beliefs import beta1_from_noise_ratio, ema, kalman_filter, optimal_reset_fraction
from .bvp import ConvergenceError
from .closed_form import quadratic_optimum, rate_ratio
from .flows import gradient_flow
from .geometry import DecayDrift, RotationDrift, diagonal_metric
from .landscapes import DoubleWell, Quadratic
from .least_action import minimise_action
from .lq import rates
from .objective import Problem
from .plotting import BELIEF_COLOURS, LEARNER_COLOURS, STYLE, freeze_layout, loss_grid, loss_heatmap
from .tasks import cumulative_losses, measured_optimal_fraction

__all__ = ["Explorer", "Slider", "fig1_explorer", "fig2_explorer", "fig2_real_explorer", "fig3_explorer",
           "fig4_explorer", "widget"]  # fmt: skip


@dataclass(frozen=True)
class Slider:
    """A slider: range, step and initial value; ``log`` sliders move the base-10 exponent."""

    low: float
    high: float
    step: float
    value: float
    label: str
    log: bool = False

    def __post_init__(self):
        """A start value outside the range widens the range to it (never a silent clamp to the nearest end)."""
        value = float(self.value)
        if not np.isfinite(value):
            raise ValueError(f"Invalid {self.label} slider value: {self.value!r}; expected a finite number.")
        object.__setattr__(self, "low", min(float(self.low), value))
        object.__setattr__(self, "high", max(float(self.high), value))


@dataclass
class Explorer:
    """A live figure: ``update(**values)`` recomputes, redraws in place and returns the headline numbers.

    ``dynamic`` are the artists ``update`` changes (lines, markers, titles, a recoloured image); the rest of the
    figure is drawn once and reused (blitting) until an axis' limits change.
    """

    figure: Figure
    sliders: dict[str, Slider]
    update: Callable[..., dict]
    dynamic: list = field(default_factory=list)
    last: dict = field(default_factory=dict)
    _background: object = None
    _limits: list = field(default_factory=list)

    def initial(self) -> dict:
        """The sliders' initial values (in the parameters' own units)."""
        return {k: 10**s.value if s.log else s.value for k, s in self.sliders.items()}

    def png(self) -> bytes:
        """The figure as PNG bytes (what the widget shows).

        First call: lay the figure out once (``plotting.freeze_layout``), draw the static part and keep it. Later
        calls restore it and draw only the dynamic artists, unless an axis' limits changed.
        """
        fig, canvas = self.figure, self.figure.canvas
        if self._background is None:
            freeze_layout(fig, fig.dpi)
        limits = [(ax.get_xlim(), ax.get_ylim()) for ax in fig.axes]
        if self._background is None or limits != self._limits:
            for artist in self.dynamic:
                artist.set_animated(True)
            canvas.draw()
            self._background, self._limits = canvas.copy_from_bbox(fig.bbox), limits
        else:
            canvas.restore_region(self._background)
        for artist in self.dynamic:
            fig.draw_artist(artist)
        image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        buf = io.BytesIO()
        image.save(buf, format="png", compress_level=1)
        return buf.getvalue()

    def redraw(self, **values) -> tuple[dict, bytes, float]:
        """Update with ``values`` and render: (numbers, PNG bytes, seconds taken)."""
        start = time.perf_counter()
        self.last = self.update(**values)
        image = self.png()
        return self.last, image, time.perf_counter() - start


def _figure(width: float, height: float, ncols: int) -> tuple[Figure, list]:
    fig = Figure(figsize=(width, height), dpi=80, layout="constrained")
    FigureCanvasAgg(fig)
    with mpl.rc_context(STYLE):
        axes = list(np.atleast_1d(fig.subplots(1, ncols)))
    return fig, axes


#: Grid of the explorers' loss heatmaps (coarser than the saved panels': redrawn on every move in fig2).
GRID = 121


def _background(ax, loss, box):
    """The loss as a heatmap (no contours: cheaper to recolour); returns the image."""
    image = loss_heatmap(ax, loss, box, n=GRID, levels=0, alpha=0.8)
    ax.set(xlabel=r"$\theta_1$", ylabel=r"$\theta_2$")
    return image


def _fmt(point) -> str:
    return "(" + ", ".join(f"{float(x):+.3f}" for x in point) + ")"


# Figure 1 ---------------------------------------------------------------------------------------------------


def fig1_explorer(loss: DoubleWell, theta0, theta_T, gamma: float, T: float, eta: float = 1.0, k: float = 1.0,
                  n_points: int = 50, t_one_step: float = 8.0, lim: float = 1.5) -> Explorer:  # fmt: skip
    """gamma, T and the start point: least-action path (warm-started from the previous one) vs gradient flow."""
    theta_T = np.asarray(theta_T, dtype=float)
    fig, (ax,) = _figure(4.6, 3.8, 1)
    _background(ax, loss, (-lim, lim, -lim, lim))
    (multi,) = ax.plot([], [], color=LEARNER_COLOURS["multi-step"], lw=2, label="multi-step (least action)")
    (one,) = ax.plot([], [], color=LEARNER_COLOURS["one-step"], lw=2, ls="--", label="one-step (gradient flow)")
    (start,) = ax.plot([], [], "o", color="black", ms=5)
    ax.plot(*theta_T, "*", color="white", ms=10)
    ax.legend(loc="lower left", fontsize=7)
    title = ax.set_title("", fontsize=8)
    state = {"guess": None}

    def update(gamma=gamma, T=T, x0=theta0[0], y0=theta0[1]) -> dict:
        problem = Problem(loss, gamma=gamma, eta=eta, k=k)
        th0 = np.array([x0, y0])
        try:
            path = minimise_action(problem, th0, T, theta_T=theta_T, n_points=n_points, guess=state["guess"])
        except ConvergenceError as err:  # keep the last drawing; say why on the figure
            title.set_text(f"no least-action path for these values: {str(err)[:60]}...")
            return {"error": str(err)}
        state["guess"] = path.theta[1:-1]
        flow = gradient_flow(loss, th0, np.linspace(0.0, t_one_step, 200), lr=eta * k, rtol=1e-8, atol=1e-10)
        multi.set_data(path.theta[:, 0], path.theta[:, 1])
        one.set_data(flow[:, 0], flow[:, 1])
        start.set_data([x0], [y0])
        numbers = {"S": path.J / T, "multi_step_basin": loss.basin(path.theta[-1]),
                   "one_step_basin": loss.basin(flow[-1]), "one_step_end": flow[-1],
                   "lbfgs_iterations": path.info.n_iter}  # fmt: skip
        title.set_text(f"S = {numbers['S']:.4f}; multi-step ends in the {numbers['multi_step_basin']} basin, "
                       f"one-step in the {numbers['one_step_basin']}")  # fmt: skip
        return numbers

    sliders = {"gamma": Slider(0.0, 2.0, 0.05, gamma, "γ"), "T": Slider(1.0, 8.0, 0.25, T, "T"),
               "x0": Slider(-lim, lim, 0.05, theta0[0], "θ₁(0)"),
               "y0": Slider(-lim, lim, 0.05, theta0[1], "θ₂(0)")}  # fmt: skip
    return Explorer(fig, sliders, update, dynamic=[multi, one, start, title])


# Figure 2 ---------------------------------------------------------------------------------------------------


def fig2_explorer(theta0, gamma: float, ratio: float, eta: float = 1.0, k: float = 1.0, T: float = 60.0,
                  box=(-4.0, 0.5, -3.2, 0.5), ratio_range=(0.01, 4.0)) -> Explorer:  # fmt: skip
    """gamma and H11/H22 (H22 = 1): trajectories at gamma and at 0 over the loss; r1/r2 against its limits."""
    theta0 = np.asarray(theta0, dtype=float)
    fig, (ax, ax_r) = _figure(7.0, 3.2, 2)
    image = _background(ax, Quadratic([ratio, 1.0]), box)
    (far,) = ax.plot([], [], color="#29b6f6", lw=2, label=r"$\gamma = 0$")
    (now,) = ax.plot([], [], color="black", lw=2, label=r"$\gamma$ (slider)")
    ax.plot(0, 0, "o", color="red", ms=6)
    ax.legend(loc="lower right", fontsize=7)
    x = np.geomspace(*ratio_range, 200)
    ax_r.plot(x, x, ":", color="0.5", lw=1, label=r"linear ($\gamma \gg 1$)")
    ax_r.plot(x, np.sqrt(x), "--", color="0.5", lw=1, label=r"square root ($\gamma = 0$)")
    (curve,) = ax_r.plot([], [], color="black", lw=2, label=r"$r_1/r_2$ at $\gamma$")
    (marker,) = ax_r.plot([], [], "o", color="black", mfc="white")
    ax_r.set(xlabel=r"$H_{11}/H_{22}$", ylabel=r"$r_1/r_2$", xlim=ratio_range, ylim=(0, ratio_range[1]))
    ax_r.legend(fontsize=7, loc="upper left")
    title = ax_r.set_title("", fontsize=8)
    t = np.concatenate([np.linspace(0.0, 5.0, 200), np.geomspace(5.0, T, 200)[1:]])

    def update(gamma=gamma, ratio=ratio) -> dict:
        loss = Quadratic([ratio, 1.0])
        image.set_data(loss_grid(loss, box, GRID)[2])
        image.autoscale()
        for line, g in ((far, 0.0), (now, gamma)):
            path = quadratic_optimum(Problem(loss, gamma=g, eta=eta, k=k), theta0)(t)
            line.set_data(path[:, 0], path[:, 1])
        curve.set_data(x, rate_ratio(x, 1.0, gamma, eta, k))
        r = float(rate_ratio(ratio, 1.0, gamma, eta, k))
        marker.set_data([ratio], [r])
        title.set_text(f"r1/r2 = {r:.3f} (linear {ratio:.3f}, square root {np.sqrt(ratio):.3f})")
        return {"rate_ratio": r, "linear": ratio, "square_root": float(np.sqrt(ratio))}

    lo, hi = np.log10(ratio_range)
    sliders = {"gamma": Slider(0.0, 20.0, 0.1, gamma, "γ"),
               "ratio": Slider(lo, hi, 0.02, np.log10(ratio), "H₁₁/H₂₂", log=True)}  # fmt: skip
    return Explorer(fig, sliders, update, dynamic=[image, far, now, curve, marker, title])


def _spectrum_slope(h, gamma: float, eta: float, k: float) -> float:
    """Least-squares slope of log r(h) on log h over the spectrum ``h``."""
    return float(np.polyfit(np.log(h), np.log(rates(h, gamma, eta, k)), 1)[0])


def fig2_real_explorer(record: dict, gamma: float, start: str = "near") -> Explorer:
    """gamma: r(h) over the real spectrum of E1's record (``real_model_runs.e1_record``), the measured rates from
    ``start`` at the recorded gamma nearest to the slider (in log), and the slope of rate against curvature."""
    h = np.asarray(record["h"], dtype=float)
    cfg = record["config"]
    eta, k = cfg["eta"], cfg["k"]
    cases = [c for c in record["cases"] if c["start"] == start]
    if not cases:
        raise ValueError(
            f"Invalid start value: {start!r}; the record has {sorted({c['start'] for c in record['cases']})}."
        )
    recorded = np.array([c["gamma"] for c in cases])
    fig, (ax, ax_s) = _figure(7.0, 3.2, 2)
    (curve,) = ax.loglog([], [], color="black", lw=2, label=r"$r(h)$ at $\gamma$ (slider)")
    (near_curve,) = ax.loglog([], [], "--", color="#e67e22", lw=1, label=r"$r(h)$ at the recorded $\gamma$")
    (dots,) = ax.loglog([], [], "o", color="#e67e22", ms=3, mfc="none", label="measured (solved path)")
    r_all = np.concatenate([rates(h, g, eta, k) for g in (recorded.min(), recorded.max())])
    ax.set(xlabel="curvature $h$ (eigenvalue of $H$ at $\\theta^*$)", ylabel="decay rate",
           xlim=(h.min() / 1.5, h.max() * 1.5), ylim=(r_all.min() / 3, r_all.max() * 3))  # fmt: skip
    ax.legend(fontsize=6, loc="upper left")
    grid = np.geomspace(recorded.min(), recorded.max(), 200)
    ax_s.semilogx(grid, [_spectrum_slope(h, g, eta, k) for g in grid], color="black", lw=1.5,
                  label="predicted, whole spectrum")  # fmt: skip
    ax_s.semilogx(recorded, [c["slope"] for c in cases], "o", color="#e67e22", ms=4, label="measured (E1)")
    ax_s.semilogx(recorded, [c["slope_predicted"] for c in cases], "x", color="black", ms=5,
                  label="predicted, the measured modes")  # fmt: skip
    (mark,) = ax_s.semilogx([], [], "s", color="black", mfc="white", ms=6)
    ax_s.axhline(0.5, ls=":", color="0.5", lw=1)
    ax_s.axhline(1.0, ls=":", color="0.5", lw=1)
    ax_s.set(xlabel=r"$\gamma$", ylabel="slope of log rate on log $h$", ylim=(0.4, 1.1))
    ax_s.legend(fontsize=6, loc="upper left")
    title = ax.set_title("", fontsize=8)

    def update(gamma=gamma) -> dict:
        i = int(np.argmin(np.abs(np.log(recorded) - np.log(gamma))))
        case = cases[i]
        curve.set_data(h, rates(h, gamma, eta, k))
        near_curve.set_data(h, rates(h, case["gamma"], eta, k))
        fitted = np.array([r is not None for r in case["rate"]])
        dots.set_data(h[fitted], np.array([r for r in case["rate"] if r is not None]))
        slope = _spectrum_slope(h, gamma, eta, k)
        mark.set_data([gamma], [slope])
        title.set_text(f"slope {slope:.3f} at gamma = {gamma:.3g}; measured {case['slope']:.3f} at "
                       f"{case['gamma']:.3g} ({int(fitted.sum())} modes)")  # fmt: skip
        return {"slope_predicted": slope, "gamma_measured": case["gamma"], "slope_measured": case["slope"],
                "n_fitted": int(fitted.sum())}  # fmt: skip

    lo, hi = np.log10(recorded.min()), np.log10(recorded.max())
    sliders = {"gamma": Slider(lo, hi, 0.05, np.log10(gamma), "γ", log=True)}
    return Explorer(fig, sliders, update, dynamic=[curve, near_curve, dots, mark, title])


# Figure 3 ---------------------------------------------------------------------------------------------------


def fig3_explorer(h, mu, theta0, gamma: float, g_ratio: float, q: float, j: float, eta: float = 1.0, k: float = 1.0,
                  T: float = 100.0, lim: float = 2.0) -> Explorer:  # fmt: skip
    """Metric ratio G11/G22, rotation q, decay j and gamma: the three bent paths, their ends and distances to mu."""
    loss, theta0, mu = Quadratic(h, mu), np.asarray(theta0, dtype=float), np.asarray(mu, dtype=float)
    fig, axes = _figure(9.0, 3.2, 3)
    lines, ends, titles = [], [], []
    for ax, name in zip(axes, ("metric $G$", "rotation $f$", "decay $f$"), strict=True):
        _background(ax, loss, (-lim, lim, -lim, lim))
        ax.plot(*mu, "o", color="red", ms=6)
        ax.plot(*theta0, "o", color="black", ms=4)
        lines.append(ax.plot([], [], color="white", lw=2)[0])
        ends.append(ax.plot([], [], "o", color="orange", ms=6)[0])
        titles.append(ax.set_title(name, fontsize=8))
    t = np.concatenate([np.linspace(0.0, 4.0, 500), np.geomspace(4.0, T, 100)[1:]])

    def update(gamma=gamma, g_ratio=g_ratio, q=q, j=j) -> dict:
        base = Problem(loss, gamma=gamma, eta=eta, k=k)
        problems = {"metric": dataclasses.replace(base, metric=diagonal_metric([g_ratio, 1.0])),
                    "rotation": dataclasses.replace(base, drift=RotationDrift(q)),
                    "decay": dataclasses.replace(base, drift=DecayDrift(j))}  # fmt: skip
        numbers = {}
        for (name, problem), line, end, title in zip(problems.items(), lines, ends, titles, strict=True):
            opt = quadratic_optimum(problem, theta0)
            path = opt(t)
            line.set_data(path[:, 0], path[:, 1])
            end.set_data([opt.theta_star[0]], [opt.theta_star[1]])
            distance = float(np.linalg.norm(opt.theta_star - mu))
            title.set_text(f"{name}: end {_fmt(opt.theta_star)}\n|end - μ| = {distance:.3f}")
            numbers[name] = {"end": opt.theta_star, "distance_to_mu": distance}
        return numbers

    sliders = {"gamma": Slider(0.0, 5.0, 0.1, gamma, "γ"),
               "g_ratio": Slider(-2.0, 0.0, 0.05, np.log10(g_ratio), "G₁₁/G₂₂", log=True),
               "q": Slider(0.0, 20.0, 0.5, q, "q"), "j": Slider(0.0, 20.0, 0.5, j, "j")}  # fmt: skip
    return Explorer(fig, sliders, update, dynamic=[*lines, *ends, *titles])


# Figure 4 ---------------------------------------------------------------------------------------------------


def fig4_explorer(noise_ratio: float, c: float, steps: int = 300, seed: int = 0, rhos=None) -> Explorer:
    """sigma^2/q: beta1 = 1 - K* and the filter (= EMA) trace; c: cumulative loss against the reset fraction."""
    rhos = np.linspace(0.0, 1.0, 21) if rhos is None else np.asarray(rhos, dtype=float)
    rng = np.random.default_rng(seed)
    walk, noise = np.cumsum(rng.standard_normal(steps)), rng.standard_normal(steps)
    fig, (ax, ax_c) = _figure(7.5, 3.2, 2)
    (obs,) = ax.plot([], [], ".", color="0.7", ms=2, label="minibatch gradient")
    ax.plot(walk, color="black", lw=1, label="latent gradient")
    (filt,) = ax.plot([], [], color=BELIEF_COLOURS["kalman"], lw=1.5, label="Kalman belief")
    (avg,) = ax.plot([], [], color=BELIEF_COLOURS["ema"], lw=1, ls="--", label=r"EMA with $\beta_1 = 1 - K^*$")
    ax.set(xlabel="step", ylabel="gradient", ylim=_nice_range(walk, 3.0))  # fixed: noisy observations may leave it
    ax.legend(fontsize=6, loc="upper left")
    title = ax.set_title("", fontsize=8)
    (loss_line,) = ax_c.plot([], [], color="black", lw=2)
    belief_line = ax_c.axvline(0.5, color="#d6204e", ls="--", label=r"belief-optimal $\rho^* = 1 - c$")
    (best,) = ax_c.plot([], [], "o", color="#1e90ff", label="measured optimum")
    top = 1.1 * cumulative_losses([0.0], 0.0, n_tasks=200, n_sequences=10)[0]  # largest: independent tasks, no reset
    ax_c.set(xlabel=r"reset fraction $\rho$", ylabel="cumulative loss per task", xlim=(0, 1), ylim=(0, top))
    ax.set_xlim(0, steps)
    ax_c.legend(fontsize=7)
    title_c = ax_c.set_title("", fontsize=8)

    def update(noise_ratio=noise_ratio, c=c) -> dict:
        beta1 = float(beta1_from_noise_ratio(noise_ratio))
        y = walk + np.sqrt(noise_ratio) * noise  # q = 1
        belief, average = kalman_filter(y, 1.0, noise_ratio).mean, ema(y, beta1)
        for line, data in ((obs, y), (filt, belief), (avg, average)):
            line.set_data(np.arange(steps), data)

        title.set_text(f"σ²/q = {noise_ratio:.3g}: β1 = {beta1:.4f}; max |filter - EMA| = "
                       f"{np.max(np.abs(belief - average)):.1e}")  # fmt: skip
        losses = cumulative_losses(rhos, c, n_tasks=200, n_sequences=10)
        measured = measured_optimal_fraction(rhos, losses)
        loss_line.set_data(rhos, losses)
        belief_line.set_xdata([1 - c, 1 - c])
        best.set_data([measured], [np.interp(measured, rhos, losses)])
        title_c.set_text(f"c = {c:.2f}: optimal reset {optimal_reset_fraction(c):.3f}, measured {measured:.3f}")
        return {"beta1": beta1, "optimal_reset": optimal_reset_fraction(c), "measured_reset": measured}

    sliders = {"noise_ratio": Slider(-1.0, 4.0, 0.05, np.log10(noise_ratio), "σ²/q", log=True),
               "c": Slider(0.0, 0.95, 0.05, c, "task correlation c")}  # fmt: skip
    return Explorer(fig, sliders, update, dynamic=[obs, filt, avg, title, loss_line, belief_line, best, title_c])


def _nice_range(values, margin: float) -> tuple[float, float]:
    """Symmetric-ish limits around ``values`` widened by ``margin``, rounded out to 1-2-5 steps."""

    def up(x):
        e = 10 ** np.floor(np.log10(x))
        return float(min(m * e for m in (1, 2, 5, 10) if m * e >= x))

    return -up(max(-values.min(), 0) + margin + 1e-9), up(max(values.max(), 0) + margin + 1e-9)


# The widget ---------------------------------------------------------------------------------------------------


def widget(explorer: Explorer):
    """ipywidgets sliders, the live figure (a PNG image widget) and a line of numbers, wired to ``explorer``."""
    import ipywidgets as w

    controls = {}
    for name, s in explorer.sliders.items():
        cls = w.FloatLogSlider if s.log else w.FloatSlider
        kw = {"base": 10, "min": s.low, "max": s.high} if s.log else {"min": s.low, "max": s.high}
        controls[name] = cls(value=10**s.value if s.log else s.value, step=s.step, description=s.label,
                             continuous_update=True, readout_format=".3g", **kw)  # fmt: skip
    image = w.Image(format="png")
    status = w.HTML()

    def refresh(_change=None):
        _, png, seconds = explorer.redraw(**{name: c.value for name, c in controls.items()})
        image.value = png
        status.value = f"<small>redrawn in {seconds * 1e3:.0f} ms</small>"

    for c in controls.values():
        c.observe(refresh, names="value")
    refresh()
    return w.VBox([w.HBox(list(controls.values()), layout=w.Layout(flex_flow="row wrap")), image, status])
