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

from ._checks import check_in_box, check_positive, check_vector
from ._parallel import thread_map
from .bvp import BVPSolution, solve_bvp
from .closed_form import QuadraticOptimum, quadratic_optimum
from .geometry import DecayDrift, RotationDrift, diagonal_metric
from .landscapes import Quadratic
from .objective import Problem
from .plotting import Panel, loss_heatmap

__all__ = ["Fig3Case", "check_parameters", "compute", "headline", "panels", "problems"]

END, MINIMUM = "orange", "red"


@dataclass(frozen=True)
class Fig3Case:
    """One panel: its title, problem, closed-form optimum and numerical confirmation."""

    title: str
    problem: Problem
    optimum: QuadraticOptimum
    bvp: BVPSolution
    has_drift: bool


def check_parameters(h, mu, theta0, gamma, eta, k, T, g, q, j, bvp_margin, plot_lim) -> None:
    """Validate the notebook's parameters before any computation; ValueError names the parameter and its range."""
    check_vector(h, "H", 2)
    problems(h, mu, gamma, eta, k, g, q, j)  # validates the loss, metric, drifts and weights
    check_positive(T, "T")
    check_positive(bvp_margin, "BVP_MARGIN")
    lim = check_positive(plot_lim, "PLOT_LIM")
    for name, point in (("THETA0", theta0), ("MU", mu)):
        check_in_box(point, name, (-lim, lim, -lim, lim), "[-PLOT_LIM, PLOT_LIM]^2")


def problems(h, mu, gamma, eta, k, g, q, j) -> dict[str, tuple[str, Problem, bool]]:
    """The four problems of Figure 3, keyed by panel letter: (title, problem, has_drift)."""
    loss = Quadratic(h, mu)
    base = Problem(loss, gamma=gamma, eta=eta, k=k)
    return {
        "a": (r"no $G$, no $f$", base, False),
        "b": (r"anisotropic $G$", dataclasses.replace(base, metric=diagonal_metric(g)), False),
        "c": (r"rotational $f$", dataclasses.replace(base, drift=RotationDrift(q)), True),
        "d": (r"decay $f$", dataclasses.replace(base, drift=DecayDrift(j, dim=loss.dim)), True),
    }


def compute(cases: dict, theta0, T: float, bvp_margin: float) -> dict[str, Fig3Case]:
    """Closed form and BVP (free end, horizon T + bvp_margin) for each problem of ``problems``.

    The solves are independent and run side by side on two threads (``_parallel.thread_map``: 1.2 -> 0.8 s on
    2 cores); each is the same computation as alone.
    """

    def one(item):
        name, (title, problem, has_drift) = item
        bvp = solve_bvp(problem, theta0, T + bvp_margin, tol=1e-8)
        return name, Fig3Case(title, problem, quadratic_optimum(problem, theta0), bvp, has_drift)

    return dict(thread_map(one, cases.items()))


def headline(cases: dict[str, Fig3Case], T: float, n_t: int = 4001) -> dict:
    """End points (closed form and numerical, at t = T), their gap, and the path deviation."""
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


def panels(cases: dict[str, Fig3Case], T: float, lim: float = 2.0) -> dict[str, Panel]:
    """One panel per case: the optimal path over the loss heatmap, with the minimum and end point."""
    return {
        name: Panel(_panel(case, T, lim, ylabel=(i == 0), legend=(i == len(cases) - 1)), size=(3.0, 3.0))
        for i, (name, case) in enumerate(cases.items())
    }
