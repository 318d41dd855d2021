"""E3's regret (functions/regret.py): every learner's J at or above J* of the optimal path on the same grid, the
tuned constants a local minimum of J, gradient flow's tuned rate near eta k / gamma when gamma is large, and bad
starts refused."""

import numpy as np
import pytest

from functions.errors import ConvergenceError
from functions.landscapes import QuadraticModel
from functions.learner_flows import LEARNERS
from functions.lq import free_end_lq, rates
from functions.newton_krylov import discrete_J, solve_path
from functions.objective import Problem
from functions.regret import learner_J, tune_learner
from functions.solver_checks import horizon_grid

START = {"gf": {"alpha": 0.5}, "heavy_ball": {"a": 1.0, "b": 0.5}, "ballistic": {"alpha": 0.05, "tau": 5.0},
         "adam": {"alpha": 0.05, "tau1": 0.5, "tau2": 5.0}}  # fmt: skip


def _optimum(model, gamma, n_points=64):
    theta_star, _ = model.minimum()
    eig = np.linalg.eigh(model.hessian(theta_star))
    T, t = horizon_grid(rates(eig[0], gamma), n_points)
    theta0 = np.zeros(model.dim)
    problem = Problem(model, gamma=gamma)
    guess = free_end_lq(None, theta_star, theta0, T, gamma, 1.0, 1.0, eig=eig)(t)
    path = solve_path(problem, theta0, T, t=t, curvature=eig, guess=guess)
    L_star = float(model(theta_star))
    J_star = discrete_J(problem, t, path.theta, values=model.linearise_path(path.theta)[0] - L_star)
    return problem, theta0, t, L_star, J_star


@pytest.mark.parametrize("gamma", [0.05, 2.0])
def test_every_learner_at_any_constants_has_J_at_least_J_star(gamma, small_logistic):
    """J* minimises the discrete J over grid paths from theta0: a learner below it would be a solver bug."""
    problem, theta0, t, L_star, J_star = _optimum(small_logistic, gamma)
    rng = np.random.default_rng(0)
    for key, start in START.items():
        for _ in range(3):
            c = {name: v * np.exp(rng.uniform(-1.5, 1.5)) for name, v in start.items()}
            J, theta, excess = learner_J(problem, key, theta0, t, loss_floor=L_star, **c)
            assert J >= J_star * (1 - 1e-9), (key, c)
            assert theta.shape == (t.size, problem.dim) and excess.min() >= -1e-12


def test_tuned_constants_are_a_local_minimum_below_the_start(small_logistic):
    problem, theta0, t, L_star, J_star = _optimum(small_logistic, 0.3, n_points=32)
    tuned = tune_learner(problem, "ballistic", theta0, t, START["ballistic"], loss_floor=L_star, max_evals=80)
    J_start = learner_J(problem, "ballistic", theta0, t, loss_floor=L_star, **START["ballistic"])[0]
    assert J_star <= tuned.J < J_start and tuned.n_evals <= 81
    for name in LEARNERS["ballistic"].constants:
        for f in (0.9, 1.1):
            c = {**tuned.constants, name: tuned.constants[name] * f}
            assert learner_J(problem, "ballistic", theta0, t, loss_floor=L_star, **c)[0] >= tuned.J * (1 - 1e-6)


def test_gradient_flow_tuned_at_large_gamma_has_the_rate_eta_k_over_gamma():
    """Section 3: at gamma^2 >> eta k lambda_max the optimum is gradient flow at rate eta k / gamma (to a relative
    O(eta k h / gamma^2) = 0.25 % here); the discrete J moves the tuned rate by O(first step), which shrinks with N."""
    H = np.diag([0.05, 0.2, 1.0])
    model = QuadraticModel(H, np.array([1.0, -1.0, 0.5]))
    gamma, off = 20.0, {}
    for n in (128, 512):
        _, t = horizon_grid(rates(np.diag(H), gamma), n)
        tuned = tune_learner(Problem(model, gamma=gamma), "gf", np.zeros(3), t, {"alpha": 1.0}, loss_floor=0.0,
                             max_evals=60, xatol=1e-4, flow_options={"rtol": 1e-10})  # fmt: skip
        off[n] = abs(tuned.constants["alpha"] * gamma - 1)
    assert off[512] <= 5e-3 and off[512] < off[128] / 2


def test_bad_starts_are_refused(small_logistic):
    problem, theta0, t, L_star, _ = _optimum(small_logistic, 1.0, n_points=16)
    with pytest.raises(ValueError, match="Invalid start for 'gf'"):
        tune_learner(problem, "gf", theta0, t, {"a": 1.0}, loss_floor=L_star, max_evals=5)
    with pytest.raises(ValueError, match="Invalid start for 'sgd'"):
        tune_learner(problem, "sgd", theta0, t, {"alpha": 1.0}, loss_floor=L_star, max_evals=5)
    with pytest.raises(ValueError, match="alpha"):
        tune_learner(problem, "gf", theta0, t, {"alpha": 0.0}, loss_floor=L_star, max_evals=5)
    with pytest.raises(ConvergenceError, match="fails at every start"):
        tune_learner(problem, "gf", theta0, t, {"alpha": 1.0}, loss_floor=L_star, max_evals=5,
                     flow_options={"max_evals": 1})  # fmt: skip
