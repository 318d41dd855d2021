"""Figure 3: parameter-space geometry (metric G) and default dynamics (drift f) bend optimal paths.

Four problems on one isotropic quadratic: (a) no G, no f; (b) anisotropic G; (c) rotational f;
(d) decay f. Each optimal trajectory is the closed form of ``closed_form.quadratic_optimum`` and is
confirmed by the free-end boundary-value solver on a longer horizon (so that the natural boundary
condition at its end does not disturb [0, T]).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ._checks import check_in_box, check_positive
from ._parallel import thread_map
from ._params import FigureParams, real, vector
from .bvp import BVP_LIMIT, MAX_GAMMA, solve_bvp
from .closed_form import QuadraticOptimum, quadratic_optimum
from .geometry import DecayDrift, RotationDrift, diagonal_metric
from .landscapes import Quadratic
from .objective import Problem
from .paths import Path
from .plotting import Panel, loss_heatmap
from .results_io import fmt_point, fmt_small

__all__ = [
    "BVP_TOL",
    "MAX_TURNS",
    "MIN_EFOLDS",
    "Fig3Case",
    "Fig3Data",
    "Params",
    "compute",
    "headline",
    "panels",
    "problems",
    "report",
]

END, MINIMUM = "orange", "red"

#: The boundary-value solver's tolerance in ``compute``.
BVP_TOL = 1e-8

#: e-folds the free end's pull must decay by between T + BVP_MARGIN and T: it grows toward the end at rate
#: r + gamma (the unstable root of each closed form), and below e^-18.4 = 1e-8 = BVP_TOL it is under the
#: solver's own error (BVP_MARGIN = 1e-3 left 0.002 e-folds, and closed form and solver differed by 0.096).
MIN_EFOLDS = float(np.log(1 / BVP_TOL))

#: Most turns of panel c's spiral (angular speed q) before its amplitude e^{-r t} falls to BVP_TOL that the
#: solver resolves within its 200,000 mesh nodes (about 1,000 nodes a turn): at H = 4 (r = 2) 110 turns (Q = 75)
#: took 119,218 nodes, 147 (Q = 100) did not fit after 2 minutes; at H = 1, 132 turns (Q = 45) took 116,633.
MAX_TURNS = 100.0


@dataclass(frozen=True)
class Fig3Case:
    """One panel: its title, problem, closed-form optimum and numerical confirmation."""

    title: str
    problem: Problem
    optimum: QuadraticOptimum
    bvp: Path
    has_drift: bool


@dataclass(frozen=True, kw_only=True)
class Params(FigureParams):
    """Figure 3's parameters (the paper's values by default); every value is checked when the object is made."""

    h: tuple[float, ...] = (4.0, 4.0)  # curvatures of the isotropic quadratic
    mu: tuple[float, ...] = (0.0, -0.5)  # loss minimum
    theta0: tuple[float, ...] = (1.5, 1.5)  # start
    gamma: float = 0.0  # temporal discount rate (the paper: the far-sighted limit 0)
    eta: float = 1.0  # kinetic weight 1/(2 eta)
    k: float = 1.0  # loss weight
    T: float = 100.0  # time span drawn
    g_diag: tuple[float, ...] = (1 / 50, 1.0)  # (b) metric G = diag(g_diag)
    q: float = 10.0  # (c) rotational drift f = q A theta
    j: float = 10.0  # (d) decay drift f = -j theta
    bvp_margin: float = 20.0  # the solver runs to T + bvp_margin so its free end cannot disturb [0, T]
    plot_lim: float = 2.0  # panels show [-plot_lim, plot_lim]^2

    def __post_init__(self):
        self._check_outputs()
        self._set(h=vector(self.h, "H", 2), mu=vector(self.mu, "MU"), theta0=vector(self.theta0, "THETA0"),
                  g_diag=vector(self.g_diag, "G_DIAG"),
                  **{n: real(getattr(self, n), n.upper()) for n in ("gamma", "eta", "k", "T", "q", "j", "bvp_margin",
                                                                     "plot_lim")})  # fmt: skip
        cases = problems(self)  # validates the loss, metric, drifts and weights
        check_positive(self.T, "T")
        check_positive(self.bvp_margin, "BVP_MARGIN")
        if self.gamma > MAX_GAMMA:
            raise ValueError(f"Invalid GAMMA value: {self.gamma:g} > {MAX_GAMMA:g}; {BVP_LIMIT}")
        for name, (_, problem, has_drift) in cases.items():
            # the free end pulls at rate r + gamma; without a drift the path has settled at the minimum, where the
            # free end's condition already holds, and the pull is only what is left of e^{-r T}
            r = float(np.min(quadratic_optimum(problem, self.theta0).r))
            efolds = self.bvp_margin * (r + self.gamma) + (0.0 if has_drift else r * self.T)
            if efolds < MIN_EFOLDS:
                raise ValueError(
                    f"Invalid BVP_MARGIN value: {self.bvp_margin:g}; the solver's free end at T + BVP_MARGIN pulls "
                    f"panel ({name})'s path at rate r + GAMMA = {r + self.gamma:.3g}, which leaves only "
                    f"{efolds:.3g} e-folds before T, and the check of the closed form needs {MIN_EFOLDS:.3g} (to the "
                    f"solver's tolerance {BVP_TOL:g}): set BVP_MARGIN >= "
                    f"{(MIN_EFOLDS - efolds) / (r + self.gamma) + self.bvp_margin:.3g}."
                )
        r = float(np.min(quadratic_optimum(cases["c"][1], self.theta0).r))
        turns = abs(self.q) * MIN_EFOLDS / (2 * np.pi * r)
        if turns > MAX_TURNS:
            raise ValueError(
                f"Invalid Q value: {self.q:g}; panel c's spiral would turn {turns:.3g} times (Q ln(1/{BVP_TOL:g}) / "
                f"(2 pi r), r = {r:.3g}) before it settles, and the boundary-value solver resolves at most "
                f"{MAX_TURNS:g} turns in its mesh: set |Q| <= {MAX_TURNS * 2 * np.pi * r / MIN_EFOLDS:.3g} or raise H."
            )
        lim = check_positive(self.plot_lim, "PLOT_LIM")
        for name, point in (("THETA0", self.theta0), ("MU", self.mu)):
            check_in_box(point, name, (-lim, lim, -lim, lim), "[-PLOT_LIM, PLOT_LIM]^2")


@dataclass(frozen=True)
class Fig3Data:
    """What Figure 3 computes: its parameters and one case per panel."""

    params: Params
    cases: dict[str, Fig3Case]


def problems(p: Params) -> dict[str, tuple[str, Problem, bool]]:
    """The four problems of Figure 3, keyed by panel letter: (title, problem, has_drift)."""
    loss = Quadratic(p.h, p.mu)
    base = Problem(loss, gamma=p.gamma, eta=p.eta, k=p.k)
    return {
        "a": (r"no $G$, no $f$", base, False),
        "b": (r"anisotropic $G$", dataclasses.replace(base, metric=diagonal_metric(p.g_diag)), False),
        "c": (r"rotational $f$", dataclasses.replace(base, drift=RotationDrift(p.q)), True),
        "d": (r"decay $f$", dataclasses.replace(base, drift=DecayDrift(p.j, dim=loss.dim)), True),
    }


def compute(params: Params) -> Fig3Data:
    """Closed form and BVP (free end, horizon T + bvp_margin) for each problem of ``problems``.

    The solves are independent and run side by side on two threads (``_parallel.thread_map``); each is the same
    computation as alone.
    """

    def one(item):
        name, (title, problem, has_drift) = item
        bvp = solve_bvp(problem, params.theta0, params.T + params.bvp_margin, tol=BVP_TOL)
        return name, Fig3Case(title, problem, quadratic_optimum(problem, params.theta0), bvp, has_drift)

    return Fig3Data(params, dict(thread_map(one, problems(params).items())))


def headline(data: Fig3Data, n_t: int = 4001) -> dict:
    """End points (closed form and numerical, at t = T), their gap, and the path deviation."""
    cases, T = data.cases, data.params.T
    t = np.linspace(0.0, T, n_t)
    numbers = {}
    for name, case in cases.items():
        end_cf, end_num = case.optimum.theta_star, case.bvp(T)
        numbers[name] = {
            "end_closed_form": end_cf,
            "end_numerical": end_num,
            "end_difference": float(np.max(np.abs(end_cf - end_num))),
            "max_path_deviation": float(np.max(np.abs(case.bvp(t) - case.optimum(t)))),
            "end_distance_to_minimum": float(np.linalg.norm(end_cf - case.problem.loss.mu)),
        }
    return numbers


def _panel(case: Fig3Case, T: float, lim: float, ylabel: bool, legend: bool):
    def draw(axes) -> None:
        ax, loss = axes[0], case.problem.loss
        loss_heatmap(ax, loss, lim, cmap="viridis", contour_color=None, levels=8, alpha=0.55)
        t = np.linspace(0.0, T, 20001)
        path = case.optimum(t)
        ax.plot(path[:, 0], path[:, 1], color="black", lw=2.2, label="closed form")
        numeric = case.bvp(t)
        ax.plot(numeric[:, 0], numeric[:, 1], color="white", lw=0.8, ls=(0, (3, 3)), label="BVP solver")
        ax.plot(*loss.mu, "o", color=MINIMUM, ms=9, label=r"loss minimum $\mu$", zorder=5)
        if case.has_drift:
            ax.plot(*case.optimum.theta_star, "o", color=END, ms=9, label="end point", zorder=6)
        ax.set_title(case.title)
        ax.set_xlabel(r"$\theta_1$")
        if ylabel:
            ax.set_ylabel(r"$\theta_2$")
        ax.set_aspect("equal")
        if legend:
            ax.legend(loc="lower left", fontsize=6.5, framealpha=0.7, frameon=True)

    return draw


def report(numbers: dict) -> str:
    """The printed lines: the solver against each closed form, then the end points against the minimum."""
    lines = [f"({name}) max |closed form - BVP| over [0, T]: {fmt_small(n['max_path_deviation'], 1e-8)}"
             for name, n in numbers.items()]  # fmt: skip
    for name in ("c", "d"):
        n = numbers[name]
        lines.append(f"({name}) end point: closed form {fmt_point(n['end_closed_form'])}, solver "
                     f"{fmt_point(n['end_numerical'])}, difference {fmt_small(n['end_difference'], 1e-10)}; "
                     f"distance to mu {n['end_distance_to_minimum']:.4f}")  # fmt: skip
    for name in ("a", "b"):
        distance = fmt_small(numbers[name]["end_distance_to_minimum"], 1e-10)
        lines.append(f"({name}) ends at the minimum: distance to mu {distance}")
    return "\n".join(lines)


def panels(data: Fig3Data, params: Params) -> dict[str, Panel]:
    """One panel per case: the optimal path over the loss heatmap, with the minimum and end point."""
    cases, T, lim = data.cases, params.T, params.plot_lim
    return {
        name: Panel(_panel(case, T, lim, ylabel=(i == 0), legend=(i == len(cases) - 1)), size=(3.0, 3.0))
        for i, (name, case) in enumerate(cases.items())
    }
