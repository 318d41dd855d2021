"""Figure 2: lowering the discount rate gamma (planning further ahead) speeds up learning.

Panels a-d are closed forms (``closed_form``) confirmed by the boundary-value solver; panels e-f are
training curves (SGD, Adam, Ballistic) read from results/training/, with the published curves
overlaid when the dataset is the paper's.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
from dataclasses import dataclass

import numpy as np

from ._checks import (
    check_box,
    check_choice,
    check_distinct,
    check_in_box,
    check_int,
    check_positive,
    check_positive_array,
    check_range,
    check_vector,
)
from ._parallel import thread_map
from ._params import FigureParams, real, vector
from .bvp import BVP_LIMIT, MAX_GAMMA, solve_bvp
from .closed_form import quadratic_optimum, rate, rate_ratio
from .data import DATASET_NAMES
from .landscapes import Quadratic
from .objective import Problem
from .optimisers import OPTIMISERS
from .plotting import OPTIMISER_STYLE, Panel, loss_heatmap
from .protocol import PROTOCOLS, panel_configs
from .results_io import fmt_small, verdict
from .run_records import load_records

__all__ = [
    "Fig2Data",
    "PUBLISHED_CURVES",
    "Params",
    "compute",
    "headline",
    "panels",
    "report",
    "claims_by_epoch",
    "confirm",
    "e1_headline",
    "e1_panels",
    "e1_report",
    "e2_headline",
    "e2_panels",
    "e2_report",
    "e3_headline",
    "e3_panels",
    "e3_report",
    "epoch_ranges",
    "load_runs",
    "measured_rate_ratio",
    "measured_rate_ratios",
    "optima",
    "panel_runs",
    "problems",
    "published",
    "require_runs",
    "training_claims",
    "theory_panels",
    "training_headline",
    "training_panels",
    "training_report",
    "training_title",
]

PUBLISHED_CURVES = pathlib.Path(__file__).with_name("reference") / "published_training_curves.json"
GAMMA_COLORS = ["#29b6f6", "#1f3fdb", "black", "#8e44ad", "#e67e22"]
#: The paper's dataset per protocol, and which published curves a dataset is compared with.
PAPER_DATASET = {"mlp": "mnist", "cnn": "cifar10"}
PUBLISHED_KEY = {"mnist": "mnist", "cifar10": "cifar10", "cifar10-jpeg": "cifar10"}


#: Smallest H11/H22 whose rate ratio the solver can measure on t in [0.5, 5].
MIN_MEASURED_RATIO = 0.01
#: e-folds of the mode that grows toward the solver's free end (at T + BVP_MARGIN) that [0, T] must be away from it.
MIN_EFOLDS = 5.0


def problems(h, mu, gammas, eta: float, k: float) -> dict[float, Problem]:
    """One problem per gamma on L = 1/2 sum h_i (theta_i - mu_i)^2."""
    return {g: Problem(Quadratic(h, mu), gamma=g, eta=eta, k=k) for g in gammas}


def optima(probs: dict[float, Problem], theta0) -> dict:
    """Closed-form optimal trajectory for each problem."""
    return {g: quadratic_optimum(p, theta0) for g, p in probs.items()}


def confirm(probs: dict[float, Problem], opts: dict, T: float, bvp_margin: float, n_t: int = 2001) -> dict:
    """Max |closed form - BVP| over [0, T] per gamma (BVP with a free end at T + bvp_margin); the solves run side
    by side on two threads (``_parallel.thread_map``)."""
    t = np.linspace(0.0, T, n_t)

    def deviation(g):
        sol = solve_bvp(probs[g], opts[g].theta0, T + bvp_margin, tol=1e-8)
        return float(np.max(np.abs(sol(t) - opts[g](t))))

    return dict(zip(opts, thread_map(deviation, opts), strict=True))


def measured_rate_ratio(h1: float, h2: float, gamma: float, eta: float, k: float, T: float = 40.0) -> float:
    """r1/r2 measured from the BVP solution: log-slope of |theta_i - mu_i| fitted on t in [0.5, 5]."""
    problem = Problem(Quadratic([h1, h2]), gamma=gamma, eta=eta, k=k)
    sol = solve_bvp(problem, [1.0, 1.0], T, tol=1e-9)
    t = np.linspace(0.5, 5.0, 40)
    slopes = np.polyfit(t, np.log(np.abs(sol(t))), 1)[0]
    return float(slopes[0] / slopes[1])


def measured_rate_ratios(h_ratios, gammas, eta: float, k: float) -> dict:
    """{gamma: {H11/H22: measured_rate_ratio(H11/H22, 1, gamma)}}, the solves side by side on two threads."""
    grid = [(g, x) for g in gammas for x in h_ratios]
    ratios = thread_map(lambda gx: measured_rate_ratio(gx[1], 1.0, gx[0], eta, k), grid)
    out = {g: {} for g in gammas}
    for (g, x), r in zip(grid, ratios, strict=True):
        out[g][x] = r
    return out


def _colors(gammas):
    return dict(zip(gammas, GAMMA_COLORS, strict=False))


def theory_panels(params: Params, *, opt1d: dict, opt2d: dict, ratio_points: dict) -> dict[str, Panel]:
    """Panels a (theta(t)), b (L(t)), c (2-D trajectories), d (rate ratio r1/r2 against H11/H22).

    Everything but what is computed (the optima per gamma, ``optima``; the solver's ratios,
    ``measured_rate_ratios``) comes from the figure's ``params``: losses, horizons, axes, eta and k.
    """
    p = params
    loss1d, loss2d = Quadratic(p.h_1d, p.mu_1d), Quadratic(p.h_2d, p.mu_2d)
    T1, T2, ratio_range, eta, k, lim2d = p.T_1d, p.T_2d, p.ratio_range, p.eta, p.k, p.lim_2d
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


def panel_runs(dataset: str, model: str, n_seeds: int, n_epochs: int, subset=None, test_subset=None) -> list:
    """The runs a training panel shows: every optimiser, seeds 0 .. n_seeds-1 (``protocol.panel_configs``)."""
    return panel_configs(model, dataset, n_seeds, epochs=n_epochs, subset=subset, test_subset=test_subset)


def require_runs(out_dir, dataset: str, model: str, n_seeds: int, n_epochs: int, subset=None, test_subset=None):
    """Load and validate every record the panel needs; raise naming the first missing or unusable one.

    Called right after the notebook's parameters, so that ``TRAIN = False`` with runs that are not cached (or
    are of another configuration) stops before any computation or any file is written.

    Raises:
        FileNotFoundError: a record is missing (with the command that produces it, or TRAIN = True).
        RecordError: a record is broken or of another configuration (naming the file and the field).
    """
    check_choice(dataset, "dataset", DATASET_NAMES)
    try:
        return load_records(out_dir, panel_runs(dataset, model, n_seeds, n_epochs, subset, test_subset))
    except FileNotFoundError as err:
        raise FileNotFoundError(f"{err} Or set TRAIN = True, or choose runs that are cached.") from None


def load_runs(out_dir, dataset: str, model: str, n_seeds: int, n_epochs: int, subset=None, test_subset=None) -> dict:
    """Mean and sd over seeds of each optimiser's per-epoch curves, from exactly the records of the panel's runs."""
    records = require_runs(out_dir, dataset, model, n_seeds, n_epochs, subset, test_subset)
    runs = {}
    for opt in OPTIMISERS:
        mine = [r for r in records if r["optimiser"] == opt]
        curves = {key: np.array([r[key] for r in mine]) for key in ("train_loss", "test_accuracy")}
        spread = {key: c.std(axis=0, ddof=1) if len(mine) > 1 else np.zeros(c.shape[1]) for key, c in curves.items()}
        runs[opt] = {
            "n_seeds": len(mine),
            "epochs": mine[0]["epochs"],
            "subset": mine[0].get("subset"),
            "n_train": mine[0]["n_train"],
            "devices": sorted({r["device"].split(":")[0] for r in mine}),
            "wall_time_s": float(sum(r["wall_time_s"] for r in mine)),
            **{key: (c.mean(axis=0), spread[key]) for key, c in curves.items()},
        }
    return runs


def published(dataset: str) -> dict | None:
    """The paper's curves for ``dataset``'s paper dataset (MNIST, or CIFAR-10 for either CIFAR-10 copy) as
    {opt: {epochs, train_loss, test_accuracy}}, else None."""
    figures = json.loads(PUBLISHED_CURVES.read_text())["figures"]
    key = PUBLISHED_KEY.get(dataset)
    if key is None:
        return None
    out = {}
    for opt in OPTIMISERS:
        label = OPTIMISER_STYLE[opt]["label"]
        out[opt] = {
            "epochs": figures[f"{key}_train"]["series"][label]["x"],
            "train_loss": np.asarray(figures[f"{key}_train"]["series"][label]["y"]),
            "test_accuracy": np.asarray(figures[f"{key}_test"]["series"][label]["y"]) / 100.0,
        }
    return out


def _mean_sd(run: dict, key: str, i: int) -> list[float]:
    return [float(run[key][0][i]), float(run[key][1][i])]


def training_headline(runs: dict, reference: dict | None) -> dict:
    """Per optimiser: final test accuracy and the train loss at epoch 1 and at the last epoch (mean, sd over
    seeds), and the published values at the same epochs when the dataset is the paper's."""
    out = {}
    for opt, run in runs.items():
        last = run["epochs"][-1]
        row = {
            "n_seeds": run["n_seeds"],
            "last_epoch": last,
            "final_test_accuracy": _mean_sd(run, "test_accuracy", -1),
            "train_loss_epoch1": _mean_sd(run, "train_loss", 0),
            "final_train_loss": _mean_sd(run, "train_loss", -1),
        }
        if reference is not None:
            ref = reference[opt]
            at = ref["epochs"].index(last)
            row["published"] = {
                "test_accuracy": float(ref["test_accuracy"][at]),
                "train_loss_epoch1": float(ref["train_loss"][ref["epochs"].index(1)]),
                "train_loss": float(ref["train_loss"][at]),
            }
        out[opt] = row
    return out


