"""The optimal path at scale: Newton-Krylov on the discrete costate (Euler-Lagrange) equations.

With no drift and a constant metric G, the optimum of J (Section 2) solves, in current-value form (no
exponential weights; mu = -G theta_dot / eta),

    theta_dot = -eta G^-1 mu,    mu_dot = gamma mu - k grad L(theta),    mu(T) = 0 (free end) or theta(T) fixed.

The path lives on nodes 0 = t_0 < ... < t_{N-1} = T (any grid: ``paths.time_grid``), steps D_n = t_{n+1} - t_n,
x_n = gamma D_n. Two time rules:

- ``"trapezoid"`` (second order, the default): on each step grad L is linear in t and both equations are
  integrated exactly (an exponential trapezoid rule):
      mu_n = e^{-x_n} mu_{n+1} + k D_n [phi_a(x_n) g_n + phi_b(x_n) g_{n+1}],
      theta_{n+1} - theta_n = -eta D_n G^-1 [phi0(x_n) mu_{n+1} + k D_n (P(x_n) g_n + Q(x_n) g_{n+1})],
  with phi0(x) = (1 - e^{-x})/x, phi_b(x) = int_0^1 u e^{-xu} du, phi_a = phi0 - phi_b,
  P(x) = (1/2 - phi_a(x))/x and Q(x) = (1/2 - phi_b(x))/x. Eliminating mu with the second equation leaves one
  equation per node in theta_{n-1}, theta_n, theta_{n+1} (tridiagonal in time). At gamma = 0 it is the
  finite-element rule theta'' = eta k (g_{n-1} + 4 g_n + g_{n+1}) / 6; for gamma D >> 1 each step is a
  trapezoid step of gradient flow theta_dot = -(eta k / gamma) grad L (the large-gamma limit of Section 3), still
  second order. Every weight lies in [e^{-gamma D}, 1]: gamma T can be as large as the path needs (the direct,
  discounted form underflows once gamma t > 700 and loses every digit of the late path once gamma t > 36).
- ``"forward"`` (first order, Figure 1's rule of ``objective.discrete_action``): the stationarity conditions of
  that discrete action, each row divided by its weight e^{-gamma t_{n-1}}.

Each row is scaled to force units (grad L's), R_n ~ gamma mu_n - mu_dot - k grad L, so that one tolerance
means the same early and late. Newton's method solves R(theta) = 0; each step solves J dtheta = -R by
right-preconditioned GMRES with Hessian-vector products at every node. The preconditioner is the same
operator with a fixed curvature H_ref in place of the Hessians: in the generalised eigenbasis
H_ref V = G V Lambda (V^T G V = I) it splits into one tridiagonal system in time per mode, solved by the Thomas
algorithm (O(N d) after two d x d products). With H_ref = 0 it is the time-tridiagonal kinetic operator (x) G;
with the Hessian of a quadratic loss it is the exact inverse (one Newton step, one Krylov iteration).

Convergence: max_n |R_n|_inf <= tol * k max |grad L(theta_0)|_inf (the costate residual relative to the initial
pull), or below the rows' own rounding level 64 eps (max|kap| max|G theta| / eta + k max|ell| max|grad L|) (a
start at a stationary point has no pull), else ``ConvergenceError``.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import torch

from ._checks import as_data, check_choice, check_int, check_positive, check_vector
from .errors import ConvergenceError
from .geometry import NoDrift
from .objective import Problem
from .paths import Path, SolverInfo, check_grid, time_grid

__all__ = ["RULES", "costate_residual", "discrete_J", "exponential_weights", "linearise_path", "modal_curvature",
           "solve_path"]  # fmt: skip

RULES = ("trapezoid", "forward")

#: The relative residual a row reaches in double precision, per unit of its x = gamma D (see solve_path).
ROUNDING_FLOOR = 1e-14

#: Below this x the weights come from their Taylor series (the closed forms cancel digits as x -> 0).
_SERIES_BELOW = 0.1


def exponential_weights(x) -> dict[str, np.ndarray]:
    """phi0, phi_a, phi_b, P, Q of the module docstring at x = gamma D >= 0, to ~1e-14 for every x.

    Also ``u2`` = int_0^1 u^2 e^{-xu} du (the exact J of a piecewise-linear path on a quadratic loss, ``lq``).
    """
    x = np.asarray(x, dtype=np.float64)
    small = x < _SERIES_BELOW
    xs = np.where(small, 1.0, x)
    em = -np.expm1(-xs)
    closed = {"phi0": em / xs, "phi_b": (em - xs * np.exp(-xs)) / xs**2}
    closed["phi_a"] = closed["phi0"] - closed["phi_b"]
    closed["P"] = (0.5 - closed["phi_a"]) / xs
    closed["Q"] = (0.5 - closed["phi_b"]) / xs
    closed["u2"] = (2 * em - xs * np.exp(-xs) * (xs + 2)) / xs**3
    # Power series: int_0^1 u^j (1-u)^i e^{-xu} du = sum_k (-x)^k / k! times the moments, and P, Q shifted by
    # one power of x (P = sum_{k>=1} (-x)^(k-1) / (k! (k+1) (k+2)), Q = sum_{k>=1} (-x)^(k-1) / (k! (k+2))).
    xm = np.where(small, x, 0.0)
    series = {name: np.zeros_like(x) for name in closed}
    fact = 1.0
    for kk in range(14):
        fact *= max(kk, 1)
        term = (-xm) ** kk / fact
        series["phi0"] += term / (kk + 1)
        series["phi_b"] += term / (kk + 2)
        series["phi_a"] += term / ((kk + 1) * (kk + 2))
        series["u2"] += term / (kk + 3)
        if kk >= 1:
            shifted = (-xm) ** (kk - 1) / fact
            series["P"] += shifted / ((kk + 1) * (kk + 2))
            series["Q"] += shifted / (kk + 2)
    return {name: np.where(small, series[name], closed[name]) for name in closed}


class _Rows:
    """Each unknown node's row R_n = sum_j [kap_nj (G theta_j) / eta + k ell_nj g_j], j in (n-1, n, n+1).

    Rows i = 0 .. M-1 are nodes n = i + 1 (M = N - 1 free end, N - 2 fixed end); ``kap`` and ``ell`` hold the
    (lower, diagonal, upper) coefficient of each row, scaled to force units.
    """

    def __init__(self, t: np.ndarray, gamma: float, rule: str, free_end: bool):
        N = t.size
        D = np.diff(t)
        x = gamma * D
        M = N - 1 if free_end else N - 2
        kap = np.zeros((3, N - 1))
        ell = np.zeros((3, N - 1))
        if rule == "trapezoid":
            w = exponential_weights(x)
            back = 1.0 / (D * w["phi0"])  # 1 / (D_{n-1} phi0_{n-1}) for node n = i + 1 (piece i)
            # rows n = 1 .. N-2: -(m_n - e^{-x_n} m_{n+1} - k D_n (phi_a g_n + phi_b g_{n+1})) / omega_n
            dec, Dn, fw = np.exp(-x[1:]), D[1:], {k_: v[1:] for k_, v in w.items()}
            omega = Dn * fw["phi0"]
            kap[0, :-1] = -back[:-1] / omega
            kap[1, :-1] = (back[:-1] + dec / (Dn * fw["phi0"])) / omega
            kap[2, :-1] = -dec / (Dn * fw["phi0"]) / omega
            ell[0, :-1] = D[:-1] * w["P"][:-1] / w["phi0"][:-1] / omega
            ell[1, :-1] = (
                D[:-1] * w["Q"][:-1] / w["phi0"][:-1] - dec * Dn * fw["P"] / fw["phi0"] + Dn * fw["phi_a"]
            ) / omega
            ell[2, :-1] = (Dn * fw["phi_b"] - dec * Dn * fw["Q"] / fw["phi0"]) / omega
            # row N-1 (free end): mu_{N-1} = mu(T) = 0, over omega = D phi0 of the last piece
            last = D[-1] * w["phi0"][-1]
            kap[0, -1], kap[1, -1] = -back[-1] / last, back[-1] / last
            ell[0, -1] = D[-1] * w["P"][-1] / w["phi0"][-1] / last
            ell[1, -1] = D[-1] * w["Q"][-1] / w["phi0"][-1] / last
        else:
            b = 1.0 / D
            c = np.append(np.exp(-x[:-1]) / D[1:], 0.0)
            beta = np.append(np.exp(-x[:-1]) * D[1:], 0.0)
            nu = (D + np.append(D[1:], 0.0)) / 2
            kap[0], kap[1], kap[2] = -b / nu, (b + c) / nu, -c / nu
            ell[1] = beta / nu
        # Fixed end: row N-2's upper neighbour is theta(T), in the residual; its Newton update is 0.
        self.kap, self.ell, self.M, self.N = kap[:, :M], ell[:, :M], M, N

    def apply(self, X: np.ndarray, gX: np.ndarray, G, eta: float, k: float) -> np.ndarray:
        """sum_j [kap (G X_j)/eta + k ell gX_j] over the rows, for full (N, d) arrays X and gX."""
        M, U = self.M, min(self.M, self.N - 2)  # U rows have an upper neighbour (the free end's row has none)
        GX = X if G is None else X @ G
        kap, ell = self.kap, self.ell
        out = (kap[0][:, None] * GX[:M] + kap[1][:, None] * GX[1 : M + 1]) / eta
        out += k * (ell[0][:, None] * gX[:M] + ell[1][:, None] * gX[1 : M + 1])
        out[:U] += kap[2][:U, None] * GX[2 : U + 2] / eta + k * ell[2][:U, None] * gX[2 : U + 2]
        return out


def linearise_path(loss, theta: np.ndarray):
    """(L, grad L, v -> H v) at every node of ``theta`` (N, d): the loss's own ``linearise_path`` if it has one,
    else per-node ``grad``/``hvp``, else torch autodiff of its ``__call__``."""
    if hasattr(loss, "linearise_path"):
        return loss.linearise_path(theta)
    x = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    values = loss(x)
    (g,) = torch.autograd.grad(values.sum(), x, create_graph=True)

    def hvp(V):
        (hv,) = torch.autograd.grad(g, x, torch.as_tensor(V), retain_graph=True)
        return hv.detach().numpy()

    return values.detach().numpy(), g.detach().numpy().copy(), hvp


def modal_curvature(curvature, G: np.ndarray):
    """(lambda, V) with H_ref V = G V diag(lambda), V^T G V = I, for the preconditioner; V None when G = I, H_ref = 0.

    ``curvature``: None (H_ref = 0), a vector (a diagonal H_ref, G = I), a (d, d) symmetric positive
    semi-definite matrix, or a precomputed pair (lambda, V) (e.g. reused across gamma).
    """
    d = G.shape[0]
    identity = np.array_equal(G, np.eye(d))
    if curvature is None:
        if identity:
            return np.zeros(d), None
        s, U = np.linalg.eigh(G)
        return np.zeros(d), U / np.sqrt(s)
    if not isinstance(curvature, tuple) and np.ndim(curvature) == 1:  # a diagonal H_ref
        lam = np.asarray(curvature, dtype=np.float64)
        if lam.shape != (d,) or not identity or np.any(lam < 0) or not np.all(np.isfinite(lam)):
            raise ValueError(f"Invalid curvature value: a diagonal H_ref needs {d} finite entries >= 0 and G = I.")
        return lam, None
    if isinstance(curvature, tuple):
        lam, V = (np.asarray(a, dtype=np.float64) for a in curvature)
        if lam.shape != (d,) or V.shape != (d, d):
            raise ValueError(f"Invalid curvature value: (lambda, V) of shapes {lam.shape}, {V.shape}; expected "
                             f"({d},) and ({d}, {d}).")  # fmt: skip
        return lam, V
    H = np.asarray(curvature, dtype=np.float64)
    if H.shape != (d, d) or not np.all(np.isfinite(H)):
        raise ValueError(f"Invalid curvature shape: {H.shape}; expected a finite ({d}, {d}) matrix (H_ref).")
    lam, V = scipy.linalg.eigh(H, None if identity else G)
    if lam.min() < -1e-10 * max(1.0, abs(lam.max())):
        raise ValueError(f"Invalid curvature value: smallest eigenvalue {lam.min():.3g} < 0; H_ref must be "
                         "positive semi-definite (use the Hessian at the minimum, or None).")  # fmt: skip
    return np.maximum(lam, 0.0), V


class _Tridiagonal:
    """The preconditioner's per-mode tridiagonal systems in time, factorised once (Thomas algorithm)."""

    def __init__(self, rows: _Rows, lam: np.ndarray, V, eta: float, k: float):
        sub, diag, sup = (rows.kap[i][:, None] / eta + k * rows.ell[i][:, None] * lam for i in range(3))
        m = diag.shape[0]
        inv = np.empty_like(diag)
        cp = np.empty_like(diag)
        inv[0] = 1.0 / diag[0]
        cp[0] = sup[0] * inv[0]
        for i in range(1, m):
            inv[i] = 1.0 / (diag[i] - sub[i] * cp[i - 1])
            cp[i] = sup[i] * inv[i]
        self.sub, self.inv, self.cp, self.V = sub, inv, cp, V

    def solve(self, y: np.ndarray) -> np.ndarray:
        """z with (tridiagonal per mode) z = V^T y, mapped back: V z (shape (M, d))."""
        z = y if self.V is None else y @ self.V  # V^T y, row by row
        out = np.empty_like(z)
        out[0] = z[0] * self.inv[0]
        for i in range(1, z.shape[0]):
            out[i] = (z[i] - self.sub[i] * out[i - 1]) * self.inv[i]
        for i in range(z.shape[0] - 2, -1, -1):
            out[i] -= self.cp[i] * out[i + 1]
        return out if self.V is None else out @ self.V.T


