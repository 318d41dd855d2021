"""Figure 4 (our construction): Adam-like rules from online Bayesian inference, and weight resetting.

(a) gradient belief = Kalman filter = EMA; (b) curvature belief = mean squared per-sample gradient
= diag(H); (c) measured rate ratios of SGD, Adam, Ballistic on a noisy quadratic; (d) their mean
trajectories against the optimal ones; (e) learning-rate sensitivity on the MLP task; (f) resetting.
"""

from __future__ import annotations

import dataclasses
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
)
from ._params import FigureParams, real, vector
from .beliefs import (
    beta1_from_noise_ratio,
    ema,
    kalman_filter,
    optimal_reset_fraction,
    running_curvature,
    steady_state_gain,
)
from .closed_form import quadratic_optimum, rate_ratio
from .data import DATASET_NAMES
from .landscapes import Quadratic
from .noisy_quadratic import curve_distance, fit_rates, simulate
from .objective import Problem
from .optimisers import OPTIMISERS
from .plotting import BELIEF_COLOURS, OPTIMISER_STYLE, Panel, loss_heatmap
from .protocol import sweep_configs
from .results_io import fmt_small, verdict
from .run_records import load_records
from .tasks import compare_resets

__all__ = [
    "Fig4Data",
    "Params",
    "compute",
    "headline",
    "report",
    "curvature_belief",
    "gradient_belief",
    "load_lr_sweep",
    "lr_summary",
    "mean_trajectories",
    "optimal_curves",
    "panels",
    "rate_ratios",
    "require_lr_sweep",
    "path_distances",
    "distance_report",
    "sweep_title",
    "e4_headline",
    "e4_report",
    "e4_panels",
]

GAMMA_STYLE = {0.0: "#29b6f6", 10.0: "0.45"}


#: SGD's decay over the fitted steps, in e-folds, below which a rate cannot be told from the noise.
MIN_EFOLDS = 0.1


def _settings(value, name: str, pairs: bool) -> dict:
    if not isinstance(value, dict) or not value or set(value) - set(OPTIMISERS):
        raise ValueError(f"Invalid {name} value: {value!r}; expected a dict keyed by some of {OPTIMISERS}.")
    if not pairs:
        return {k: check_positive(v, f"{name}[{k!r}]") for k, v in value.items()}
    out = {}
    for k, v in value.items():
        if not isinstance(v, tuple | list) or len(v) != 2:
            raise ValueError(f"Invalid {name}[{k!r}] value: {v!r}; expected (learning rate, first fitted step).")
        out[k] = (check_positive(v[0], f"{name}[{k!r}] learning rate"), v[1])
    return out