def training_claims(headline: dict, close_to_adam: float) -> dict:
    """The two claims of panels e-f, with criteria fixed in advance.

    "Ballistic beats SGD": Ballistic's mean final train loss is lower than SGD's.
    "Ballistic is close to Adam": their mean final test accuracies differ by at most ``close_to_adam``.
    """
    b, a, s = (headline[o] for o in ("ballistic", "adam", "sgd"))
    gap = b["final_test_accuracy"][0] - a["final_test_accuracy"][0]
    return {
        "ballistic_minus_sgd_train_loss": b["final_train_loss"][0] - s["final_train_loss"][0],
        "ballistic_beats_sgd": bool(b["final_train_loss"][0] < s["final_train_loss"][0]),
        "ballistic_minus_adam_test_accuracy": gap,
        "close_to_adam_tolerance": close_to_adam,
        "ballistic_close_to_adam": bool(abs(gap) <= close_to_adam),
    }


def claims_by_epoch(runs: dict, close_to_adam: float) -> dict:
    """The two claims of ``training_claims`` at every epoch of the runs' mean curves (as if training had stopped
    there): per epoch, Ballistic - SGD train loss and Ballistic - Adam test accuracy, and the two verdicts; and
    the accuracy gap's spread, the standard error of a difference of two means, sqrt(s_B^2 / n_B + s_A^2 / n_A)
    (s the seeds' sample sd; 0 with one seed each)."""
    b, a, s = (runs[o] for o in ("ballistic", "adam", "sgd"))
    loss_gap = np.asarray(b["train_loss"][0]) - np.asarray(s["train_loss"][0])
    acc_gap = np.asarray(b["test_accuracy"][0]) - np.asarray(a["test_accuracy"][0])
    se = np.sqrt(np.asarray(b["test_accuracy"][1]) ** 2 / b["n_seeds"]
                 + np.asarray(a["test_accuracy"][1]) ** 2 / a["n_seeds"])  # fmt: skip
    return {
        "epochs": [int(e) for e in b["epochs"]],
        "ballistic_minus_sgd_train_loss": loss_gap.tolist(),
        "ballistic_minus_adam_test_accuracy": acc_gap.tolist(),
        "ballistic_minus_adam_test_accuracy_se": se.tolist(),
        "ballistic_beats_sgd": (loss_gap < 0).tolist(),
        "ballistic_close_to_adam": (np.abs(acc_gap) <= close_to_adam).tolist(),
    }


