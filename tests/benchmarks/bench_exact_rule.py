"""Benchmark: what the gamma -> 0 rule with the exact curvature costs against the diagonal rule (Ballistic), and what
each buys (issue 28's third check; beyond the paper).

Side by side in one process, float64 on the CPU:

1. Cost of one direction for d from 10^2 to 10^6: H^{-1/2} g by a dense eigendecomposition (``exact_rule.
   inverse_sqrt_eigh``, while d^3 fits: d <= 3,000), by Lanczos with k = 20 Hessian-vector products
   (``inverse_sqrt_lanczos``; H dense up to d = 3,000, beyond that matrix-free: diagonal + rank 8), and the
   diagonal rule's g / sqrt(v + eps) with its EMA update. Median time of 3 and peak memory (tracemalloc),
   against this machine's floor: a 2048^3 float64 matrix product.
2. What it buys: 100 full-batch steps on MNIST logistic regression (50 PCA components, lambda = 1e-4, d = 510,
   the real-model loss on its first 10,000 images) from theta = 0 with the exact rule (eigh of the Hessian at
   every step), the Lanczos rule (k = 10), Ballistic (beta2 = 0.999, eps = 1e-8) and gradient descent, each at
   the best learning rate of a log grid over [0.01, 10]; the loss after 100 steps (minus the minimum's) and the
   time per step.
Usage: python tests/benchmarks/bench_exact_rule.py [--root DATA]
"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import sys
import time
import tracemalloc

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))

from _report import write_report

from functions.exact_rule import inverse_sqrt_eigh, inverse_sqrt_lanczos

K = 20
DENSE_MAX = 3000
#: Images of the logistic-regression loss in part 2 (the real-model E3's 10,000).
SUBSET = 10_000


def _measure(fn, repeats: int = 3) -> tuple[float, float]:
    """(median seconds, peak MiB) of ``fn()``."""
    times = []
    tracemalloc.start()
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return statistics.median(times), peak


def _gemm_rate() -> float:
    a = np.random.default_rng(0).standard_normal((2048, 2048))
    a @ a
    t, _ = _measure(lambda: a @ a)
    return 2 * 2048**3 / t / 1e9


def _costs(rng) -> list[dict]:
    rows = []
    for d in (100, 1000, 3000, 10_000, 100_000, 1_000_000):
        g = rng.standard_normal(d)
        h = np.logspace(0, -4, d)
        if d <= DENSE_MAX:
            Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
            H = (Q * h) @ Q.T
            eigh = _measure(lambda H=H, g=g: inverse_sqrt_eigh(H, g))
            lanczos = _measure(lambda H=H, g=g: inverse_sqrt_lanczos(lambda x: H @ x, g, K))
        else:
            U = rng.standard_normal((d, 8)) / np.sqrt(d)
            eigh = (None, 16 * d * d / 2**20)  # not run: H and its eigenvectors alone (time: d^3 from d = 3,000)
            lanczos = _measure(lambda U=U, h=h, g=g: inverse_sqrt_lanczos(lambda x: h * x + U @ (U.T @ x), g, K))
        ema = np.zeros(d)

        def diagonal(g=g, v=ema):
            v *= 0.999
            v += 0.001 * g * g
            return g / np.sqrt(v + 1e-8)

        rows.append({"d": d, "eigh": eigh, "lanczos": lanczos, "diagonal": _measure(diagonal)})
    return rows


def _buys(root) -> dict:
    from functions.real_model import mnist_logistic

    model = mnist_logistic(50, lam=1e-4, root=root, subset=SUBSET)
    L_min = model(model.minimum()[0])
    steps, theta0 = 100, np.zeros(model.dim)

    def run(direction, lr):
        theta, state, start = theta0.copy(), {}, time.perf_counter()
        for _ in range(steps):
            theta = theta - lr * direction(theta, state)
            if not np.isfinite(theta).all():
                return np.inf, np.nan
        return model(theta) - L_min, (time.perf_counter() - start) / steps

    def ballistic(theta, state):
        g = model.grad(theta)
        state["v"] = 0.999 * state.get("v", 0.0) + 0.001 * g * g
        return g / np.sqrt(state["v"] + 1e-8)

    rules = {
        "exact (eigh)": lambda th, s: inverse_sqrt_eigh(model.hessian(th), model.grad(th)),
        "Lanczos (k = 10)": lambda th, s: inverse_sqrt_lanczos(lambda v: model.hvp(th, v), model.grad(th), 10),
        "Ballistic (diagonal)": ballistic,
        "gradient descent": lambda th, s: model.grad(th),
    }
    grid = np.logspace(-2, 1, 7)
    out = {}
    for name, direction in rules.items():
        results = [(run(direction, lr), lr) for lr in grid]
        (gap, per_step), lr = min(results, key=lambda r: r[0][0])
        out[name] = {"gap": gap, "per_step_s": per_step, "lr": lr}
        print(f"{name:22s} lr {lr:.3g}: L - L* after {steps} steps {gap:.3e}, {per_step * 1e3:.2f} ms/step")
    return {"dim": model.dim, "steps": steps, "rules": out}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", default=None, help="data folder (MNIST)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    rate = _gemm_rate()
    print(f"floor: 2048^3 float64 product at {rate:.1f} GFLOP/s")
    costs = _costs(rng)
    for r in costs:
        e = "not run" if r["eigh"][0] is None else f"{r['eigh'][0] * 1e3:.3g} ms, {r['eigh'][1]:.3g} MiB"
        print(f"d = {r['d']:>9,}: eigh {e}; Lanczos {r['lanczos'][0] * 1e3:.3g} ms, {r['lanczos'][1]:.3g} MiB; "
              f"diagonal {r['diagonal'][0] * 1e3:.3g} ms, {r['diagonal'][1]:.3g} MiB")  # fmt: skip
    buys = _buys(args.root)

    t3000 = next(r["eigh"][0] for r in costs if r["d"] == DENSE_MAX)

    def cell(m, d=None):
        if m[0] is None:
            return f"not run (~{t3000 * (d / DENSE_MAX) ** 3:.2g} s by d³, {m[1] / 1024:.3g} GiB)"
        return f"{m[0] * 1e3:.3g} ms, {m[1]:.3g} MiB"

    cost_text = "; ".join(f"d = {r['d']:,}: eigh {cell(r['eigh'], r['d'])}, Lanczos {cell(r['lanczos'])}, diagonal "
                          f"{cell(r['diagonal'])}" for r in costs)  # fmt: skip
    buy_text = "; ".join(f"{n} {v['gap']:.2e} ({v['per_step_s'] * 1e3:.2f} ms/step)" for n, v in buys["rules"].items())
    write_report("bench_exact_rule", [
        (f"One direction of the gamma -> 0 rule, H^(-1/2) g with the exact curvature (eigh; Lanczos, k = {K}) vs "
         f"the diagonal rule, float64 (H dense up to d = {DENSE_MAX:,}, then diagonal + rank 8, matrix-free); floor: a "
         f"2048³ float64 product at {rate:.1f} GFLOP/s", cost_text),
        (f"What each buys: L − L* after {buys['steps']} full-batch steps on MNIST logistic regression "
         f"(d = {buys['dim']}) at each rule's best learning rate", buy_text),
    ], {"gemm_gflops": rate, "costs": [{"d": r["d"], **{k: list(r[k]) for k in ("eigh", "lanczos", "diagonal")}}
                                       for r in costs], "buys": buys})  # fmt: skip


if __name__ == "__main__":
    main()