@dataclass(frozen=True, kw_only=True)
class Params(FigureParams):
    """Figure 4's parameters (our construction's values by default); every value is checked when the object is made.

    ``train`` (rerun panel e's sweep now) is an action, not a parameter of the figure: it is checked here but not
    stored in results/fig4.json.
    """

    q: float = 1.0  # (a) latent-gradient random-walk variance per step
    sigma2: float = 90.0  # (a) minibatch noise variance
    trace_steps: int = 400  # (a) length of the trace
    trace_seed: int = 0  # (a) its seed
    P0_diffuse: float = 100.0  # (a) prior variance of the filter started off steady state
    transient: int = 300  # (a) steps ignored after that start
    rho_range: tuple[float, ...] = (0.1, 1e4)  # (a) range of sigma^2 / q
    n_params: int = 24  # (b) parameters of the regression model
    n_samples: int = 20000  # (b) samples seen
    scale_range: tuple[float, ...] = (0.1, 3.0)  # (b) input scales (log-spaced)
    noise_sd: float = 1.0  # (b) label noise sd
    curv_seed: int = 0  # (b) seed
    h_ratios: tuple[float, ...] = (0.25, 1.0, 4.0, 9.0)  # (c) curvature ratios H11/H22 (H22 = 1)
    sigma: float = 10.0  # (c, d) gradient noise sd per unit sqrt(curvature)
    beta2: float = 0.99  # (c, d) curvature-belief EMA of Adam and Ballistic
    rate_settings: dict = dataclasses.field(
        default_factory=lambda: {"sgd": (2e-4, 0), "adam": (1e-3, 500), "ballistic": (1e-3, 500)}
    )  # (c) (lr, first fitted step)
    rate_steps: int = 5000  # (c) steps per measurement
    rate_seeds: int = 1000  # (c) independent runs per measurement
    h_2d: tuple[float, ...] = (1 / 9, 1.0)  # (d) quadratic
    theta0_2d: tuple[float, ...] = (-3.0, -3.0)  # (d) start
    lim_2d: tuple[float, ...] = (-3.3, 0.5, -3.3, 0.5)  # (d) axes
    traj_lrs: dict = dataclasses.field(default_factory=lambda: {"sgd": 6e-3, "adam": 2e-2, "ballistic": 2e-2})  # (d)
    traj_steps: int = 5000  # (d) steps
    traj_seeds: int = 400  # (d) runs averaged
    gammas_2d: tuple[float, ...] = (0.0, 10.0)  # (d) optimal paths drawn
    lr_sweep_dir: str = "results/training/lr_sweep"  # (e) the sweep's records
    sweep_dataset: str = "mnist"  # (e)
    sweep_seeds: int = 2  # (e)
    sweep_epochs: int = 1  # (e)
    cs: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 0.9)  # (f) task correlations
    rho_grid: tuple[float, ...] = tuple(np.linspace(0.0, 1.0, 41).tolist())  # (f) reset fractions tried
    train: bool = dataclasses.field(default=False, metadata={"stored": False})  # (e) rerun the sweep now

    def __post_init__(self):
        self._check_outputs()
        floats = {n: real(getattr(self, n), n.upper()) for n in ("q", "sigma2", "P0_diffuse", "noise_sd", "sigma",
                                                                  "beta2")}  # fmt: skip
        ints = {n: check_int(getattr(self, n), n.upper(), 0) for n in ("trace_seed", "curv_seed")}
        self._set(**floats, **ints, rho_range=vector(self.rho_range, "RHO_RANGE", 2),
                  scale_range=vector(self.scale_range, "SCALE_RANGE", 2), h_ratios=vector(self.h_ratios, "H_RATIOS"),
                  h_2d=vector(self.h_2d, "H_2D", 2), theta0_2d=vector(self.theta0_2d, "THETA0_2D", 2),
                  lim_2d=vector(self.lim_2d, "LIM_2D", 4), gammas_2d=vector(self.gammas_2d, "GAMMAS_2D"),
                  cs=vector(self.cs, "CS"), rho_grid=vector(self.rho_grid, "RHO_GRID"),
                  rate_settings=_settings(self.rate_settings, "RATE_SETTINGS", True),
                  traj_lrs=_settings(self.traj_lrs, "TRAJ_LRS", False))  # fmt: skip
        check_positive(self.q, "Q")
        check_positive(self.sigma2, "SIGMA2")
        self._set(trace_steps=check_int(self.trace_steps, "TRACE_STEPS", 2))
        self._set(transient=check_int(self.transient, "TRANSIENT", 0, self.trace_steps - 1))
        check_range(self.rho_range, "RHO_RANGE", positive=True)
        self._set(n_params=check_int(self.n_params, "N_PARAMS", 1), n_samples=check_int(self.n_samples, "N_SAMPLES", 1))
        check_range(self.scale_range, "SCALE_RANGE", positive=True)
        check_positive_array(self.h_ratios, "H_RATIOS")
        check_distinct(self.h_ratios, "H_RATIOS")
        check_positive(self.sigma, "SIGMA")
        if not 0.0 <= self.beta2 < 1.0:
            raise ValueError(f"Invalid BETA2 value: {self.beta2}; BETA2 must lie in [0, 1).")
        self._set(rate_steps=check_int(self.rate_steps, "RATE_STEPS", 2))
        for name, (_, start) in self.rate_settings.items():
            check_int(start, f"RATE_SETTINGS[{name!r}] first fitted step", 0, self.rate_steps - 2)
        if "sgd" in self.rate_settings:
            lr, start = self.rate_settings["sgd"]
            efolds = lr * min(min(self.h_ratios), 1.0) * (self.rate_steps - start)  # SGD decays by lr h per step
            if efolds < MIN_EFOLDS:
                raise ValueError(
                    f"Invalid H_RATIOS value: {min(self.h_ratios)!r}; SGD's mean path decays by {efolds:.3g} e-folds "
                    f"over the fitted steps there (lr x h x steps), too little to fit (>= {MIN_EFOLDS:g}): raise "
                    "RATE_STEPS or the smallest curvature."
                )
        for name in ("rate_seeds", "traj_steps", "traj_seeds", "sweep_seeds", "sweep_epochs"):
            self._set(**{name: check_int(getattr(self, name), name.upper(), 1)})
        check_positive_array(self.h_2d, "H_2D")
        check_box(self.lim_2d, "LIM_2D")
        check_in_box(self.theta0_2d, "THETA0_2D", self.lim_2d, "LIM_2D")
        gammas = np.asarray(self.gammas_2d)
        if np.any(gammas < 0) or len(gammas) > len(GAMMA_STYLE) or set(gammas.tolist()) - set(GAMMA_STYLE):
            raise ValueError(
                f"Invalid GAMMAS_2D value: {list(self.gammas_2d)!r}; expected some of {sorted(GAMMA_STYLE)} (drawn "
                "styles)."
            )
        check_distinct(self.gammas_2d, "GAMMAS_2D")
        cs = np.asarray(self.cs)
        if np.any(cs < 0) or np.any(cs > 1):
            raise ValueError(f"Invalid CS value: {cs.tolist()}; task correlations must lie in [0, 1].")
        check_distinct(self.cs, "CS")
        rho = np.asarray(self.rho_grid)
        if rho.size < 2 or np.any(rho < 0) or np.any(rho > 1):
            raise ValueError("Invalid RHO_GRID value: expected at least 2 reset fractions in [0, 1].")
        check_choice(self.sweep_dataset, "SWEEP_DATASET", DATASET_NAMES)
        if not isinstance(self.train, bool):
            raise ValueError(f"Invalid TRAIN value: {self.train!r}; expected True or False (not a string or a number).")
        if not self.train:
            require_lr_sweep(self.lr_sweep_dir, self.sweep_dataset, self.sweep_seeds, self.sweep_epochs)


