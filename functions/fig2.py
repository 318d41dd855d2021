"""Figure 2: lowering the discount rate gamma (planning further ahead) speeds up learning.

Panels a-d are closed forms (``closed_form``) confirmed by the boundary-value solver; panels e-f are
training curves (SGD, Adam, Ballistic) read from results/training/, with the published curves
overlaid when the dataset is the paper's.
"""

from __future__ import annotations

import json
import pathlib

import numpy as np

from .bvp import solve_bvp
from .closed_form import quadratic_optimum, rate_ratio
from .landscapes import Quadratic
from .objective import Problem
from .optimisers import OPTIMISERS
from .plotting import OPTIMISER_STYLE, Panel, loss_heatmap

__all__ = [
    "PUBLISHED_CURVES",
    "confirm",
    "load_runs",
    "measured_rate_ratio",
    "optima",
    "problems",
    "published",
    "theory_panels",
    "training_headline",
    "training_panels",
    "training_title",
]

PUBLISHED_CURVES = pathlib.Path(__file__).with_name("reference") / "published_training_curves.json"
GAMMA_COLORS = ["#29b6f6", "#1f3fdb", "black", "#8e44ad", "#e67e22"]
DATASET_NAMES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}


def problems(h, mu, gammas, eta: float, k: float) -> dict[float, Problem]:
    """One problem per gamma on L = 1/2 sum h_i (theta_i - mu_i)^2."""
    return {g: Problem(Quadratic(h, mu), gamma=g, eta=eta, k=k) for g in gammas}


def optima(probs: dict[float, Problem], theta0) -> dict:
    """Closed-form optimal trajectory for each problem."""
    return {g: quadratic_optimum(p, theta0) for g, p in probs.items()}


def confirm(probs: dict[float, Problem], opts: dict, T: float, bvp_margin: float, n_t: int = 2001) -> dict:
    """Max |closed form - BVP| over [0, T] per gamma (BVP with a free end at T + bvp_margin)."""
    t = np.linspace(0.0, T, n_t)
    out = {}
    for g, opt in opts.items():
        sol = solve_bvp(probs[g], opt.theta0, T + bvp_margin, tol=1e-8)
        out[g] = float(np.max(np.abs(sol(t) - opt(t))))
    return out


def measured_rate_ratio(h1: float, h2: float, gamma: float, eta: float, k: float, T: float = 40.0) -> float:
    """r1/r2 measured from the BVP solution: log-slope of |theta_i - mu_i| fitted on t in [0.5, 5]."""
    problem = Problem(Quadratic([h1, h2]), gamma=gamma, eta=eta, k=k)
    sol = solve_bvp(problem, [1.0, 1.0], T, tol=1e-9)
    t = np.linspace(0.5, 5.0, 40)
    slopes = np.polyfit(t, np.log(np.abs(sol(t))), 1)[0]
    return float(slopes[0] / slopes[1])


def _colors(gammas):
    return dict(zip(gammas, GAMMA_COLORS, strict=False))


def theory_panels(loss1d, opt1d: dict, T1: float, loss2d, opt2d: dict, T2: float, ratio_range, ratio_points: dict,
                  eta, k, lim2d):  # fmt: skip
    """Panels a (theta(t)), b (L(t)), c (2-D trajectories), d (rate ratio r1/r2 against H11/H22)."""
    colors = _colors(list(opt1d))
    t1 = np.linspace(0.0, T1, 801)

    def a(axes):
        for g, opt in opt1d.items():
            axes[0].plot(t1, opt(t1)[:, 0], color=colors[g], lw=2, label=rf"$\gamma={g:g}$")
        axes[0].set(xlabel="time", ylabel=r"$\theta_t$")
        axes[0].legend()

    def b(axes):
        for g, opt in opt1d.items():
            axes[0].plot(t1, loss1d(opt(t1)), color=colors[g], lw=2, label=rf"$\gamma={g:g}$")
        axes[0].set(xlabel="time", ylabel=r"$\mathcal{L}$")
        axes[0].legend()

    def c(axes):
        ax, t2 = axes[0], np.linspace(0.0, T2, 4001)
        loss_heatmap(ax, loss2d, lim2d, cmap="viridis", contour_color=None, levels=8, alpha=0.55)
        for g, opt in opt2d.items():
            path = opt(t2)
            ax.plot(path[:, 0], path[:, 1], color=colors[g], lw=2, label=rf"$\gamma={g:g}$")
        ax.plot(*loss2d.mu, "o", color="red", ms=8, zorder=5)
        ax.set(xlabel=r"$\theta_1$", ylabel=r"$\theta_2$")
        ax.legend(loc="lower right")

    def d(axes):
        ax, x = axes[0], np.linspace(*ratio_range, 400)
        for g in opt1d:
            ax.plot(x, rate_ratio(x, 1.0, g, eta, k), color=colors[g], lw=2, label=rf"$\gamma={g:g}$")
            pts = ratio_points.get(g, {})
            ax.plot(list(pts), list(pts.values()), "o", color=colors[g], mfc="white", ms=5)
        ax.plot([], [], "o", color="0.3", mfc="white", label="BVP solver")
        ax.plot(x, x, ":", color="0.5", lw=1)
        ax.plot(x, np.sqrt(x), ":", color="0.5", lw=1)
        ax.set(xlabel=r"$H_{11}/H_{22}$", ylabel=r"$r_1/r_2$")
        ax.legend()

    return {"a": Panel(a, size=(3.0, 2.8)), "b": Panel(b, size=(3.0, 2.8)), "c": Panel(c, size=(3.0, 2.8)),
            "d": Panel(d, size=(3.0, 2.8))}  # fmt: skip