def _metric(problem: Problem):
    d = problem.dim
    return None if np.array_equal(problem.metric.G, np.eye(d)) else np.asarray(problem.metric.G, dtype=np.float64)


def costate_residual(problem: Problem, t, theta, *, rule: str = "trapezoid", free_end: bool = True) -> np.ndarray:
    """R_n of the module docstring (force units) at the unknown nodes of ``theta`` (N, d): rows 1 .. N-1 (free
    end) or 1 .. N-2 (fixed end)."""
    t = check_grid(t)
    check_choice(rule, "rule", RULES)
    rows = _Rows(t, problem.gamma, rule, free_end)
    theta = np.asarray(theta, dtype=np.float64)
    _, g, _ = linearise_path(problem.loss, theta)
    return rows.apply(theta, g, _metric(problem), problem.eta, problem.k)


def _J_weights(t: np.ndarray, gamma: float, rule: str):
    """Weights of J_h: per piece for |dtheta|_G^2 / (2 eta), per node for k L."""
    D = np.diff(t)
    start = np.exp(-gamma * t[:-1])
    if rule == "trapezoid":  # exact for the piecewise-linear path's kinetic term; L against the hat functions
        w = exponential_weights(gamma * D)
        loss = np.append(start * D * w["phi_a"], 0.0) + np.append(0.0, start * D * w["phi_b"])
        return start * w["phi0"] / D, loss
    return start / D, np.append(start * D, 0.0)  # forward: T times objective.discrete_action


