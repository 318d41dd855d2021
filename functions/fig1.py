"""Figure 1: a multi-step (least-action) learner leaves a local basin that the one-step rule cannot.

``compute`` runs the three solvers (direct minimisation of the discretised action, the fixed-end
boundary-value solver that confirms it, gradient flow for the one-step rule); ``headline`` turns
them into the printed numbers; ``panels`` draws panels a-c from them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import check_in_box, check_int, check_positive
from ._params import FigureParams, real, vector
from .bvp import solve_bvp
from .flows import gradient_flow
from .landscapes import DoubleWell, schematic_double_well
from .least_action import MAX_DISCOUNT_EXPONENT, minimise_action, shortest_horizon
from .objective import Problem, kinetic_per_step
from .paths import Path
from .plotting import LEARNER_COLOURS, Panel, loss_heatmap, quantise
from .results_io import fmt_point

__all__ = ["MAX_POINTS", "Fig1Data", "Params", "compute", "e5_headline", "e5_panels", "e5_report", "headline", "panels",
           "report", "schematic_paths"]  # fmt: skip

MULTI, ONE, START = LEARNER_COLOURS["multi-step"], LEARNER_COLOURS["one-step"], "black"


@dataclass(frozen=True)
class Fig1Data:
    """Everything Figure 1 shows: the problem, both learners' paths and the BVP check."""

    problem: Problem
    multi: Path
    bvp: Path
    one_t: np.ndarray
    one_theta: np.ndarray


#: Largest N_POINTS: the least-action solver's dense preconditioner holds (2 N)^2 numbers (2,000 points: 128 MB).
MAX_POINTS = 2000


@dataclass(frozen=True, kw_only=True)
class Params(FigureParams):
    """Figure 1's parameters (the paper's values by default); every value is checked when the object is made."""

    a: float = 1.0  # double well L = a (theta_1^2 - b)^2 + c theta_2^2 + d theta_1
    b: float = 1.0
    c: float = 1.0
    d: float = -0.5  # d < 0 makes the right well global
    gamma: float = 0.1  # temporal discount rate; 1/gamma is the planning horizon
    eta: float = 1.0  # kinetic weight 1/(2 eta)
    k: float = 1.0  # loss weight
    T: float = 4.0  # horizon of the multi-step path
    n_points: int = 50  # equally spaced time points of the discretised path, ends included
    theta0: tuple[float, ...] = (-0.6, 0.55)  # start, inside the local basin
    theta_T: tuple[float, ...] = (1 + 1 / 16, 0.0)  # fixed end of the multi-step path, near the global minimum
    t_one_step: float = 8.0  # how long the one-step rule (gradient flow) runs
    plot_lim: float = 1.5  # panel b shows [-plot_lim, plot_lim]^2

    def __post_init__(self):
        self._check_outputs()
        names = ("a", "b", "c", "d", "gamma", "eta", "k", "T", "t_one_step", "plot_lim")
        self._set(theta0=vector(self.theta0, "THETA0", 2), theta_T=vector(self.theta_T, "THETA_T", 2),
                  n_points=check_int(self.n_points, "N_POINTS", 3, MAX_POINTS),
                  **{n: real(getattr(self, n), n if len(n) == 1 else n.upper()) for n in names})  # fmt: skip
        self.problem()  # validates the loss and the weights
        check_positive(self.T, "T")
        T_min = shortest_horizon(self.problem(), self.theta0, self.theta_T, self.n_points)
        if self.T < T_min:
            raise ValueError(
                f"Invalid T value: {self.T:g}; over so short a horizon the multi-step path's action cannot be "
                f"minimised to its tolerance in double precision (the kinetic term's rounding, "
                f"least_action.shortest_horizon): set T >= {T_min:.3g} or fewer N_POINTS."
            )
        if self.gamma * self.T > MAX_DISCOUNT_EXPONENT:
            raise ValueError(
                f"Invalid GAMMA value: GAMMA * T = {self.gamma * self.T:g} > {MAX_DISCOUNT_EXPONENT:g}, where the "
                "weight e^(-GAMMA t) underflows in double precision and the multi-step path is undetermined; lower "
                "GAMMA or T."
            )
        check_positive(self.t_one_step, "T_ONE_STEP")
        lim = check_positive(self.plot_lim, "PLOT_LIM")
        for name, point in (("THETA0", self.theta0), ("THETA_T", self.theta_T)):
            check_in_box(point, name, (-lim, lim, -lim, lim), "[-PLOT_LIM, PLOT_LIM]^2")

    def problem(self) -> Problem:
        """The double-well problem of panels b-c."""
        return Problem(DoubleWell(a=self.a, b=self.b, c=self.c, d=self.d), gamma=self.gamma, eta=self.eta, k=self.k)


