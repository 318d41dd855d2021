"""A hand-written mutation pass over functions/: small, realistic bugs, each run against the tests that
cover its module. Reports which mutants the tests catch and which survive.

    python tests/mutation.py            # all mutants (about 10 minutes on 2 cores)
    python tests/mutation.py 3 7        # only mutants 3 and 7

Each mutant replaces one exact snippet (it must occur exactly once) in a copy of the tree (functions/, tests/,
results/ and the project files, in a temporary folder), so a killed run never leaves a mutant in functions/;
the copy's file is restored after every run.
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]

# (module, original snippet, mutated snippet, test files)
MUTANTS = [
    ("closed_form.py", "(j**2 + gamma * j + c) / (np.sqrt((gamma / 2 + j) ** 2 + c) + gamma / 2)",
     "(j**2 + gamma * j + c) / (np.sqrt((gamma / 2 + j) ** 2 + c) + gamma)", ["test_closed_form.py"]),
    ("closed_form.py", "growth = -np.expm1(-(problem.gamma + 2 * opt.r) * t)",
     "growth = -np.expm1(-(problem.gamma + opt.r) * t)", ["test_closed_form.py"]),
    ("closed_form.py", "x = (self.theta0 - self.theta_star) * np.exp(-self.r * t)",
     "x = (self.theta0 - self.theta_star) * np.exp(-2 * self.r * t)", ["test_closed_form.py"]),
    ("euler_lagrange.py", "rhs = dL_dtheta + problem.gamma * p - (C @ theta_dot[..., None])[..., 0]",
     "rhs = dL_dtheta - problem.gamma * p - (C @ theta_dot[..., None])[..., 0]", ["test_euler_lagrange.py"]),
    ("euler_lagrange.py", "C = torch.stack([r[0] for r in rows], dim=1)",
     "C = torch.stack([r[0] for r in rows], dim=2)", ["test_euler_lagrange.py"]),
    ("euler_lagrange.py", "jac[:d, d:] = np.eye(d)[:, :, None]", "jac[:d, :d] = np.eye(d)[:, :, None]",
     ["test_euler_lagrange.py"]),
    ("bvp.py", "u = torch.as_tensor(theta_dot_T) - problem.drift(th)",
     "u = torch.as_tensor(theta_dot_T) + problem.drift(th)", ["test_bvp.py"]),
    ("bvp.py", "if sol.status != 0:", "if sol.status not in (0, 2):", ["test_bvp.py"]),
    ("objective.py", "return problem.metric.sq_norm(u) / (2 * problem.eta) + problem.k * problem.loss(theta)",
     "return problem.metric.sq_norm(u) / problem.eta + problem.k * problem.loss(theta)", ["test_objective.py"]),
    ("objective.py", "theta, theta_dot = path[:-1], (path[1:] - path[:-1]) / dt",
     "theta, theta_dot = path[1:], (path[1:] - path[:-1]) / dt", ["test_objective.py", "test_least_action.py"]),
    ("geometry.py", "self.M = self.q * ROTATION_GENERATOR", "self.M = -self.q * ROTATION_GENERATOR",
     ["test_geometry.py", "test_closed_form.py"]),
    ("geometry.py", "self.M = -self.j * np.eye(self.dim)", "self.M = self.j * np.eye(self.dim)",
     ["test_geometry.py", "test_closed_form.py"]),
    ("landscapes.py", "return _stack([4 * self.a * x * (x * x - self.b) + self.d, 2 * self.c * y], theta)",
     "return _stack([4 * self.a * x * (x * x - self.b) - self.d, 2 * self.c * y], theta)", ["test_landscapes.py"]),
    ("flows.py", "lambda _t, th: -lr * loss.grad(th)", "lambda _t, th: -loss.grad(th)", ["test_flows.py"]),
    ("least_action.py", "if grad_norm > gtol:", "if grad_norm > 100 * gtol:", ["test_least_action.py"]),
    ("optimisers.py", "v.mul_(beta2).addcmul_(g, g, value=1 - beta2)", "v.mul_(beta2).addcmul_(g, g, value=beta2)",
     ["test_optimisers.py"]),
    ("optimisers.py", "denom = (v / bc2).add_(eps).sqrt_()", "denom = (v / bc2).sqrt_().add_(eps)",
     ["test_optimisers.py"]),
    ("optimisers.py", "torch._foreach_mul_(vs, beta2)", "torch._foreach_mul_(vs, 1 - beta2)", ["test_optimisers.py"]),
    ("optimisers.py", "return torch.optim.Adam(params, lr=lr, betas=tuple(adam_betas), eps=eps, foreach=foreach)",
     "return torch.optim.Adam(params, lr=lr, eps=eps, foreach=foreach)", ["test_noisy_quadratic.py",
                                                                         "test_optimisers.py"]),
    ("optimisers.py", "params.append(torch.view_as_real(p) if real else p)", "params.append(p)",
     ["test_optim_conformance.py"]),
    ("optimisers.py", "p_state[\"step\"] = torch.tensor(float(p_state[\"step\"]), dtype=_step_dtype())", "pass",
     ["test_optim_conformance.py"]),
    ("beliefs.py", "rho = sigma2 / q\n    a = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * rho))",
     "rho = sigma2 / q\n    a = 0.5 * (1.0 + np.sqrt(1.0 + 2.0 * rho))", ["test_beliefs.py"]),
    ("beliefs.py", "return 1.0 - check_probability(c, \"c\")", "return check_probability(c, \"c\")",
     ["test_beliefs.py"]),
    ("noisy_quadratic.py", "h_t, scale = torch.tensor(h), torch.tensor(sigma * np.sqrt(h))",
     "h_t, scale = torch.tensor(h), torch.tensor(sigma * np.ones_like(h))", ["test_noisy_quadratic.py"]),
    ("noisy_quadratic.py", "for xi, row in zip(xis, rows, strict=False):",
     "for xi, row in zip(reversed(xis), rows, strict=False):", ["test_noisy_quadratic.py"]),
    ("noisy_quadratic.py", "opt.step()\n                    row.copy_(theta)",
     "row.copy_(theta)\n                    opt.step()", ["test_noisy_quadratic.py"]),
    ("beliefs.py", "return theta + rho * (mu0 - theta)", "return theta + rho * (1.0 - theta)",
     ["test_noisy_quadratic.py", "test_beliefs.py", "test_fig4.py"]),
    ("training.py", "torch.nn.utils.clip_grad_norm_(model.parameters(), proto[\"clip\"])",
     "torch.nn.utils.clip_grad_norm_(model.parameters(), 50.0)", ["test_training.py"]),
    ("protocol.py", "\"fashion-mnist\": ((0.1307,), (0.3081,)),", "\"fashion-mnist\": ((0.1307,), (0.35,)),",
     ["test_training.py"]),
    ("protocol.py", "return config_digest({k: v for k, v in self.resolved_dict().items() if k != \"epochs\"})",
     "return config_digest(self.resolved_dict())", ["test_campaign.py"]),
    ("protocol.py", "        if full.epochs != proto[\"epochs\"]:\n            tags.append(f\"ep{full.epochs}\")", "",
     ["test_training.py", "test_campaign.py"]),
    ("run_records.py", "if config_digest(stored) != record[\"config_hash\"]:", "if False:", ["test_run_records.py"]),
    ("run_records.py", "if path.exists() and not force:", "if False:", ["test_run_records.py"]),
    ("checkpoint.py", "if not sep or hashlib.sha256(body).hexdigest().encode() != digest:", "if not sep:",
     ["test_checkpoint.py"]),
    ("training.py", "ckpt.set_rng_state(state[\"rng\"], gen)", "pass", ["test_checkpoint.py"]),
    ("training.py", "first_epoch, first_batch, total = state[\"epoch\"], state[\"batch\"], state[\"total\"]",
     "first_epoch, first_batch, total = state[\"epoch\"], state[\"batch\"], 0.0", ["test_checkpoint.py"]),
    ("campaign.py", "if status == \"complete\":", "if False:", ["test_campaign.py"]),
    ("training.py", "                if proto[\"augment\"]:\n                    xb = augment_crop_flip(xb, gen)",
     "                if True:\n                    xb = augment_crop_flip(xb, gen)", ["test_training.py"]),
    ("data.py", "if actual != expected:", "if actual == \"\":", ["test_data.py"]),
    ("data.py", "if not (name or path.name).endswith(\"-ubyte.gz\"):", "if True:", ["test_data.py"]),
    ("image_folder.py", "wrong = {c: n for c, n in counts.items() if n != per_class}",
     "wrong = {c: n for c, n in counts.items() if n < per_class - 1}", ["test_image_folder.py"]),
    ("image_folder.py", "if mode != \"RGB\":", "if mode not in (\"RGB\", \"L\"):", ["test_image_folder.py"]),
    ("_io.py", "os.chmod(tmp, 0o644)", "pass", ["test_results_io.py"]),
    ("_io.py", "if abs(value) < floor:", "if abs(value) < floor * 1e-6:", ["test_plotting.py"]),
    ("plotting.py", "return arr.astype(np.float32).astype(np.float64)", "return arr", ["test_plotting.py"]),
    ("plotting.py", "x = (canvas.width - width) // 2", "x = 0", ["test_plotting.py"]),
    ("fig2.py", "for (g, x), r in zip(grid, ratios, strict=True):", "for (x, g), r in zip(grid, ratios, strict=True):",
     ["test_fig2.py"]),
    ("fig3.py", "return Fig3Data(params, dict(thread_map(one, problems(params).items())))",
     "return Fig3Data(params, dict(thread_map(one, reversed(problems(params).items()))))", ["test_fig3.py"]),
    ("data.py", "except (OSError, EOFError, zlib.error) as err:  # zlib.error", "except (OSError, EOFError) as err:  #",
     ["test_data.py"]),
    ("plotting.py", "canvas.paste(images[name], (x + gutter, y))", "canvas.paste(images[name], (x, y))",
     ["test_plotting.py"]),
    ("plotting.py", "fig.set_layout_engine(None)", "fig.set_layout_engine(\"none\")", ["test_plotting.py"]),
    ("fig2.py", "\"ballistic_beats_sgd\": bool(b[\"final_train_loss\"][0] < s[\"final_train_loss\"][0]),",
     "\"ballistic_beats_sgd\": bool(b[\"final_train_loss\"][0] <= s[\"final_train_loss\"][0]),", ["test_fig2.py"]),
    ("fig2.py", "\"ballistic_close_to_adam\": bool(abs(gap) <= close_to_adam),",
     "\"ballistic_close_to_adam\": bool(gap <= close_to_adam),", ["test_fig2.py"]),
    ("explore.py", "r = float(rate_ratio(ratio, 1.0, gamma, eta, k))", "r = float(rate_ratio(ratio, 1.0, 0.0, eta, k))",
     ["test_explore.py"]),
    ("newton_krylov.py", 'series["phi_b"] += term / (kk + 2)', 'series["phi_b"] += term / (kk + 3)',
     ["test_newton_krylov.py"]),
    ("newton_krylov.py", 'closed["Q"] = (0.5 - closed["phi_b"]) / xs', 'closed["Q"] = (0.5 - closed["phi_a"]) / xs',
     ["test_newton_krylov.py"]),
    ("newton_krylov.py", 'kap[2, :-1] = -dec / (Dn * fw["phi0"]) / omega',
     'kap[2, :-1] = -1 / (Dn * fw["phi0"]) / omega', ["test_newton_krylov.py"]),
    ("newton_krylov.py", "out[i] -= self.cp[i] * out[i + 1]", "out[i] += self.cp[i] * out[i + 1]",
     ["test_newton_krylov.py"]),
    ("newton_krylov.py", "out[:U] += kap[2][:U, None] * GX[2 : U + 2] / eta",
     "out[:U] += kap[2][:U, None] * GX[1 : U + 1] / eta", ["test_newton_krylov.py"]),
    ("lq.py", "return float(np.sum(x0 * self.amplitude * r * -np.expm1(-(g + 2 * r) * T)) / (2 * self.eta))",
     "return float(np.sum(x0 * self.amplitude * r * -np.expm1(-(g + r) * T)) / (2 * self.eta))",
     ["test_newton_krylov.py"]),
    ("paths.py", "n * s + np.log1p(-np.exp(-n * s)) - s - np.log1p", "n * s + np.log1p(-np.exp(-n * s)) - np.log1p",
     ["test_paths.py"]),
    ("escape.py", "np.where(np.isnan(J_stay), 1, (J_cross < J_stay).astype(int))",
     "np.where(np.isnan(J_stay), 1, (J_cross > J_stay).astype(int))", ["test_escape.py"]),
    ("mode_rates.py", "idx = np.flatnonzero(after & (np.arange(len(t)) < stop) & (level <= -window[0]))",
     "idx = np.flatnonzero(after & (level <= -window[0]))", ["test_mode_rates.py"]),
    ("mode_rates.py", "after = np.arange(len(t)) >= peak", "after = np.arange(len(t)) >= 0", ["test_mode_rates.py"]),
    ("mode_rates.py", "tm, ym = w @ ts / w.sum(), w @ ys / w.sum()", "tm, ym = ts.mean(), ys.mean()",
     ["test_mode_rates.py"]),
    ("mode_rates.py", "return -slope, misfit, bool(misfit <= max_misfit and slope < 0)",
     "return -slope, misfit, bool(slope < 0)", ["test_mode_rates.py"]),
    ("mode_rates.py", "fitted = fitted.astype(bool) & (peaks > PEAK_FLOOR * peaks.max())",
     "fitted = fitted.astype(bool)", ["test_mode_rates.py"]),
    ("mode_rates.py", "low, high = np.quantile(boots, [(1 - level) / 2, (1 + level) / 2])",
     "low, high = np.quantile(boots, [(1 - level), (1 + level) / 2])", ["test_mode_rates.py"]),
    ("gd_limit.py", "step = g[0] if correction == 0 else g[0] - correction * hvp(g)[0]",
     "step = g[0] if correction == 0 else g[0] + correction * hvp(g)[0]", ["test_gd_limit.py"]),
    ("gd_limit.py", "return eta * k / gamma**2", "return eta * k / gamma", ["test_gd_limit.py"]),
    ("bench_figure.py", "sd = float(np.std(x, ddof=1))", "sd = float(np.std(x))", ["test_bench_figure.py"]),
    ("bench_figure.py", "\"reached\": len(reached),", "\"reached\": len(steps),", ["test_bench_figure.py"]),
    ("bench_figure.py", "except FileNotFoundError:\n            pending.append(w)",
     "except FileNotFoundError:\n            pending.append(w)\n            break", ["test_bench_figure.py"]),
    ("bench_workloads.py", "idx[workload.n_train : workload.n_train + workload.n_val]", "idx[-workload.n_val :]",
     ["test_bench_trials.py"]),
    ("bench_study.py", "for r in rules for name, t in tuning[w, r] if done[w, r, name] is None]",
     "for r in rules for name, t in tuning[w, r]]", ["test_bench_study.py"]),
    ("fig2.py", "+ np.asarray(a[\"test_accuracy\"][1]) ** 2 / a[\"n_seeds\"])",
     "+ np.asarray(a[\"test_accuracy\"][1]) ** 2 / b[\"n_seeds\"])", ["test_fig2.py"]),
    ("bench_profiles.py", '"fewer" if c[first] < c[second] else "more"', '"fewer" if c[first] > c[second] else "more"',
     ["test_bench_profiles.py", "test_bench_figure.py"]),
    ("bench_profiles.py", '"score_change": score[first] - score[second]',
     '"score_change": score[second] - score[first]',
     ["test_bench_profiles.py", "test_bench_figure.py"]),
    ("bench_figure.py", "{d['fewer']} / {d['equal']} / {d['more']}", "{d['more']} / {d['equal']} / {d['fewer']}",
     ["test_bench_figure.py"]),
]  # fmt: skip


def copy_tree() -> pathlib.Path:
    """A copy of what the tests need, in a temporary folder: mutants are applied there, never in the checkout."""
    dest = pathlib.Path(tempfile.mkdtemp(prefix="lossnav-mutation-")) / "repo"
    ignore = shutil.ignore_patterns(".venv", ".git", "data", "checkpoints", "__pycache__", "*.ipynb", "fig_images")
    shutil.copytree(ROOT, dest, ignore=ignore)
    (dest / "data").symlink_to(ROOT / "data") if (ROOT / "data").exists() else None
    return dest


def run(index: int, tree: pathlib.Path) -> bool:
    """Apply mutant ``index`` in ``tree``, run its tests there; True when some test fails (the mutant is caught)."""
    module, old, new, tests = MUTANTS[index]
    path = tree / "functions" / module
    source = path.read_text()
    if source.count(old) != 1:
        raise SystemExit(f"mutant {index}: the snippet occurs {source.count(old)} times in {module}")
    try:
        path.write_text(source.replace(old, new))
        cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
               *(f"tests/{t}" for t in tests)]  # fmt: skip
        try:
            result = subprocess.run(cmd, cwd=tree, capture_output=True, text=True, timeout=900)
        except subprocess.TimeoutExpired:  # the tests hang on the mutant: CI's time limit would fail it
            return True
    finally:
        path.write_text(source)
    return result.returncode != 0


def main(argv: list[str]) -> int:
    chosen = [int(a) for a in argv] or range(len(MUTANTS))
    survived = []
    tree = copy_tree()
    for i in chosen:
        caught = run(i, tree)
        module, old, new, _ = MUTANTS[i]
        print(f"{i:2d} {'caught  ' if caught else 'SURVIVED'} {module}: {old.strip()[:60]!r} -> {new.strip()[:60]!r}",
              flush=True)  # fmt: skip
        if not caught:
            survived.append(i)
    print(f"mutation score: {len(chosen) - len(survived)}/{len(chosen)} caught; survivors: {survived or 'none'}")
    shutil.rmtree(tree.parent, ignore_errors=True)
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