def epoch_ranges(epochs, flags) -> str:
    """The epochs where ``flags`` holds, as ranges: "1-3, 7, 9-25", or "none"."""
    spans, start, prev = [], None, None
    for e, f in zip(epochs, flags, strict=True):
        if f and start is None:
            start = e
        if not f and start is not None:
            spans.append((start, prev))
            start = None
        prev = e
    if start is not None:
        spans.append((start, prev))
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in spans) or "none"


def training_report(headline: dict, claims: dict, by_epoch: dict | None = None) -> str:
    """The printed table of one training panel: ours (mean ± sd) against the published values, then the claims."""

    def cell(mean_sd, key, pub, n):
        ours = f"{mean_sd[0]:.3f} ± {mean_sd[1]:.3f}" if n > 1 else f"{mean_sd[0]:.3f}"
        return ours + (f" (published {pub[key]:.3f})" if key in pub else "")

    lines = []
    for opt, row in headline.items():
        pub, n = row.get("published", {}), row["n_seeds"]
        lines.append(
            f"{opt:9s} n={n}: final test acc {cell(row['final_test_accuracy'], 'test_accuracy', pub, n)}; "
            f"train loss epoch 1 {cell(row['train_loss_epoch1'], 'train_loss_epoch1', pub, n)}, "
            f"epoch {row['last_epoch']} {cell(row['final_train_loss'], 'train_loss', pub, n)}"
        )
    verdict = {True: "holds", False: "does NOT hold"}
    lines.append(
        f"Ballistic beats SGD (lower final train loss): {verdict[claims['ballistic_beats_sgd']]} "
        f"(Ballistic - SGD = {claims['ballistic_minus_sgd_train_loss']:+.4f})"
    )
    lines.append(
        f"Ballistic is close to Adam (|final test acc gap| <= {claims['close_to_adam_tolerance']:.3f}): "
        f"{verdict[claims['ballistic_close_to_adam']]} "
        f"(Ballistic - Adam = {claims['ballistic_minus_adam_test_accuracy']:+.4f})"
    )
    if by_epoch is not None and len(by_epoch["epochs"]) > 1:
        e = by_epoch["epochs"]
        lines.append(
            f"by epoch (the same runs stopped there): Ballistic beats SGD at epochs "
            f"{epoch_ranges(e, by_epoch['ballistic_beats_sgd'])}; Ballistic is close to Adam at epochs "
            f"{epoch_ranges(e, by_epoch['ballistic_close_to_adam'])}"
        )
        se = by_epoch.get("ballistic_minus_adam_test_accuracy_se")
        if se is not None and any(se):
            gap = by_epoch["ballistic_minus_adam_test_accuracy"]
            step = max(1, len(e) // 5)
            shown = [i for i in range(len(e)) if (i + 1) % step == 0 or i == len(e) - 1]
            within = sum(abs(g) <= 2 * x for g, x in zip(gap, se, strict=True))
            lines.append(
                "Ballistic - Adam test acc, points, mean ± standard error over seeds: "
                + ", ".join(f"epoch {e[i]} {100 * gap[i]:+.2f} ± {100 * se[i]:.2f}" for i in shown)
                + f"; within 2 standard errors of 0 at {within} of {len(e)} epochs"
            )
    return "\n".join(lines)


def training_title(dataset: str, model: str, runs: dict, reference: dict | None) -> str:
    """Panel title: the dataset exactly as used, the protocol's size (epochs of the protocol's, seeds, subset)
    and where it ran; the paper's dataset when it differs."""
    run = next(iter(runs.values()))
    full = PROTOCOLS[model]["epochs"]
    epochs = len(run["epochs"])
    shape = " as 3x32x32" if model == "cnn" and dataset in ("mnist", "fashion-mnist") else ""
    size = f", {run['n_train']} train imgs" if run.get("subset") else ""
    span = f"{epochs} epochs" if epochs == full else f"{epochs} of the protocol's {full} epochs"
    seeds = f"{run['n_seeds']} seed{'s' if run['n_seeds'] > 1 else ''}"
    devices = "/".join(d.upper() if d == "cpu" else d.upper().replace("CUDA", "GPU") for d in run["devices"])
    paper = "" if reference is not None else f" (paper: {DATASET_NAMES[PAPER_DATASET[model]]})"
    return f"{DATASET_NAMES[dataset]}{shape}, {model.upper()}{size}, {span}, {seeds}, {devices}{paper}"


def training_panels(panel_runs: dict) -> dict[str, Panel]:
    """Panels (e, f): train loss and test accuracy per epoch, mean +- sd over seeds, published overlaid (dotted).

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
                    if reference is not None:  # the published curve over the epochs that were run
                        ref, shown = reference[opt], slice(0, reference[opt]["epochs"].index(run["epochs"][-1]) + 1)
                        ax.plot(ref["epochs"][shown], ref[key][shown], color=color, ls=":", marker=".", ms=4, lw=1,
                                label=f"{label}, published")  # fmt: skip
                ax.set(xlabel="epoch", ylabel=ylabel)
            axes[0].figure.suptitle(title, fontsize=8)
            axes[0].legend(fontsize=6)

        out[letter] = Panel(draw, cols=2, size=(6.0, 2.8))
    return out


@dataclass(frozen=True, kw_only=True)
class Params(FigureParams):
    """Figure 2's parameters (the paper's values by default); every value is checked when the object is made
    (``_check``). ``train`` (retrain panels e-f now) is an action: checked, not stored."""

    gammas: tuple[float, ...] = (0.0, 1.0, 10.0)  # discount rates compared in every theory panel
    eta: float = 1.0  # kinetic weight 1/(2 eta)
    k: float = 1.0  # loss weight
    h_1d: tuple[float, ...] = (1.0,)  # (a-b) 1-D quadratic
    mu_1d: tuple[float, ...] = (1.0,)
    theta0_1d: tuple[float, ...] = (0.0,)
    T_1d: float = 10.0
    h_2d: tuple[float, ...] = (1 / 9, 1.0)  # (c) anisotropic 2-D quadratic
    mu_2d: tuple[float, ...] = (0.0, 0.0)
    theta0_2d: tuple[float, ...] = (-3.0, -3.0)
    T_2d: float = 500.0
    lim_2d: tuple[float, ...] = (-4.0, 0.5, -3.2, 0.5)  # (c) axes
    ratio_range: tuple[float, ...] = (0.01, 4.0)  # (d) range of H11/H22
    ratio_checks: tuple[float, ...] = (0.25, 1.0, 4.0)  # (d) where the solver measures r1/r2
    bvp_margin: float = 20.0  # the solver's free end sits this far beyond the plotted span
    training_dir: str = "results/training"  # (e-f) the runs' records
    dataset_e: str = "mnist"
    dataset_f: str = "cifar10-jpeg"
    seeds_e: int = 3
    epochs_e: int = 10
    seeds_f: int = 3
    epochs_f: int = 25
    subset_f: int | None = None
    test_subset_f: int | None = None
    close_e: float = 0.005  # "Ballistic is close to Adam": |final test accuracy gap| at most this (e, f)
    close_f: float = 0.01
    bench_dir: str = "results/benchmark"  # (E6) the benchmark's trial records
    exact_report: str = "results/benchmarks/bench_exact_rule.json"  # (E6) the exact rule's cost report
    train: bool = dataclasses.field(default=False, metadata={"stored": False})

    def __post_init__(self):
        self._check_outputs()
        if isinstance(self.gammas, str) or not isinstance(self.gammas, list | tuple):
            raise ValueError(f"Invalid GAMMAS value: {self.gammas!r}; expected a list of 1 to 5 rates >= 0.")
        floats = {n: real(getattr(self, n), n.upper()) for n in ("eta", "k", "T_1d", "T_2d", "bvp_margin", "close_e",
                                                                  "close_f")}  # fmt: skip
        vectors = {n: vector(getattr(self, n), n.upper()) for n in ("h_1d", "mu_1d", "theta0_1d", "h_2d", "mu_2d",
                                                                     "theta0_2d", "lim_2d", "ratio_range",
                                                                     "ratio_checks")}  # fmt: skip
        self._set(gammas=tuple(real(g, "GAMMAS") for g in self.gammas), **floats, **vectors)
        self._check()

    def _check(self) -> None:
        """Every check, by the notebook's names (ValueError names the parameter and its range; FileNotFoundError
        when ``train`` is False and a panel's runs are not cached)."""
        gammas, eta, k = self.gammas, self.eta, self.k
        if not 1 <= len(gammas) <= len(GAMMA_COLORS):
            raise ValueError(
                f"Invalid GAMMAS value: {list(gammas)!r}; expected a list of 1 to {len(GAMMA_COLORS)} rates >= 0."
            )
        check_distinct(gammas, "GAMMAS")
        check_distinct(self.ratio_checks, "RATIO_CHECKS")
        problems(self.h_1d, self.mu_1d, gammas, eta, k)
        problems(self.h_2d, self.mu_2d, gammas, eta, k)
        check_vector(self.theta0_1d, "THETA0_1D", len(self.h_1d))
        check_vector(self.h_2d, "H_2D", 2)
        check_box(self.lim_2d, "LIM_2D")
        check_in_box(self.theta0_2d, "THETA0_2D", self.lim_2d, "LIM_2D")
        for name, value in (("T_1D", self.T_1d), ("T_2D", self.T_2d), ("BVP_MARGIN", self.bvp_margin)):
            check_positive(value, name)
        check_range(self.ratio_range, "RATIO_RANGE", positive=True)
        checks = check_positive_array(self.ratio_checks, "RATIO_CHECKS")
        if checks.min() < MIN_MEASURED_RATIO:
            raise ValueError(
                f"Invalid RATIO_CHECKS value: {checks.min():g} < {MIN_MEASURED_RATIO:g}; the solver's rate is fitted "
                "on t in [0.5, 5], where a smaller curvature barely moves theta, so the fit would be noise."
            )
        for g in gammas:
            if g > MAX_GAMMA:
                raise ValueError(f"Invalid GAMMAS value: {g!r} > {MAX_GAMMA:g}; {BVP_LIMIT}")
            for name, h in (("H_1D", self.h_1d), ("H_2D", self.h_2d)):
                # the free end at T + BVP_MARGIN adds a mode growing toward it at rate r + gamma: it must have
                # decayed by MIN_EFOLDS at T for the check on [0, T] to be about the closed form, not the boundary
                slowest = float(np.min(rate(np.asarray(h), g, eta, k))) + g
                if self.bvp_margin * slowest < MIN_EFOLDS:
                    raise ValueError(
                        f"Invalid {name} value: {list(h)}; BVP_MARGIN = {self.bvp_margin:g} leaves "
                        f"{self.bvp_margin * slowest:.3g} e-folds (rate r + gamma = {slowest:.3g} at gamma = {g:g}) "
                        f"between T and the solver's free end, and the check needs >= {MIN_EFOLDS:g}: raise "
                        "BVP_MARGIN or the smallest curvature."
                    )
        if not isinstance(self.train, bool):
            raise ValueError(f"Invalid TRAIN value: {self.train!r}; expected True or False (not a string or a number).")
        for letter, model in (("e", "mlp"), ("f", "cnn")):
            dataset, n_seeds, n_epochs = (getattr(self, f"{n}_{letter}") for n in ("dataset", "seeds", "epochs"))
            subset = getattr(self, f"subset_{letter}", None)
            test_subset = getattr(self, f"test_subset_{letter}", None)
            check_choice(dataset, f"DATASET_{letter.upper()}", DATASET_NAMES)
            check_int(n_seeds, f"SEEDS_{letter.upper()}", 1)
            check_int(n_epochs, f"EPOCHS_{letter.upper()}", 1)
            check_positive(getattr(self, f"close_{letter}"), f"CLOSE_{letter.upper()}")
            for name, value in ((f"SUBSET_{letter.upper()}", subset), (f"TEST_SUBSET_{letter.upper()}", test_subset)):
                if value is not None:
                    check_int(value, name, 1)
            if not self.train:
                require_runs(self.training_dir, dataset, model, n_seeds, n_epochs, subset, test_subset)
        if not pathlib.Path(self.bench_dir).is_dir():
            raise FileNotFoundError(f"BENCH_DIR {self.bench_dir!r} is not a folder: point it at the benchmark's "
                                    "records (results/benchmark) or make them with `python -m functions.experiments "
                                    "benchmark`.")  # fmt: skip
        if not pathlib.Path(self.exact_report).is_file():
            raise FileNotFoundError(
                f"EXACT_REPORT {self.exact_report!r} missing: run `python "
                "tests/benchmarks/bench_exact_rule.py` (it writes results/benchmarks/)."
            )