def compute(params: Params, n_one_step: int = 401) -> Fig1Data:
    """Multi-step path (least action, fixed ends), its BVP confirmation, and the one-step flow.

    The one-step rule is gradient flow theta_dot = -eta k grad L (the gamma >> 1 limit with the
    planning horizon shrunk to a single step), run for ``t_one_step``.
    """
    problem = params.problem()
    multi = minimise_action(problem, params.theta0, params.T, theta_T=params.theta_T, n_points=params.n_points)
    bvp = solve_bvp(problem, params.theta0, params.T, theta_T=params.theta_T)
    one_t = np.linspace(0.0, params.t_one_step, n_one_step)
    one_theta = gradient_flow(problem.loss, params.theta0, one_t, lr=problem.eta * problem.k)
    return Fig1Data(problem, multi, bvp, one_t, one_theta)


def headline(data: Fig1Data) -> dict:
    """The numbers Figure 1's notebook prints and stores in results/fig1.json."""
    loss, multi = data.problem.loss, data.multi
    L_path = loss(multi.theta)
    kinetic = kinetic_per_step(multi.theta)
    return {
        "S": multi.J / multi.t[-1],
        "multi_step_end": multi.theta[-1],
        "multi_step_basin": loss.basin(multi.theta[-1]),
        "one_step_end": data.one_theta[-1],
        "one_step_basin": loss.basin(data.one_theta[-1]),
        "max_loss_rise": float(L_path.max() - L_path[0]),
        "t_max_loss": float(multi.t[np.argmax(L_path)]),
        "t_peak_kinetic": float(multi.t[np.argmax(kinetic)]),
        "peak_kinetic": float(kinetic.max()),
        "max_dist_direct_vs_bvp": float(np.max(np.linalg.norm(data.bvp(multi.t) - multi.theta, axis=1))),
        "lbfgs_iterations": multi.info.n_iter,
    }


#: Panel a's two learners on the schematic surface: the start, and where each one goes (x, y).
SCHEMATIC_START = (-0.9, 0.3)
SCHEMATIC_ONE_STEP_END = (-2.0, 0.0)  # the near, shallow well
SCHEMATIC_MULTI_STEP_END = (2.0, 0.0)  # over the ridge, into the deep well


def schematic_paths(n: int = 60) -> dict[str, np.ndarray]:
    """Panel a's learners as (n, 3) curves on the surface: the one-step learner slides into the near, shallow
    well; the multi-step learner climbs the ridge and drops into the deep one (drawn slightly above the surface)."""
    s = np.linspace(0.0, 1.0, n)
    out = {}
    for name, end, bow in (("one_step", SCHEMATIC_ONE_STEP_END, 0.0), ("multi_step", SCHEMATIC_MULTI_STEP_END, -0.6)):
        x = SCHEMATIC_START[0] + s * (end[0] - SCHEMATIC_START[0])
        y = SCHEMATIC_START[1] + s * (end[1] - SCHEMATIC_START[1]) + bow * np.sin(np.pi * s)
        out[name] = quantise(np.stack([x, y, schematic_double_well(x, y) + 0.03], axis=1))
    return out


def _surface(axes) -> None:
    ax = axes[0]
    x = np.linspace(-3.2, 3.2, 81)
    X, Y = np.meshgrid(x, np.linspace(-2.4, 2.4, 61))
    Z = quantise(schematic_double_well(X, Y))  # np.exp differs in the last bits between SIMD kernels
    ax.plot_surface(X, Y, Z, cmap="viridis", linewidth=0, antialiased=True, rstride=2, cstride=2, alpha=0.85)
    for xw, label in ((-2.0, "local min"), (2.0, "global min")):
        ax.text(xw, 0.0, schematic_double_well(xw, 0.0) - 0.3, label, ha="center", fontsize=8)
    paths = schematic_paths()
    for name, color, ls, text in (
        ("one_step", ONE, "--", "one-step learner: nearest well"),
        ("multi_step", MULTI, "-", "multi-step learner: over the ridge"),
    ):
        p = paths[name]
        ax.plot(p[:, 0], p[:, 1], p[:, 2], color=color, ls=ls, lw=2.2, zorder=10, label=text)
        ax.scatter(*p[-1], color=color, s=18, zorder=11)
    ax.scatter(*paths["one_step"][0], color="black", s=18, zorder=11, label="start")
    ax.legend(loc="upper left", fontsize=7, bbox_to_anchor=(0.0, 0.98))
    ax.set_axis_off()
    ax.view_init(elev=30, azim=-75)
    ax.set_title("one loss, two learners", fontsize=9)