@dataclass(frozen=True)
class Fig4Data:
    """What Figure 4 computes, panel by panel."""

    params: Params
    belief: dict
    curvature: tuple
    ratios: dict
    traj: dict
    curves: dict
    distances: dict
    sweep: dict
    resets: dict


def compute(params: Params) -> Fig4Data:
    """Every panel's computation (a: beliefs; b: curvature; c: rate ratios; d: trajectories; e: the sweep's records;
    f: resets)."""
    p = params
    belief = gradient_belief(p.q, p.sigma2, p.trace_steps, p.trace_seed, p.P0_diffuse)  # in the notebook's order
    curvature = curvature_belief(p.n_params, p.n_samples, p.scale_range, p.noise_sd, p.curv_seed)
    ratios = rate_ratios(p.h_ratios, p.rate_settings, p.sigma, p.rate_steps, p.rate_seeds, p.beta2)
    traj = mean_trajectories(p.h_2d, p.theta0_2d, p.sigma, p.traj_lrs, p.traj_steps, p.traj_seeds, p.beta2)
    curves = optimal_curves(p.h_2d, p.theta0_2d, p.gammas_2d)
    sweep = load_lr_sweep(p.lr_sweep_dir, p.sweep_dataset, p.sweep_seeds, p.sweep_epochs)
    resets = compare_resets(p.cs, np.asarray(p.rho_grid))
    return Fig4Data(params=p, belief=belief, curvature=curvature, ratios=ratios, traj=traj, curves=curves,
                    distances=path_distances(traj, curves), sweep=sweep, resets=resets)  # fmt: skip


def headline(data: Fig4Data) -> dict:
    """The numbers results/fig4.json stores."""
    p, belief = data.params, data.belief
    true_diag, v = data.curvature
    rel_err = np.abs(v[-1] - true_diag) / true_diag
    h = np.asarray(p.h_ratios)
    return {
        "beta1": belief["beta1"],
        "gap_steady": np.max(np.abs(belief["filter"].mean - belief["ema"])),
        "gap_diffuse": np.max(np.abs(belief["filter_diffuse"].mean - belief["ema"])[p.transient :]),
        "curvature_median_rel_error": np.median(rel_err),
        "curvature_max_rel_error": rel_err.max(),
        "rate_ratios": data.ratios,
        "worst_rel_deviation": {
            name: np.max(np.abs(r / (h if name == "sgd" else np.sqrt(h)) - 1)) for name, r in data.ratios.items()
        },
        "theory_ratio_gamma0": [rate_ratio(x, 1.0, 0.0) for x in p.h_ratios],
        "path_distances": {n: {str(g): d for g, d in row.items()} for n, row in data.distances.items()},
        "lr_sensitivity": lr_summary(data.sweep),
        "resets": data.resets,
    }