@dataclass(frozen=True)
class Fig2Data:
    """What Figure 2 computes: the closed forms and their solver checks (a-d), and the training runs (e-f)."""

    params: Params
    loss1d: Quadratic
    loss2d: Quadratic
    opt1d: dict
    opt2d: dict
    dev1d: dict
    dev2d: dict
    ratio_points: dict
    runs: dict  # {letter: (runs, published or None, title)}


def compute(params: Params) -> Fig2Data:
    """Closed forms and BVP checks (1-D, 2-D, rate ratios), then panels e-f's runs from their records."""
    p = params
    probs1d = problems(p.h_1d, p.mu_1d, p.gammas, p.eta, p.k)
    probs2d = problems(p.h_2d, p.mu_2d, p.gammas, p.eta, p.k)
    opt1d, opt2d = optima(probs1d, p.theta0_1d), optima(probs2d, p.theta0_2d)
    dev1d = confirm(probs1d, opt1d, p.T_1d, p.bvp_margin)
    dev2d = confirm(probs2d, opt2d, p.T_2d, p.bvp_margin)
    ratio_points = measured_rate_ratios(p.ratio_checks, p.gammas, p.eta, p.k)
    runs = {}
    for letter, model, subsets in (("e", "mlp", (None, None)), ("f", "cnn", (p.subset_f, p.test_subset_f))):
        dataset = getattr(p, f"dataset_{letter}")
        r = load_runs(p.training_dir, dataset, model, getattr(p, f"seeds_{letter}"), getattr(p, f"epochs_{letter}"),
                      *subsets)  # fmt: skip
        ref = published(dataset)
        runs[letter] = (r, ref, training_title(dataset, model, r, ref))
    return Fig2Data(p, Quadratic(p.h_1d, p.mu_1d), Quadratic(p.h_2d, p.mu_2d), opt1d, opt2d, dev1d, dev2d,
                    ratio_points, runs)  # fmt: skip