def _label_along(ax, path, frac, text, color, offset):
    """Label ``path`` at fraction ``frac`` of its arc length, offset in points."""
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(path, axis=0), axis=1))])
    i = int(np.searchsorted(arc, frac * arc[-1]))
    ax.annotate(
        text,
        path[i],
        xytext=offset,
        textcoords="offset points",
        color=color,
        fontsize=9,
        fontweight="bold",
        ha="center",
    )


def _coef(x: float) -> str:
    """A coefficient for a printed equation: omitted when it is 1."""
    return "" if x == 1 else f"{x:g}\\,"


def _paths(data: Fig1Data, lim: float):
    def draw(axes) -> None:
        ax, loss = axes[0], data.problem.loss
        loss_heatmap(ax, loss, lim, cmap="RdBu", levels=12)
        dense = data.bvp(np.linspace(0, data.multi.t[-1], 400))
        ax.plot(dense[:, 0], dense[:, 1], color=MULTI, lw=2.5, label="multi-step (BVP)")
        ax.plot(
            *data.multi.theta.T,
            "o",
            color=MULTI,
            ms=2.2,
            mec="white",
            mew=0.3,
            label="multi-step (least action, 50 pts)",
        )
        ax.plot(*data.one_theta.T, color=ONE, lw=2.5, label="one-step (gradient flow)")
        ax.plot(*data.multi.theta[0], "o", color=START, ms=7, zorder=5)
        ax.plot(*data.one_theta[-1], "s", color=ONE, ms=8, mec="white", zorder=5)
        ax.plot(*data.multi.theta[-1], "*", color=MULTI, ms=14, mec="white", zorder=5)
        _label_along(ax, dense, 0.45, "multi-step", MULTI, (0, 9))
        _label_along(ax, data.one_theta, 0.5, "one-step", ONE, (-30, 4))
        for m in loss.minima():
            kind = loss.basin(m)
            ax.annotate(
                f"{kind} min",
                m,
                xytext=(0, -28),
                textcoords="offset points",
                ha="center",
                fontsize=8,
                color="0.15",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "alpha": 0.6, "lw": 0},
            )
        eq = (
            rf"$\mathcal{{L}}={_coef(loss.a)}(\theta_1^2-{loss.b:g})^2+{_coef(loss.c)}\theta_2^2"
            rf"{loss.d:+g}\,\theta_1$"
        )
        ax.text(0.5, 0.04, eq, transform=ax.transAxes, ha="center", fontsize=8.5)
        ax.set_xlabel(r"$\theta_1$")
        ax.set_ylabel(r"$\theta_2$")
        ax.legend(loc="upper left", fontsize=6.5)

    return draw


def _energies(data: Fig1Data):
    def draw(axes) -> None:
        multi, loss = data.multi, data.problem.loss
        kinetic = kinetic_per_step(multi.theta)
        top, bottom = axes
        top.plot(multi.t[:-1], kinetic, color="black")
        top.set_ylabel(r"kinetic  $\frac{1}{2}|\Delta\theta|^2$")
        i = int(np.argmax(kinetic))
        top.annotate(
            "transient increase\nin kinetic energy",
            (multi.t[i], kinetic[i]),
            xytext=(12, -18),
            textcoords="offset points",
            fontsize=7.5,
            color="#1f77b4",
        )
        L_path = loss(multi.theta)
        bottom.plot(multi.t, L_path, color="black")
        for m in loss.minima():
            bottom.axhline(loss(m), ls="--", lw=0.8, color=MULTI if loss.basin(m) == "global" else ONE)
            bottom.text(
                multi.t[-1],
                loss(m),
                f"{loss.basin(m)} min",
                ha="right",
                va="bottom",
                fontsize=7.5,
                color=MULTI if loss.basin(m) == "global" else ONE,
            )
        bottom.set_ylabel(r"loss  $\mathcal{L}(\theta)$")
        bottom.set_xlabel("time t")

    return draw


def report(numbers: dict) -> str:
    """The printed lines: the action against the authors' value, the solvers' agreement, where each learner ends,
    and the multi-step path's climb."""
    lines = [
        f"action of the least-action path S = {numbers['S']:.4e}  (authors: 1.6957e-01)",
        f"L-BFGS iterations: {numbers['lbfgs_iterations']}",
        f"max distance, least-action path vs boundary-value solution: {numbers['max_dist_direct_vs_bvp']:.1e}",
    ]
    for name in ("multi_step", "one_step"):
        end = numbers[f"{name}_end"]
        lines.append(f"{name:10s} ends at {fmt_point(end, 3)}  ->  {numbers[f'{name}_basin']} basin")
    lines.append(f"max rise of the loss above its start along the multi-step path: {numbers['max_loss_rise']:.3f}"
                 f" (at t = {numbers['t_max_loss']:.2f})")  # fmt: skip
    lines.append(f"peak kinetic term 1/2|dtheta|^2 = {numbers['peak_kinetic']:.4f} at t = "
                 f"{numbers['t_peak_kinetic']:.2f}")  # fmt: skip
    return "\n".join(lines)