def report(data: Fig4Data, numbers: dict, panel: str) -> str:
    """The printed lines of one panel ("a" ... "f"), from the computed data and the headline numbers."""
    p = data.params
    if panel == "a":
        return "\n".join([
            f"sigma^2/q = {p.sigma2 / p.q:g}: beta1 = 1 - K* = {numbers['beta1']:.4f}",
            f"beta1 at sigma^2/q = 90: {beta1_from_noise_ratio(90.0):.4f}",
            f"max |filter mean - EMA|, filter started at steady state: {fmt_small(numbers['gap_steady'])}",
            f"max |filter mean - EMA| after step {p.transient}, filter started with P0 = {p.P0_diffuse:g}: "
            f"{fmt_small(numbers['gap_diffuse'])}",
        ])  # fmt: skip
    if panel == "b":
        true_diag = data.curvature[0]
        return (f"H_ii from {true_diag.min():.3g} to {true_diag.max():.3g}; after {p.n_samples} samples the median "
                f"relative error of v is {numbers['curvature_median_rel_error']:.3f} (max "
                f"{numbers['curvature_max_rel_error']:.3f})")  # fmt: skip
    if panel == "c":
        ratios, worst = data.ratios, numbers["worst_rel_deviation"]
        lines = ["H11/H22   sqrt   linear   " + "   ".join(f"{name:>9s}" for name in ratios)]
        for i, x in enumerate(p.h_ratios):
            lines.append(
                f"{x:7.2f}  {np.sqrt(x):5.2f}  {x:7.2f}   " + "   ".join(f"{ratios[n][i]:9.3f}" for n in ratios)
            )
        named = {"sgd": "SGD from linear", "adam": "Adam from sqrt", "ballistic": "Ballistic from sqrt"}
        lines.append("largest relative deviation: " + "; ".join(f"{named[n]} {w:.3f}" for n, w in worst.items()))
        return "\n".join(lines)
    if panel == "d":
        return distance_report(data.distances)
    if panel == "e":
        return "\n".join(
            f"{name:9s} best lr {row['best_lr']:.3g} (final train loss {row['best_loss']:.3f}); lrs within 2x of the "
            f"best loss span {row['decades_within_2x']:.1f} decades (n = {row['n_seeds']} seeds)"
            for name, row in numbers["lr_sensitivity"].items()
        )
    if panel == "f":
        r = data.resets
        return "\n".join(
            f"c = {c:4.2f}: optimal reset fraction predicted {optimal_reset_fraction(c):.3f}, measured "
            f"{r['measured_fraction'][i]:.3f}; cumulative loss none {r['none'][i]:.2f}, full {r['full'][i]:.2f}, "
            f"belief-optimal {r['belief'][i]:.2f}"
            for i, c in enumerate(p.cs)
        )
    raise ValueError(f"Invalid panel value: {panel!r}; expected one of a, b, c, d, e, f.")


def gradient_belief(q: float, sigma2: float, steps: int, seed: int, P0_diffuse: float) -> dict:
    """Latent random-walk gradient, noisy observations, Kalman filters (steady-state and diffuse start), EMA."""
    rng = np.random.default_rng(seed)
    g = np.cumsum(np.sqrt(q) * rng.standard_normal(steps))
    y = g + np.sqrt(sigma2) * rng.standard_normal(steps)
    beta1 = 1.0 - steady_state_gain(q, sigma2)
    return {
        "g": g,
        "y": y,
        "filter": kalman_filter(y, q, sigma2),
        "filter_diffuse": kalman_filter(y, q, sigma2, P0=P0_diffuse),
        "ema": ema(y, beta1),
        "beta1": beta1,
    }