def headline(data: Fig2Data) -> dict:
    """The numbers results/fig2.json stores (the solver gaps, round-off sized, are printed, not stored)."""
    p = data.params
    out = {
        "r_1d": {str(g): rate(p.h_1d[0], g, p.eta, p.k) for g in p.gammas},
        "rates_2d": {str(g): data.opt2d[g].r for g in p.gammas},
        "ratio_at_4": {str(g): rate_ratio(4.0, 1.0, g, p.eta, p.k) for g in p.gammas},
        "ratio_measured": {str(g): list(data.ratio_points[g].values()) for g in p.gammas},
    }
    for letter in "ef":
        runs, ref, _ = data.runs[letter]
        out[f"training_{letter}"] = training_headline(runs, ref)
    for letter in "ef":
        close = getattr(p, f"close_{letter}")
        out[f"claims_{letter}"] = training_claims(out[f"training_{letter}"], close)
        out[f"claims_by_epoch_{letter}"] = claims_by_epoch(data.runs[letter][0], close)
    return out


def report(data: Fig2Data, numbers: dict, part: str) -> str:
    """The printed lines of one part: "1d" (a-b), "2d" (c), "ratios" (d) or "training" (e-f)."""
    p = data.params
    if part == "1d":
        return "\n".join(f"gamma = {g:4.1f}: r = {rate(p.h_1d[0], g, p.eta, p.k):.4f}   max |closed form - solver| = "
                         f"{fmt_small(data.dev1d[g], 1e-8)}" for g in p.gammas)  # fmt: skip
    if part == "2d":
        lines = []
        for g in p.gammas:
            r = data.opt2d[g].r
            lines.append(f"gamma = {g:4.1f}: rates (r1, r2) = ({r[0]:.4f}, {r[1]:.4f}), r2/r1 = {r[1] / r[0]:.2f}   "
                         f"max |closed form - solver| = {fmt_small(data.dev2d[g], 1e-8)}")  # fmt: skip
        return "\n".join(lines)
    if part == "ratios":
        lines = []
        for g in p.gammas:
            worst = max(abs(data.ratio_points[g][x] - rate_ratio(x, 1.0, g, p.eta, p.k)) for x in p.ratio_checks)
            lines.append(f"gamma = {g:4.1f}: r1/r2 at H11/H22 = 4 is {rate_ratio(4.0, 1.0, g, p.eta, p.k):.3f} "
                         f"(linear 4, square root 2); solver vs closed form {fmt_small(worst, 1e-6)}")  # fmt: skip
        return "\n".join(lines)
    if part == "training":
        blocks = []
        for letter in "ef":
            title = data.runs[letter][2]
            body = training_report(numbers[f"training_{letter}"], numbers[f"claims_{letter}"],
                                   numbers[f"claims_by_epoch_{letter}"])  # fmt: skip
            blocks.append(f"({letter}) {title}\n{body}")
        return "\n\n".join(blocks)
    raise ValueError(f"Invalid part value: {part!r}; expected one of 1d, 2d, ratios, training.")


