"""Figure 4 (our construction): Adam-like rules from online Bayesian inference, and weight resetting.

(a) gradient belief = Kalman filter = EMA; (b) curvature belief = mean squared per-sample gradient
= diag(H); (c) measured rate ratios of SGD, Adam, Ballistic on a noisy quadratic; (d) their mean
trajectories against the optimal ones; (e) learning-rate sensitivity on the MLP task; (f) resetting.
"""

from __future__ import annotations

import numpy as np

from ._checks import (
    check_box,
    check_choice,
    check_finite,
    check_in_box,
    check_int,
    check_positive,
    check_positive_array,
    check_range,
    check_vector,
)
from .beliefs import beta1_from_noise_ratio, ema, kalman_filter, running_curvature, steady_state_gain
from .closed_form import quadratic_optimum, rate_ratio
from .data import DATASET_NAMES
from .landscapes import Quadratic
from .noisy_quadratic import curve_distance, fit_rates, simulate
from .objective import Problem
from .optimisers import OPTIMISERS
from .plotting import BELIEF_COLOURS, OPTIMISER_STYLE, Panel, loss_heatmap
from .protocol import sweep_configs
from .run_records import load_records

__all__ = [
    "check_parameters",
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
]

GAMMA_STYLE = {0.0: "#29b6f6", 10.0: "0.45"}


#: SGD's decay over the fitted steps, in e-folds, below which a rate cannot be told from the noise.
MIN_EFOLDS = 0.1


def check_parameters(q, sigma2, trace_steps, transient, rho_range, n_params, n_samples, scale_range, h_ratios, sigma,
                     beta2, rate_settings, rate_steps, rate_seeds, h_2d, theta0_2d, lim_2d, traj_lrs, traj_steps,
                     traj_seeds, gammas_2d, train, lr_sweep_dir, sweep_dataset, sweep_seeds, sweep_epochs, cs,
                     rho_grid) -> None:  # fmt: skip
    """Validate the notebook's parameters before any computation or file is written (ValueError names the parameter
    and its range; FileNotFoundError when ``train`` is False and panel e has no cached sweep)."""
    check_positive(q, "Q")
    check_positive(sigma2, "SIGMA2")
    trace_steps = check_int(trace_steps, "TRACE_STEPS", 2)
    check_int(transient, "TRANSIENT", 0, trace_steps - 1)
    check_range(rho_range, "RHO_RANGE", positive=True)
    check_int(n_params, "N_PARAMS", 1)
    check_int(n_samples, "N_SAMPLES", 1)
    check_range(scale_range, "SCALE_RANGE", positive=True)
    check_positive_array(check_vector(h_ratios, "H_RATIOS"), "H_RATIOS")
    check_positive(sigma, "SIGMA")
    if not 0.0 <= check_finite(beta2, "BETA2") < 1.0:
        raise ValueError(f"Invalid BETA2 value: {beta2}; BETA2 must lie in [0, 1).")
    rate_steps = check_int(rate_steps, "RATE_STEPS", 2)
    for name, settings in (("RATE_SETTINGS", rate_settings), ("TRAJ_LRS", traj_lrs)):
        if not isinstance(settings, dict) or not settings or set(settings) - set(OPTIMISERS):
            raise ValueError(f"Invalid {name} value: {settings!r}; expected a dict keyed by some of {OPTIMISERS}.")
    for name, (lr, start) in rate_settings.items():
        check_positive(lr, f"RATE_SETTINGS[{name!r}] learning rate")
        check_int(start, f"RATE_SETTINGS[{name!r}] first fitted step", 0, rate_steps - 2)
    if "sgd" in rate_settings and len(np.ravel(h_ratios)):
        lr, start = rate_settings["sgd"]
        efolds = lr * min(float(np.min(h_ratios)), 1.0) * (rate_steps - start)  # SGD decays by lr h per step
        if efolds < MIN_EFOLDS:
            raise ValueError(
                f"Invalid H_RATIOS value: {min(h_ratios)!r}; SGD's mean path decays by {efolds:.3g} e-folds over the "
                f"fitted steps there (lr x h x steps), too little to fit (>= {MIN_EFOLDS:g}): raise RATE_STEPS or "
                "the smallest curvature."
            )
    for name, lr in traj_lrs.items():
        check_positive(lr, f"TRAJ_LRS[{name!r}]")
    for name, value in (("RATE_SEEDS", rate_seeds), ("TRAJ_STEPS", traj_steps), ("TRAJ_SEEDS", traj_seeds),
                        ("SWEEP_SEEDS", sweep_seeds), ("SWEEP_EPOCHS", sweep_epochs)):  # fmt: skip
        check_int(value, name, 1)
    check_positive_array(check_vector(h_2d, "H_2D", 2), "H_2D")
    check_box(lim_2d, "LIM_2D")
    check_in_box(theta0_2d, "THETA0_2D", lim_2d, "LIM_2D")
    gammas = check_vector(gammas_2d, "GAMMAS_2D")
    if np.any(gammas < 0) or len(gammas) > len(GAMMA_STYLE) or set(gammas.tolist()) - set(GAMMA_STYLE):
        raise ValueError(
            f"Invalid GAMMAS_2D value: {gammas_2d!r}; expected some of {sorted(GAMMA_STYLE)} (drawn styles)."
        )
    cs = check_vector(cs, "CS")
    if np.any(cs < 0) or np.any(cs > 1):
        raise ValueError(f"Invalid CS value: {cs.tolist()}; task correlations must lie in [0, 1].")
    rho = check_vector(rho_grid, "RHO_GRID")
    if rho.size < 2 or np.any(rho < 0) or np.any(rho > 1):
        raise ValueError("Invalid RHO_GRID value: expected at least 2 reset fractions in [0, 1].")
    check_choice(sweep_dataset, "SWEEP_DATASET", DATASET_NAMES)
    if not isinstance(train, bool):
        raise ValueError(f"Invalid TRAIN value: {train!r}; expected True or False (not a string or a number).")
    if not train:
        require_lr_sweep(lr_sweep_dir, sweep_dataset, sweep_seeds, sweep_epochs)


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


def panels(belief: dict, rho_range, transient: int, curv: tuple, ratios: dict, h_ratios, traj: dict, curves: dict,
           h2d, lim2d, sweep: dict, sweep_title: str, resets: dict) -> dict[str, Panel]:  # fmt: skip
    """The six panels from the computed pieces (see the notebook for each)."""

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
        ax.set(xlabel="learning rate", ylabel="final train loss (capped at 3)", title=sweep_title)
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