def curvature_belief(d: int, n: int, scale_range, sigma: float, seed: int):
    """Linear-Gaussian regression, NLL l = (y - w.x)^2 / (2 sigma^2), x_i ~ N(0, s_i^2) with log-spaced s_i.

    At the true w the per-sample gradient is g = -eps x / sigma^2, eps ~ N(0, sigma^2), so
    E[g_i^2] = s_i^2 / sigma^2 = H_ii. Returns (true diag(H), running mean of g^2 of shape (n, d)).
    """
    rng = np.random.default_rng(seed)
    s = np.logspace(np.log10(scale_range[0]), np.log10(scale_range[1]), d)
    x = s * rng.standard_normal((n, d))
    eps = sigma * rng.standard_normal((n, 1))
    return s**2 / sigma**2, running_curvature(-eps * x / sigma**2)


def rate_ratios(h_ratios, settings: dict, sigma: float, steps: int, seeds: int, beta2: float) -> dict:
    """Measured r1/r2 per optimiser at each H11/H22 (H22 = 1), from ``noisy_quadratic`` runs.

    The optimisers act elementwise, so all ratios run at once as column pairs (H11, 1) of one
    parameter tensor, each column with its own noise; the optimisers see the same noise.

    Args:
        settings: {optimiser: (lr, fit start step)}.
    """
    h = np.ravel([[x, 1.0] for x in h_ratios])
    lrs = {name: lr for name, (lr, _) in settings.items()}
    mean_paths = simulate(lrs, h, np.ones_like(h), sigma, steps, seeds, beta2=beta2, mean=True)
    out = {}
    for name, (_, start) in settings.items():
        r = fit_rates(mean_paths[name], start)
        if np.any(r <= 0):
            bad = sorted({float(h[i]) for i in np.flatnonzero(r <= 0)})
            raise ValueError(
                f"Invalid H_RATIOS value: {name}'s mean path did not decay measurably at curvature {bad} (fitted rate "
                "<= 0, noise only); raise RATE_STEPS or its learning rate, or use larger curvatures."
            )
        out[name] = r[0::2] / r[1::2]
    return out


def mean_trajectories(h, theta0, sigma: float, lrs: dict, steps: int, seeds: int, beta2: float) -> dict:
    """Mean over seeds of each optimiser's noisy trajectory, shape (steps + 1, d), all on the same noise."""
    return simulate(lrs, h, theta0, sigma, steps, seeds, beta2=beta2, mean=True)


def optimal_curves(h, theta0, gammas, n: int = 20000) -> dict:
    """Closed-form optimal trajectories (eta = k = 1) until 20 e-folds of the slowest direction."""
    out = {}
    for g in gammas:
        opt = quadratic_optimum(Problem(Quadratic(h), gamma=g), theta0)
        out[g] = opt(np.linspace(0.0, 20.0 / opt.r.min(), n))
    return out


def path_distances(traj: dict, curves: dict) -> dict:
    """{optimiser: {gamma: mean distance of its mean path to the optimal path at gamma}} (Figure 4d)."""
    return {name: {g: curve_distance(path, curves[g]) for g in curves} for name, path in traj.items()}


def distance_report(distances: dict) -> str:
    """Panel d's printed lines: each optimiser's distance to every optimal path, and the closest one."""
    lines = []
    for name, d in distances.items():
        closer = min(d, key=d.get)
        listed = ", ".join(f"gamma={g:g} {v:.3f}" for g, v in d.items())
        lines.append(f"{name:9s} mean distance to optimal path: {listed} -> closer to gamma={closer:g}")
    return "\n".join(lines)


def require_lr_sweep(folder, dataset: str, n_seeds: int, n_epochs: int) -> list[dict]:
    """Load and validate every record of the sweep (``protocol.sweep_configs``); raise naming the first fault.

    Raises:
        FileNotFoundError: a record is missing (with the command that produces it, or TRAIN = True).
        RecordError: a record is broken or of another configuration (naming the file and the field).
    """
    try:
        return load_records(folder, sweep_configs(dataset, n_seeds, epochs=n_epochs))
    except FileNotFoundError as err:
        raise FileNotFoundError(f"{err} Or set TRAIN = True, or choose a sweep that is cached.") from None


def sweep_title(dataset: str, epochs: int, seeds: int) -> str:
    """Panel e's title: the dataset exactly as used, the protocol, epochs and seeds."""
    plural = {True: "s", False: ""}
    return f"{DATASET_NAMES[dataset]} MLP, {epochs} epoch{plural[epochs > 1]}, {seeds} seed{plural[seeds > 1]}"