def panels(data: Fig2Data, params: Params) -> dict[str, Panel]:
    """Panels a-d (theory) and e-f (training)."""
    out = theory_panels(params, opt1d=data.opt1d, opt2d=data.opt2d, ratio_points=data.ratio_points)
    return out | training_panels(data.runs)


# --- Beyond the paper (E1): the curvature law on a real model's spectrum ----------------------------------------

E1_STARTS = {"near": r"$\theta^* + \delta$", "zero": r"$\theta_0 = 0$"}
_E1_TEXT = {"near": "theta* + delta", "zero": "theta0 = 0"}


def e1_headline(record: dict) -> dict:
    """E1's numbers from its cached record (``real_model_runs``): per start and gamma the fitted log-log slope of
    the rates against h with its bootstrap interval, the slope of r(h) over the same modes, the modes fitted and
    the decades they span, the median rate error and which criteria held; the slopes at the extreme gammas; the
    largest change of a slope from N to 2N time points, per start."""
    out = {"dim": record["config"]["dim"], "lam": record["config"]["lam"], "criteria": record["criteria"]}
    for start in E1_STARTS:
        rows = [c for c in record["cases"] if c["start"] == start]
        out[start] = {
            "gamma": [c["gamma"] for c in rows],
            "slope": [c["slope"] for c in rows],
            "slope_interval": [c["slope_interval"] for c in rows],
            "slope_predicted": [c["slope_predicted"] for c in rows],
            "n_fitted": [c["n_fitted"] for c in rows],
            "decades": [c["decades"] for c in rows],
            "rate_median_rel": [c["rate_median_rel"] for c in rows],
            "holds": [all(c["holds"].values()) for c in rows],
            "n_hold": int(sum(all(c["holds"].values()) for c in rows)),
            "refine_max_slope_change": max(r["slope_change"] for r in record["refined"] if r["start"] == start),
        }
    out["limits"] = record["limits"]
    return out


def e1_report(numbers: dict) -> str:
    """The printed lines of E1."""
    c = numbers["criteria"]
    lines = [
        f"E1 (MNIST logistic regression, d = {numbers['dim']}, lambda = {numbers['lam']:g}): log-log slope of the "
        "fitted rates against h (95 % bootstrap over modes) vs the slope of r(h) over the same modes",
        f"criteria: median rate error <= {100 * c['rate_median_rel']:g} %, |slope gap| <= {c['slope_gap']:g}, "
        f">= {c['min_decades']:g} decades fitted",
    ]
    for start in E1_STARTS:
        n = numbers[start]
        for i, g in enumerate(n["gamma"]):
            lo, hi = n["slope_interval"][i]
            lines.append(f"  gamma = {g:<7.3g} from {_E1_TEXT[start]}: slope {n['slope'][i]:.3f} [{lo:.3f}, {hi:.3f}], "
                         f"r(h) {n['slope_predicted'][i]:.3f}; {n['n_fitted'][i]} modes over "
                         f"{n['decades'][i]:.1f} decades; median rate error {100 * n['rate_median_rel'][i]:.2f} %: "
                         f"{verdict(n['holds'][i])}")  # fmt: skip
        lines.append(
            f"  from {_E1_TEXT[start]}: all criteria hold at {n['n_hold']} of {len(n['gamma'])} gammas; "
            f"N -> 2N time points changes a slope by at most {n['refine_max_slope_change']:.3f}"
        )
    lim = numbers["limits"]
    lines.append(f"limits (from theta* + delta): slope {lim['slope_at_smallest_gamma']:.3f} at the smallest gamma "
                 f"(1/2 predicted), {lim['slope_at_largest_gamma']:.3f} at the largest (1): "
                 f"{'hold' if lim['holds'] else 'do not hold'}")  # fmt: skip
    return "\n".join(lines)