def discrete_J(problem: Problem, t, theta, *, rule: str = "trapezoid", values=None) -> float:
    """The discretised objective J_h of ``rule`` for the path ``theta`` (N, d) on the grid ``t``.

    "trapezoid": the kinetic term of the piecewise-linear path exactly, the loss against the hat functions;
    "forward": T times ``objective.discrete_action`` (uniform grid) or its non-uniform sum.
    """
    t = check_grid(t)
    check_choice(rule, "rule", RULES)
    kin, loss = _J_weights(t, problem.gamma, rule)
    theta = np.asarray(theta, dtype=np.float64)
    kinetic = float(np.sum(kin * problem.metric.sq_norm(np.diff(theta, axis=0))) / (2 * problem.eta))
    if values is None:
        values = np.asarray(problem.loss(theta), dtype=np.float64)
    return kinetic + problem.k * float(loss @ values)


def _gmres(A, Minv, b, rtol, restart, max_iter):
    """Right-preconditioned restarted GMRES: x with |b - A x| <= rtol |b| (true residual at each restart)."""
    x = np.zeros_like(b)
    r = b.copy()
    b_norm = np.linalg.norm(b)
    total = 0
    if b_norm == 0:
        return x, 0, 0.0
    while True:
        beta = np.linalg.norm(r)
        if beta <= rtol * b_norm or total >= max_iter:
            return x, total, beta / b_norm
        Q = [r / beta]
        Hm = np.zeros((restart + 1, restart))
        for j in range(restart):
            w = A(Minv(Q[j]))
            for i in range(j + 1):  # modified Gram-Schmidt, twice (orthogonality to rounding)
                Hm[i, j] = np.vdot(Q[i], w)
                w = w - Hm[i, j] * Q[i]
            for i in range(j + 1):
                c = np.vdot(Q[i], w)
                Hm[i, j] += c
                w = w - c * Q[i]
            Hm[j + 1, j] = np.linalg.norm(w)
            total += 1
            e1 = np.zeros(j + 2)
            e1[0] = beta
            y = np.linalg.lstsq(Hm[: j + 2, : j + 1], e1, rcond=None)[0]
            res = np.linalg.norm(e1 - Hm[: j + 2, : j + 1] @ y)
            if res <= rtol * b_norm or Hm[j + 1, j] <= 1e-14 * beta or total >= max_iter:
                break
            Q.append(w / Hm[j + 1, j])
        x = x + Minv(sum(yi * qi for yi, qi in zip(y, Q, strict=False)))
        r = b - A(x)