def panels(data: Fig1Data, params: Params) -> dict[str, Panel]:
    """Panels a (schematic surface), b (paths over the loss), c (kinetic term and loss over time)."""
    lim = params.plot_lim
    return {
        "a": Panel(_surface, projection="3d", size=(3.0, 3.0)),
        "b": Panel(_paths(data, lim), size=(4.2, 3.4)),
        "c": Panel(_energies(data), rows=2, size=(3.2, 3.4)),
    }


# --- Beyond the paper (E5): the same double well with a free end -------------------------------------------------


def e5_headline(record: dict, params: Params) -> dict:
    """E5's numbers from its cached record (``real_model_runs``): per start the gamma from which escape stops,
    at the published start and over all starts, and the share of starts that escape at the paper's gamma."""
    gammas = np.asarray(record["gammas"])
    starts = np.asarray(record["starts"])
    escapes = np.asarray(record["escapes"])
    stop = np.array([np.inf if g is None else g for g in record["gamma_stop"]])
    published = int(np.argmin(np.sum((starts - np.asarray(params.theta0)) ** 2, axis=1)))
    at = int(np.argmin(np.abs(np.log(gammas / params.gamma))))
    return {
        "n_starts": len(starts),
        "n_gammas": len(gammas),
        "published_start": starts[published].tolist(),
        "published_gamma_stop": float(stop[published]),
        "gamma_stop_min": float(stop.min()),
        "gamma_stop_max": float(stop.max()),
        "gamma_nearest_paper": float(gammas[at]),
        "escape_share_at_paper_gamma": float(escapes[:, at].mean()),
        "escape_share_at_largest_gamma": float(escapes[:, -1].mean()),
        "escape_share_by_gamma": escapes.mean(axis=0).tolist(),
    }


def e5_report(numbers: dict) -> str:
    """The printed lines of E5."""
    return "\n".join([
        f"E5 (free end, T = 40): {numbers['n_starts']} starts in the local basin x {numbers['n_gammas']} gammas",
        f"from the published start {fmt_point(numbers['published_start'], 2)}: escape stops at gamma = "
        f"{numbers['published_gamma_stop']:.3g}",
        f"over the starts, escape stops between gamma = {numbers['gamma_stop_min']:.3g} and "
        f"{numbers['gamma_stop_max']:.3g}",
        f"share of starts escaping at gamma = {numbers['gamma_nearest_paper']:.3g} (the paper's 0.1): "
        f"{numbers['escape_share_at_paper_gamma']:.2f}; at the largest gamma: "
        f"{numbers['escape_share_at_largest_gamma']:.2f}",
    ])  # fmt: skip


def e5_panels(record: dict, params: Params) -> dict[str, Panel]:
    """Panel d (this repository's extension): per start, the gamma from which the free-end optimum stops
    escaping, over the loss; beside it the share of starts that escape against gamma."""
    starts = np.asarray(record["starts"])
    gammas = np.asarray(record["gammas"])
    stop = np.array([np.nan if g is None else g for g in record["gamma_stop"]])
    share = np.asarray(record["escapes"]).mean(axis=0)
    loss = params.problem().loss

    def draw(axes):
        left, right = axes
        loss_heatmap(left, loss, params.plot_lim, levels=8, alpha=0.8)
        sc = left.scatter(starts[:, 0], starts[:, 1], c=np.log10(stop), cmap="magma", vmin=np.log10(gammas[0]),
                          vmax=np.log10(gammas[-1]), s=28, edgecolors="white", linewidths=0.5)  # fmt: skip
        left.plot(*params.theta0, marker="o", mfc="none", mec=START, ms=9)
        cbar = left.figure.colorbar(sc, ax=left, fraction=0.046, pad=0.03)
        cbar.set_label(r"$\log_{10}\gamma$ where escape stops", fontsize=7)
        left.set_xlabel(r"$\theta_1(0)$")
        left.set_ylabel(r"$\theta_2(0)$")
        left.set_title("free end: escape stops at", fontsize=8)
        right.semilogx(gammas, share, marker="o", color=MULTI)
        right.axvline(params.gamma, ls="--", lw=0.8, color="grey")
        right.set_ylim(-0.05, 1.05)
        right.set_xlabel(r"discount $\gamma$")
        right.set_ylabel("share of starts escaping")
        right.set_title("(extension, not in the paper)", fontsize=8)

    return {"d": Panel(draw, cols=2, size=(7.0, 3.0))}