def e1_panels(record: dict) -> dict[str, Panel]:
    """Panel g (this repository's extension): left, each fitted mode's rate against its curvature at the
    smallest, a middle and the largest gamma (from theta* + delta), with r(h); right, the fitted slope against
    gamma from both starts (bootstrap intervals) and the slope of r(h), between the limits 1/2 and 1."""
    h = np.asarray(record["h"])
    eta, k = record["config"]["eta"], record["config"]["k"]
    near = [c for c in record["cases"] if c["start"] == "near"]
    shown = [near[i] for i in sorted({0, len(near) // 2, len(near) - 1})]
    grid = np.geomspace(h.min(), h.max(), 200)

    def draw(axes):
        left, right = axes
        for case, color in zip(shown, GAMMA_COLORS, strict=False):
            rate_i = np.array([np.nan if v is None else v for v in case["rate"]])
            ok = np.isfinite(rate_i)
            left.loglog(h[ok], rate_i[ok], ".", ms=3, color=color, label=rf"$\gamma = {case['gamma']:.3g}$")
            left.loglog(grid, np.sqrt(case["gamma"] ** 2 / 4 + eta * k * grid) - case["gamma"] / 2, "-", lw=0.8,
                        color=color)  # fmt: skip
        left.set_xlabel("curvature $h$ of the mode")
        left.set_ylabel("fitted decay rate")
        left.legend(fontsize=6, frameon=False)
        left.set_title("dots: fitted; lines: $r(h)$", fontsize=8)
        for start, marker, color in (("near", "o", "black"), ("zero", "s", "#e67e22")):
            rows = [c for c in record["cases"] if c["start"] == start]
            g = np.array([c["gamma"] for c in rows])
            sl = np.array([c["slope"] for c in rows])
            err = np.abs(np.array([c["slope_interval"] for c in rows]).T - sl)
            right.errorbar(g, sl, yerr=err, fmt=marker, ms=4, color=color, capsize=2, label=E1_STARTS[start])
            right.semilogx(g, [c["slope_predicted"] for c in rows], "x", color=color, ms=5)
        for level in (0.5, 1.0):
            right.axhline(level, ls="--", lw=0.8, color="grey")
        right.set_xlabel(r"discount $\gamma$")
        right.set_ylabel(r"slope of $\log r$ against $\log h$")
        right.legend(fontsize=6, frameon=False, title="fitted (x: $r(h)$)", title_fontsize=6)
        right.set_title("(extension, not in the paper)", fontsize=8)

    return {"g": Panel(draw, cols=2, size=(7.0, 3.0))}


# --- Beyond the paper (E2): the gradient-descent limit on a real model -------------------------------------------


def e2_headline(record: dict) -> dict:
    """E2's numbers from its cached record (``real_model_runs``): per gamma (and its multiple m of
    sqrt(eta k Lambda)) the gaps of gradient flow and of the modified flow to the optimal path, the solver's floor
    and the costate residual; the fitted slopes, how many gammas each used, and which criteria held."""
    cfg, s = record["config"], record["summary"]
    cases = record["cases"]
    return {
        "dim": cfg["dim"],
        "lam": cfg["lam"],
        "n_points": cfg["n_points"],
        "Lambda": record["model"]["Lambda"],
        "criteria": record["criteria"],
        "multiple": list(cfg["multiples"]),
        "gamma": [c["gamma"] for c in cases],
        "gap_gf": [c["gap_gf"] for c in cases],
        "gap_modified": [c["gap_modified"] for c in cases],
        "floor": [c["floor"] for c in cases],
        "residual_max": max(c["residual"] for c in cases),
        "gf_slope": s["gf_slope"],
        "modified_slope": s["modified_slope"],
        "n_fit": s["n_fit"],
        "n_measurable": s["n_measurable"],
        "ratio": s["ratio"],
        "holds": s["holds"],
    }


def e2_report(numbers: dict) -> str:
    """The printed lines of E2."""
    c = numbers["criteria"]
    lines = [
        f"E2 (MNIST logistic regression, d = {numbers['dim']}, lambda = {numbers['lam']:g}, from theta0 = 0; "
        f"Lambda = {numbers['Lambda']:.3f}): max_t |theta_opt - theta_flow| / |theta0 - theta*|",
    ]
    for i, g in enumerate(numbers["gamma"]):
        lines.append(f"  gamma = {g:<6.3g} ({numbers['multiple'][i]:g} sqrt(eta k Lambda)): gradient flow "
                     f"{numbers['gap_gf'][i]:.2e}, modified loss {numbers['gap_modified'][i]:.2e}, "
                     f"solver floor {numbers['floor'][i]:.1e}")  # fmt: skip
    mod = numbers["modified_slope"]
    h = numbers["holds"]
    lines += [
        f"slope of gradient flow's gap over m >= {c['fit_from']:g}: {numbers['gf_slope']:.2f} (criterion "
        f"{c['gf_slope']:g} +- {c['slope_tol']:g}): {verdict(h['gf_slope'])}",
        f"modified flow below gradient flow at every gamma: {verdict(h['modified_below'])} "
        f"(gradient flow's gap / the modified flow's: {numbers['ratio'][0]:.1f} at the smallest gamma, "
        f"{numbers['ratio'][-1]:.1f} at the largest)",
        "slope of the modified flow's gap over the gammas where it is >= "
        f"{c['floor_factor']:g} x the floor ({numbers['n_measurable']}): "
        + (f"{mod:.2f}" if mod is not None else "not measured")
        + f" (criterion <= {c['mod_slope_max']:g}): {verdict(h['modified_slope'])}",
        f"largest costate residual {numbers['residual_max']:.1e} (<= {c['residual']:g}): {verdict(h['residual'])}",
    ]
    return "\n".join(lines)


def _multiple_ticks(ax, m) -> None:
    """x ticks at the measured multiples of sqrt(eta k Lambda), plainly labelled (no minor labels)."""
    from matplotlib.ticker import NullFormatter

    ax.set_xticks(m)
    ax.set_xticklabels([f"{v:g}" for v in m])
    ax.xaxis.set_minor_formatter(NullFormatter())


def e2_panels(record: dict) -> dict[str, Panel]:
    """Panel h (this repository's extension): the gap between the optimal path and gradient flow (at rate
    eta k / gamma) and the flow on the modified loss, against gamma in units of sqrt(eta k Lambda), with the
    slopes -2 and -4 through the first fitted point and the solver's floor."""
    n = e2_headline(record)
    m = np.asarray(n["multiple"])
    gf, mod, floor = (np.asarray(n[key]) for key in ("gap_gf", "gap_modified", "floor"))
    i0 = int(np.argmax(m >= n["criteria"]["fit_from"]))

    def draw(axes):
        (ax,) = axes
        ax.loglog(m, gf, "o", color="black", ms=4, label="gradient flow")
        ax.loglog(m, mod, "s", color="#e67e22", ms=4, label=r"modified loss $L - \frac{\eta k}{2\gamma^2}|\nabla L|^2$")
        ax.loglog(m, floor, "x", color="grey", ms=4, label="solver floor ($N$ vs $2N$)")
        grid = np.geomspace(m.min(), m.max(), 50)
        ax.loglog(grid, gf[i0] * (grid / m[i0]) ** -2.0, "--", lw=0.8, color="black", label=r"$\propto \gamma^{-2}$")
        ax.loglog(grid, mod[i0] * (grid / m[i0]) ** -4.0, ":", lw=0.8, color="#e67e22", label=r"$\propto \gamma^{-4}$")
        _multiple_ticks(ax, m)
        ax.set_xlabel(r"$\gamma / \sqrt{\eta k \Lambda}$")
        ax.set_ylabel(r"$\max_t |\theta^*(t) - \theta_{\rm flow}(t)| \,/\, |\theta_0 - \theta^*|$")
        ax.legend(fontsize=6, frameon=False)
        ax.set_title("(extension, not in the paper)", fontsize=8)

    return {"h": Panel(draw, size=(3.6, 3.0))}


#: E3's learners as drawn: the record's keys, their labels and colours (the optimal path in black).
E3_STYLE = {"gf": ("gradient flow", "#7f8c8d", "-"), "heavy_ball": ("heavy ball", "#1f3fdb", "-"),
            "ballistic": ("Ballistic flow", "#e67e22", "-"), "adam": ("Adam flow", "#27ae60", "--")}  # fmt: skip


def e3_headline(record: dict) -> dict:
    """E3's numbers from its cached record: per gamma (and its multiple of sqrt(eta k Lambda)) each family's tuned
    regret (J - J*) / J* and constants, the best family, gradient flow's tuned rate against eta k / gamma at the
    largest gamma, and which criteria held."""
    cfg, s = record["config"], record["summary"]
    cases = record["cases"]
    return {
        "dim": cfg["dim"],
        "lam": cfg["lam"],
        "subset": cfg["subset"],
        "n_points": cfg["n_points"],
        "Lambda": record["model"]["Lambda"],
        "criteria": record["criteria"],
        "multiple": list(cfg["multiples"]),
        "gamma": [c["gamma"] for c in cases],
        "regret": {key: [c["learners"][key]["regret"] for c in cases] for key in E3_STYLE},
        "constants": {key: [c["learners"][key]["constants"] for c in cases] for key in E3_STYLE},
        "converged": {key: [c["learners"][key]["converged"] for c in cases] for key in E3_STYLE},
        "residual_max": max(c["residual"] for c in cases),
        "gf_rate": s["gf_rate_over_eta_k_by_gamma"],
        "best": s["best"],
        "holds": s["holds"],
    }


def e3_report(numbers: dict) -> str:
    """The printed lines of E3."""
    c, h = numbers["criteria"], numbers["holds"]

    lines = [f"E3 (MNIST logistic regression, d = {numbers['dim']}, lambda = {numbers['lam']:g}, the first "
             f"{numbers['subset']:,} images, from theta0 = 0; Lambda = {numbers['Lambda']:.3f}): tuned regret "
             "(J - J*) / J*"]  # fmt: skip
    for i, g in enumerate(numbers["gamma"]):
        row = ", ".join(f"{E3_STYLE[k][0]} {numbers['regret'][k][i]:.3g}" for k in E3_STYLE)
        lines.append(f"  gamma = {g:<7.3g} ({numbers['multiple'][i]:g} sqrt(eta k Lambda)): {row}; best: "
                     f"{E3_STYLE[numbers['best'][i]][0]}")  # fmt: skip
    smallest = min(min(r) for r in numbers["regret"].values())
    lines += [
        f"smallest regret {smallest:.2g} (>= -{c['regret_floor']:g}): {verdict(h['regret_nonnegative'])}",
        f"largest gamma: gradient flow's regret {numbers['regret']['gf'][-1]:.2g} (<= "
        f"{c['gf_regret_max']:g}) at tuned rate {numbers['gf_rate']:.3f} x eta k / gamma (within "
        f"{c['gf_rate_tol']:g}): {verdict(h['gf_limit'])}",
        f"gradient flow's regret falls as gamma grows: {verdict(h['gf_falls'])}",
        f"heavy ball's regret <= gradient flow's at every gamma: {verdict(h['heavy_ball_at_most_gf'])}",
        f"smallest gamma: Ballistic flow below gradient flow: {verdict(h['ballistic_beats_gf_far_sighted'])}; "
        f"Adam flow below gradient flow: {verdict(h['adam_beats_gf_far_sighted'])}",
        f"largest costate residual {numbers['residual_max']:.1e}",
        "tuning converged within its budget (of the gammas): "
        + ", ".join(f"{E3_STYLE[k][0]} {sum(v)} of {len(v)}" for k, v in numbers["converged"].items()),
    ]
    return "\n".join(lines)


def e3_panels(record: dict) -> dict[str, Panel]:
    """Panels i and j (this repository's extension). i: each family's tuned regret against gamma in units of
    sqrt(eta k Lambda), a regret under the criteria's floor (the solver's tolerance) drawn on it. j: loss above
    L(theta*) (top) and distance to theta* (bottom) of the optimal path and the tuned learners on one time axis,
    at the smallest, a middle and the largest gamma."""
    n = e3_headline(record)
    m = np.asarray(n["multiple"])
    cases = record["cases"]
    shown = sorted({0, len(cases) // 2, len(cases) - 1})

    def draw_regret(axes):
        (ax,) = axes
        floor = n["criteria"]["regret_floor"]
        for key, (label, color, style) in E3_STYLE.items():
            ax.loglog(m, np.maximum(n["regret"][key], floor), "o" + style, color=color, ms=4, lw=1, label=label)
        ax.axhline(floor, color="0.6", lw=0.6, ls=":", label=f"solver tolerance ({floor:g}; below drawn on it)")
        _multiple_ticks(ax, m)
        ax.set_xlabel(r"$\gamma / \sqrt{\eta k \Lambda}$")
        ax.set_ylabel(r"regret $(J - J^*) / J^*$")
        ax.legend(fontsize=6, frameon=False)
        ax.set_title("(extension, not in the paper)", fontsize=8)

    def draw_curves(axes):
        for col, i in enumerate(shown):
            case = cases[i]
            t = np.asarray(case["curves"]["t"])[1:]
            top, bottom = axes[col], axes[len(shown) + col]
            for key, (label, color, style) in {"optimal": ("optimal", "black", "-"), **E3_STYLE}.items():
                curve = case["curves"][key]
                top.loglog(t, np.maximum(curve["loss"][1:], 1e-16), style, color=color, lw=1, label=label)
                bottom.semilogx(t, curve["distance"][1:], style, color=color, lw=1)
            top.set_title(f"$\\gamma = {n['multiple'][i]:g}\\sqrt{{\\eta k \\Lambda}}$", fontsize=8)
            bottom.set_xlabel("$t$")
        axes[0].set_ylabel(r"$L - L(\theta^*)$")
        axes[len(shown)].set_ylabel(r"$|\theta - \theta^*|$")
        axes[0].legend(fontsize=5, frameon=False)

    return {"i": Panel(draw_regret, size=(3.6, 3.0)),
            "j": Panel(draw_curves, rows=2, cols=len(shown), size=(2.4 * len(shown), 4.2))}  # fmt: skip