def load_lr_sweep(folder, dataset: str, n_seeds: int, n_epochs: int) -> dict:
    """{optimiser: (lrs, final train losses of shape (n_lr, n_seeds))} from exactly the sweep's records."""
    records = require_lr_sweep(folder, dataset, n_seeds, n_epochs)
    out = {}
    for name in OPTIMISERS:
        table: dict[float, list] = {}
        for rec in records:
            if rec["optimiser"] == name:
                table.setdefault(rec["hyperparameters"]["lr"], []).append(rec["train_loss"][-1])
        lrs = np.array(sorted(table))
        out[name] = (lrs, np.array([table[lr] for lr in lrs], dtype=float))
    return out


def lr_summary(sweep: dict) -> dict:
    """Best learning rate (lowest mean final loss) and the width in decades of the lrs within 2x of it."""
    out = {}
    for name, (lrs, losses) in sweep.items():
        mean = np.where(np.isfinite(losses).all(axis=1), losses.mean(axis=1), np.inf)
        best = int(np.argmin(mean))
        good = lrs[mean <= 2 * mean[best]]
        out[name] = {"best_lr": lrs[best], "best_loss": mean[best], "n_seeds": losses.shape[1],
                     "decades_within_2x": float(np.log10(good.max() / good.min()))}  # fmt: skip
    return out