def load_runs(out_dir, dataset: str, model: str) -> dict:
    """Mean and sd over seeds of each optimiser's per-epoch curves from results/training/*.json.

    Only runs at the protocol's learning rate (file names without an _lr tag) are used.
    """
    runs = {}
    for opt in OPTIMISERS:
        files = sorted(pathlib.Path(out_dir).glob(f"{dataset}_{model}_{opt}_seed*.json"))
        records = [json.loads(f.read_text()) for f in files]
        if not records:
            continue
        curves = {key: np.array([r[key] for r in records]) for key in ("train_loss", "test_accuracy")}
        spread = {key: c.std(axis=0, ddof=1) if len(records) > 1 else np.zeros(c.shape[1]) for key, c in curves.items()}
        runs[opt] = {
            "n_seeds": len(records),
            "epochs": records[0]["epochs"],
            "subset": records[0].get("subset"),
            "n_train": records[0]["n_train"],
            **{key: (c.mean(axis=0), spread[key]) for key, c in curves.items()},
        }
    return runs


def published(dataset: str) -> dict | None:
    """The paper's curves for ``dataset`` (MNIST or CIFAR-10) as {opt: {train_loss, test_accuracy}}, else None."""
    figures = json.loads(PUBLISHED_CURVES.read_text())["figures"]
    if f"{dataset}_train" not in figures:
        return None
    out = {}
    for opt in OPTIMISERS:
        label = OPTIMISER_STYLE[opt]["label"]
        out[opt] = {
            "epochs": figures[f"{dataset}_train"]["series"][label]["x"],
            "train_loss": np.asarray(figures[f"{dataset}_train"]["series"][label]["y"]),
            "test_accuracy": np.asarray(figures[f"{dataset}_test"]["series"][label]["y"]) / 100.0,
        }
    return out


def training_headline(runs: dict, reference: dict | None) -> dict:
    """Final-epoch train loss and test accuracy (mean, sd), and the gap to the published value if any."""
    out = {}
    for opt, run in runs.items():
        row = {
            "n_seeds": run["n_seeds"],
            "final_train_loss": [run["train_loss"][0][-1], run["train_loss"][1][-1]],
            "final_test_accuracy": [run["test_accuracy"][0][-1], run["test_accuracy"][1][-1]],
        }
        if reference is not None:
            row["gap_to_published_test_accuracy"] = run["test_accuracy"][0][-1] - reference[opt]["test_accuracy"][-1]
        out[opt] = row
    return out


def training_title(dataset: str, model: str, runs: dict, reference: dict | None) -> str:
    """Panel title naming the dataset actually used, the size of the run, and the paper's dataset if different."""
    run = next(iter(runs.values()))
    paper = "MNIST" if model == "mlp" else "CIFAR-10"
    shape = " as 3x32x32" if model == "cnn" and dataset != "cifar10" else ""
    size = f", {run['n_train']} train imgs" if run.get("subset") else ""
    return (f"{DATASET_NAMES[dataset]}{shape}, {model.upper()}{size}, {len(run['epochs'])} epochs"
            + ("" if reference is not None else f" (paper: {paper})"))  # fmt: skip


def training_panels(panel_runs: dict) -> dict[str, Panel]:
    """Panels (e, f): train loss and test accuracy per epoch, mean +- sd over seeds, published overlaid.

    Args:
        panel_runs: {letter: (runs, reference or None, title)}.
    """
    out = {}
    for letter, (runs, reference, title) in panel_runs.items():

        def draw(axes, runs=runs, reference=reference, title=title):
            for ax, key, ylabel in zip(
                axes, ("train_loss", "test_accuracy"), ("train loss", "test accuracy"), strict=True
            ):
                for opt, run in runs.items():
                    label, color, ls = (OPTIMISER_STYLE[opt][k] for k in ("label", "color", "ls"))
                    mean, sd = run[key]
                    ax.plot(run["epochs"], mean, color=color, ls=ls, lw=1.8, label=f"{label} (n={run['n_seeds']})")
                    ax.fill_between(run["epochs"], mean - sd, mean + sd, color=color, alpha=0.2, lw=0)
                    if reference is not None:
                        ref = reference[opt]
                        ax.plot(ref["epochs"], ref[key], color=color, ls=":", marker=".", ms=4, lw=1,
                                label=f"{label}, published")  # fmt: skip
                ax.set(xlabel="epoch", ylabel=ylabel)
            axes[0].figure.suptitle(title, fontsize=8)
            axes[0].legend(fontsize=6)

        out[letter] = Panel(draw, cols=2, size=(6.0, 2.8))
    return out