def solve_path(
    problem: Problem,
    theta0,
    T: float,
    *,
    theta_T=None,
    n_points: int = 256,
    t=None,
    rule: str = "trapezoid",
    curvature=None,
    guess=None,
    tol: float = 1e-8,
    max_newton: int = 50,
    krylov_restart: int = 60,
    max_krylov: int = 2000,
) -> Path:
    """The optimal path on [0, T] by Newton-Krylov on the costate equations (module docstring).

    Args:
        problem: the navigation problem (no drift; G constant). Its loss gives values, gradients and
            Hessian-vector products (``linearise_path``).
        theta0: start theta(0), shape (d,).
        T: horizon, > 0.
        theta_T: fixed end theta(T); None for the free end.
        n_points: N, for the uniform grid when ``t`` is not given.
        t: the time grid (from 0 to T, increasing, >= 3 points), e.g. ``time_grid(T, N, "geometric", first)``.
        rule: "trapezoid" (second order) or "forward" (first order, Figure 1's).
        curvature: H_ref of the preconditioner: None (kinetic only), a (d, d) matrix, or its (lambda, V).
        guess: the first path, shape (N, d), ends included; theta0 at rest (free end) or the straight line.
        tol: the relative costate residual to reach (raised to its rounding floor, 1e-14 max(1, gamma max D),
            where that is larger; ``SolverInfo.tol`` says which was used).
        max_newton, krylov_restart, max_krylov: iteration caps (Newton steps; GMRES restart length; Krylov
            iterations per Newton step).

    Raises:
        ValueError: bad input, named before any work (a drift, a grid not ending at T, shapes, a loss that is
            not finite at the start).
        ConvergenceError: the residual is above ``tol`` after ``max_newton`` steps, or the line search fails.
    """
    d = problem.dim
    if not isinstance(problem.drift, NoDrift):
        raise ValueError("Invalid problem: it has a drift f; solve_path handles f = 0 (use bvp.solve_bvp).")
    theta0 = check_vector(theta0, "theta0", d)
    problem.check_start(theta0)
    T = check_positive(T, "T")
    if theta_T is not None:
        theta_T = check_vector(theta_T, "theta_T", d)
    check_choice(rule, "rule", RULES)
    t = time_grid(T, check_int(n_points, "n_points", 3)) if t is None else check_grid(t, T)
    tol = check_positive(tol, "tol")
    max_newton = check_int(max_newton, "max_newton", 1)
    krylov_restart = check_int(krylov_restart, "krylov_restart", 1)
    max_krylov = check_int(max_krylov, "max_krylov", 1)
    N = t.size
    if guess is None:
        guess = np.broadcast_to(theta0, (N, d)) if theta_T is None else theta0 + (t / T)[:, None] * (theta_T - theta0)
    theta = np.array(as_data(guess), dtype=np.float64)
    if theta.shape != (N, d) or not np.all(np.isfinite(theta)):
        raise ValueError(f"Invalid guess shape: {theta.shape}; expected finite values of shape ({N}, {d}) "
                         "(one row per time, ends included).")  # fmt: skip
    theta[0] = theta0
    if theta_T is not None:
        theta[-1] = theta_T
    G = _metric(problem)
    lam, V = modal_curvature(curvature, np.eye(d) if G is None else G)
    eta, k = problem.eta, problem.k
    rows = _Rows(t, problem.gamma, rule, free_end=theta_T is None)
    m = rows.M
    pre = _Tridiagonal(rows, lam, V, eta, k)
    # Rounding floor of the rows: a step with x = gamma D >> 1 carries mu as a difference of terms ~x times larger
    # (module docstring), so the residual cannot get below ~eps x; the tolerance used is the larger of the two.
    tol = max(tol, ROUNDING_FLOOR * max(1.0, float(problem.gamma * np.diff(t).max())))

    def linearise(th):
        values, g, hvp = linearise_path(problem.loss, th)
        if not (np.all(np.isfinite(values)) and np.all(np.isfinite(g))):
            return None
        return values, g, hvp, rows.apply(th, g, G, eta, k)

    state = linearise(theta)
    if state is None:
        raise ValueError("Invalid guess: the loss or its gradient is not finite along it; start from a finite path.")
    # The unit of the residual: the initial pull k |grad L(theta0)| (1 for a start at a stationary point).
    scale = k * float(np.max(np.abs(state[1][0]))) or 1.0
    n_inner = 0
    for step in range(max_newton + 1):
        values, g, hvp, R = state
        residual = float(np.max(np.abs(R))) / scale
        Gth = theta if G is None else theta @ G
        rounding = 64 * np.finfo(float).eps * (np.abs(rows.kap).max() * np.abs(Gth).max() / eta
                                               + k * np.abs(rows.ell).max() * np.abs(g).max()) / scale  # fmt: skip
        if residual <= max(tol, rounding):
            info = SolverInfo("Newton-Krylov", rule, residual, max(tol, rounding), step, n_inner)
            return Path(t=t, theta=theta, J=discrete_J(problem, t, theta, rule=rule, values=values), info=info)
        if step == max_newton:
            break
        full = np.zeros((N, d))

        def A(x, hvp=hvp, full=full):
            full[1 : m + 1] = x.reshape(m, d)
            return rows.apply(full, hvp(full), G, eta, k).ravel()

        def Minv(y):
            return pre.solve(y.reshape(m, d)).ravel()

        rtol = min(0.1, max(residual, 0.1 * tol / residual))
        delta, its, _ = _gmres(A, Minv, -R.ravel(), rtol, krylov_restart, max_krylov)
        n_inner += its
        r_norm, alpha = np.linalg.norm(R), 1.0
        while True:
            trial = theta.copy()
            trial[1 : m + 1] += alpha * delta.reshape(m, d)
            new = linearise(trial)
            if new is not None and np.linalg.norm(new[3]) <= (1 - 1e-4 * alpha) * r_norm:
                break
            alpha *= 0.5
            if alpha < 1e-6:
                raise ConvergenceError(
                    f"Newton-Krylov line search failed at step {step} (relative costate residual {residual:.2e}; "
                    f"gamma = {problem.gamma:g}, N = {N}). Try a better guess, a preconditioner curvature closer "
                    "to the Hessian, or more time points."
                )
        theta, state = trial, new
    raise ConvergenceError(
        f"Newton-Krylov stopped after {max_newton} steps with relative costate residual {residual:.2e} > {tol:g} "
        f"(gamma = {problem.gamma:g}, N = {N}). Raise max_newton or give a better guess."
    )