def panels(data: Fig4Data, params: Params) -> dict[str, Panel]:
    """The six panels from the computed pieces (see the notebook for each)."""
    belief, rho_range, transient, curv, ratios = (
        data.belief,
        params.rho_range,
        params.transient,
        data.curvature,
        data.ratios,
    )
    h_ratios, traj, curves, h2d, lim2d = params.h_ratios, data.traj, data.curves, params.h_2d, params.lim_2d
    sweep, resets = data.sweep, data.resets
    sweep_title_ = sweep_title(params.sweep_dataset, params.sweep_epochs, params.sweep_seeds)

    def a(axes):
        ax, rho = axes[0], np.logspace(np.log10(rho_range[0]), np.log10(rho_range[1]), 300)
        ax.semilogx(rho, beta1_from_noise_ratio(rho), color="black")
        ax.plot([90], [0.9], "o", color="#d6204e")
        ax.annotate("Adam: 0.9 at 90", (90, 0.9), xytext=(-70, -4), textcoords="offset points", fontsize=7)
        ax.set(xlabel=r"noise ratio $\sigma^2/q$", ylabel=r"$\beta_1 = 1 - K^*$")
        ax2, t = axes[1], np.arange(1, len(belief["y"]) + 1)
        f = belief["filter_diffuse"]
        ax2.plot(t, belief["y"], ".", color="0.75", ms=2, label="minibatch gradient")
        ax2.plot(t, belief["g"], color="black", lw=1.2, label="latent gradient")
        kalman, ema_colour = BELIEF_COLOURS["kalman"], BELIEF_COLOURS["ema"]
        ax2.plot(t, f.mean, color=kalman, lw=1.2, label="Kalman mean ± sd")
        ax2.fill_between(t, f.mean - np.sqrt(f.var), f.mean + np.sqrt(f.var), color=kalman, alpha=0.25, lw=0)
        ax2.plot(t, belief["ema"], "--", color=ema_colour, lw=1.2, label=rf"EMA $\beta_1$={belief['beta1']:.2f}")
        ax2.axvline(transient, color="0.5", lw=0.6, ls=":")
        ax2.set(xlabel="step", ylabel="gradient")
        ax2.legend(fontsize=5.5, loc="best")

    def b(axes):
        ax, (true, v) = axes[0], curv
        ax.loglog(true, v[-1], "o", color="#1e90ff", ms=4, label=f"v after {len(v)} samples")
        lims = [true.min() / 2, true.max() * 2]
        ax.plot(lims, lims, color="black", lw=0.8, label="identity")
        ax.set(xlabel=r"true $H_{ii}$", ylabel=r"belief $v_i$ (mean $g_i^2$)")
        ax.legend(fontsize=6.5)

    def c(axes):
        ax, x = axes[0], np.linspace(min(h_ratios) * 0.5, max(h_ratios) * 1.05, 300)
        for g, color in GAMMA_STYLE.items():
            ax.plot(x, rate_ratio(x, 1.0, g), color=color, lw=1.5, label=rf"optimal, $\gamma={g:g}$")
        for name, vals in ratios.items():
            label, color, marker = (OPTIMISER_STYLE[name][k] for k in ("label", "color", "marker"))
            ax.plot(h_ratios, vals, marker, color=color, mfc="none" if name == "adam" else color, ms=6, ls="none",
                    label=f"{label} (measured)")  # fmt: skip
        ax.set(xlabel=r"$H_{11}/H_{22}$", ylabel=r"$r_1/r_2$")
        ax.legend(fontsize=6)

    def d(axes):
        ax = axes[0]
        loss_heatmap(ax, Quadratic(h2d), lim2d, cmap="viridis", contour_color=None, levels=8, alpha=0.5)
        for g, path in curves.items():
            ax.plot(path[:, 0], path[:, 1], color=GAMMA_STYLE[g], lw=4, alpha=0.8, label=rf"optimal $\gamma={g:g}$")
        for name, path in traj.items():
            label, color = OPTIMISER_STYLE[name]["label"], OPTIMISER_STYLE[name]["color"]
            ax.plot(path[:, 0], path[:, 1], color=color, lw=1.2, ls=OPTIMISER_STYLE[name]["ls"], label=label)
        ax.set(xlabel=r"$\theta_1$", ylabel=r"$\theta_2$")
        ax.legend(fontsize=6, loc="lower right")

    def e(axes):
        ax = axes[0]
        for name, (lrs, losses) in sweep.items():
            label, color, marker = (OPTIMISER_STYLE[name][k] for k in ("label", "color", "marker"))
            shown = np.minimum(losses, 3.0)
            ax.errorbar(lrs, shown.mean(axis=1), yerr=shown.std(axis=1), color=color, marker=marker, ms=3, lw=1,
                        label=label, capsize=0)  # fmt: skip
        ax.set_xscale("log")
        ax.set(xlabel="learning rate", ylabel="final train loss (capped at 3)", title=sweep_title_)
        ax.title.set_fontsize(7)
        ax.legend(fontsize=6.5)

    def f(axes):
        ax, cs = axes[0], resets["c"]
        for key, label, color in (("none", "no reset", "black"), ("full", "full reset", "#d6204e"),
                                  ("belief", "belief-optimal reset", "#1e90ff")):  # fmt: skip
            ax.plot(cs, resets[key], "o-", color=color, ms=3, label=label)
        ax.set(xlabel="task correlation c", ylabel="cumulative loss per task")
        ax.legend(fontsize=6)
        ax2 = axes[1]
        ax2.plot([0, 1], [1, 0], color="0.5", lw=1, label="predicted 1 - c")
        ax2.plot(cs, resets["measured_fraction"], "o", color="#1e90ff", ms=4, label="measured optimum")
        ax2.set(xlabel="task correlation c", ylabel="optimal reset fraction")
        ax2.legend(fontsize=6)

    return {
        "a": Panel(a, cols=2, size=(5.6, 2.7)),
        "b": Panel(b, size=(2.8, 2.7)),
        "c": Panel(c, size=(2.8, 2.7)),
        "d": Panel(d, size=(2.9, 2.7)),
        "e": Panel(e, size=(2.9, 2.7)),
        "f": Panel(f, cols=2, size=(5.6, 2.7)),
    }


#: E4's directions as printed and drawn: (label, colour, line style), in ``directions.DIRECTIONS`` order.
E4_STYLE = {"exact": (r"$H^{-1/2}\nabla L$ (the $\gamma \to 0$ rule)", "black", "-"),
            "diagonal": (r"$\mathrm{diag}(H)^{-1/2}\nabla L$", "#8e44ad", "-"),
            "ballistic": ("Ballistic", "#e67e22", "-"), "adam": ("Adam", "#27ae60", "--"),
            "gradient": (r"$\nabla L$ (gradient descent)", "#7f8c8d", ":")}  # fmt: skip
E4_NAMES = {"exact": "H^-1/2 grad L", "diagonal": "diag(H)^-1/2 grad L", "ballistic": "Ballistic", "adam": "Adam",
            "gradient": "grad L"}  # fmt: skip


def e4_headline(record: dict) -> dict:
    """E4's numbers from its cached record (``real_model_runs``): per direction the pooled median and
    interquartile range of the cosine with the optimal velocity and each start's median, and which criteria held."""
    s, model = record["summary"], record["model"]
    return {
        "dim": record["config"]["dim"],
        "lam": record["config"]["lam"],
        "gamma": model["gamma"],
        "gamma_over_slowest": record["config"]["gamma_over_slowest"],
        "starts": [c["start"] for c in record["cases"]],
        "n_steps": s["n_steps"],
        "criteria": record["criteria"],
        "pooled": s["pooled"],
        "per_start_median": s["per_start_median"],
        "residual_max": max(c["residual"] for c in record["cases"]),
        "holds": s["holds"],
    }


def e4_report(numbers: dict) -> str:
    """The printed lines of E4."""
    c, h = numbers["criteria"], numbers["holds"]

    lines = [f"E4 (MNIST logistic regression, d = {numbers['dim']}, lambda = {numbers['lam']:g}; gamma = "
             f"{numbers['gamma']:.2g} = {numbers['gamma_over_slowest']:g} sqrt(eta k lambda_min); "
             f"{len(numbers['starts'])} starts, {numbers['n_steps']} steps): cosine of the optimal velocity "
             "with"]  # fmt: skip
    for name, q in numbers["pooled"].items():
        per = ", ".join(f"{v:.3f}" for v in numbers["per_start_median"][name])
        lines.append(f"  {E4_NAMES[name]:<20} median {q['median']:.3f} (IQR {q['q25']:.3f} - {q['q75']:.3f}); "
                     f"per start {per}")  # fmt: skip
    med = {name: q["median"] for name, q in numbers["pooled"].items()}
    lines += [
        f"the gamma -> 0 rule H^-1/2 grad L has the highest median: {verdict(h['exact_best'])}; its median >= "
        f"{c['exact_min']:g}: {verdict(h['exact_close'])}",
        f"Ballistic within {c['ballistic_vs_diagonal']:g} of diag(H)^-1/2 grad L (difference "
        f"{med['ballistic'] - med['diagonal']:+.3f}): {verdict(h['ballistic_is_diagonal'])}",
        f"Ballistic above gradient descent (difference {med['ballistic'] - med['gradient']:+.3f}): "
        f"{verdict(h['ballistic_beats_gradient'])}",
        f"largest costate residual {numbers['residual_max']:.1e}",
    ]
    return "\n".join(lines)


def e4_panels(record: dict) -> dict[str, Panel]:
    """Panel g (this repository's extension): left, the cosine of the optimal velocity with each direction along
    the path (median over the starts at each step); right, each direction's pooled median and interquartile
    range, with each start's median as dots."""
    n = e4_headline(record)
    cases = record["cases"]

    def draw(axes):
        left, right = axes
        t = np.asarray(cases[0]["cosines"]["t"])
        lowest = 1.0
        for name, (label, color, style) in E4_STYLE.items():
            med = np.median([c["cosines"][name] for c in cases], axis=0)
            left.semilogx(t, med, style, color=color, lw=1.2, label=label)
            lowest = min(lowest, float(med.min()), n["pooled"][name]["q25"])
        bottom = min(0.8, np.floor(10 * lowest - 0.5) / 10)
        left.set_xlabel("$t$")
        left.set_ylabel(r"$\cos(\dot\theta^*, -d)$, median over starts")
        left.set_ylim(bottom, 1.01)
        left.legend(fontsize=5.5, frameon=False, loc="lower left")
        for i, (name, (_, color, _)) in enumerate(E4_STYLE.items()):
            q = n["pooled"][name]
            right.errorbar([i], [q["median"]], yerr=[[q["median"] - q["q25"]], [q["q75"] - q["median"]]], fmt="o",
                           color=color, ms=5, capsize=3)  # fmt: skip
            right.plot([i] * len(cases), n["per_start_median"][name], ".", color=color, ms=3, alpha=0.6)
        right.set_xticks(range(len(E4_STYLE)))
        right.set_xticklabels(["$H^{-1/2}$", "diag", "Ballistic", "Adam", "GD"], fontsize=7)
        right.set_ylim(bottom, 1.01)
        right.set_title("(extension, not in the paper)", fontsize=8)

    return {"g": Panel(draw, cols=2, size=(6.0, 2.8))}
