"""A real model's loss landscape: L2-regularised multinomial logistic regression, full batch, float64.

With inputs x_i in R^p (an appended 1 gives the bias), labels y_i in {0 .. C-1} and parameters Theta (C, p+1),
theta = Theta.ravel() (each class's weights, then its bias; d = C (p + 1)):

    L(theta) = -(1/n) sum_i log softmax(Theta x~_i)[y_i] + (lam/2) |theta|^2

    grad:  G = (1/n) (P - Y)^T X~ + lam Theta                        (P = softmax(X~ Theta^T), Y one-hot)
    H v:   (1/n) (P o (Z_v - rowsum(P o Z_v)))^T X~ + lam V,  Z_v = X~ V^T
    H:     (1/n) sum_i (diag(p_i) - p_i p_i^T) (x) x~_i x~_i^T + lam I
    s_B:   E |g_B|^2 per coordinate, g_B the gradient of a minibatch of B examples drawn with replacement:
           s_B = g^2 + (E_i[g_i^2] - g^2) / B,  E_i[g_i^2] = (1/n) (R o R)^T (X~ o X~) + 2 lam Theta o (G - lam Theta)
                 + lam^2 Theta^2   (R = P - Y; g_i the i-th example's gradient, its L2 term included)

The L2 term makes L strongly convex (softmax alone is invariant to adding one vector to every class's
weights, and pixels that are always 0 have no curvature), so the minimiser theta* is unique; ``minimum``
finds it by Newton's method (conjugate gradients on exact Hessian-vector products, or the exact Hessian for
small d) to a gradient max-norm of 1e-10. ``__call__`` takes numpy arrays or torch tensors of shape
(..., d), so the solvers' autodiff applies; ``grad``, ``hvp`` and ``hessian`` are the closed forms above.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.sparse.linalg import LinearOperator, cg

from ._checks import check_int, check_positive
from .errors import ConvergenceError
from .protocols import Frozen

__all__ = ["LogisticRegression"]


class LogisticRegression(Frozen):
    """L2-regularised multinomial logistic regression on (X, y); see the module docstring for the formulas.

    Args:
        X: inputs, shape (n, p), finite.
        y: integer labels in 0 .. n_classes-1, shape (n,).
        lam: L2 weight lambda > 0.
        n_classes: C (default: max label + 1).
    """

    def __init__(self, X, y, lam: float, n_classes: int | None = None):
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y)
        if X.ndim != 2 or X.shape[0] == 0 or not np.all(np.isfinite(X)):
            raise ValueError(f"Invalid X value: shape {X.shape}; expected a finite (n, p) array with n >= 1.")
        if y.shape != (X.shape[0],) or not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
            raise ValueError(f"Invalid y value: expected {X.shape[0]} integer labels >= 0, got shape {y.shape}.")
        C = int(y.max()) + 1 if n_classes is None else check_int(n_classes, "n_classes", 2)
        if y.max() >= C:
            raise ValueError(f"Invalid y value: label {int(y.max())} >= n_classes = {C}.")
        self.lam = check_positive(lam, "lam")
        self.n, self.p, self.n_classes = X.shape[0], X.shape[1], C
        self.X = np.hstack([X, np.ones((X.shape[0], 1))])  # x~ = (x, 1)
        self.y = y.astype(np.int64)
        self.Y = np.eye(C)[self.y]
        self.dim = C * (self.p + 1)
        self._freeze()
        object.__setattr__(self, "_X_t", torch.from_numpy(self.X.copy()))
        object.__setattr__(self, "_y_t", torch.from_numpy(self.y.copy()))
        object.__setattr__(self, "_X2", self.X * self.X)

    def __repr__(self) -> str:
        return f"LogisticRegression(n={self.n}, p={self.p}, n_classes={self.n_classes}, lam={self.lam:g})"

    def _theta(self, theta) -> np.ndarray:
        theta = np.asarray(theta, dtype=np.float64)
        if theta.shape != (self.dim,):
            raise ValueError(f"Invalid theta shape: {theta.shape}; expected ({self.dim},).")
        return theta.reshape(self.n_classes, self.p + 1)

    def probabilities(self, theta) -> np.ndarray:
        """softmax(X~ Theta^T), shape (n, C)."""
        Z = self.X @ self._theta(theta).T
        Z -= Z.max(axis=1, keepdims=True)
        P = np.exp(Z)
        return P / P.sum(axis=1, keepdims=True)

    def __call__(self, theta):
        """L(theta) for theta of shape (..., d): numpy in, numpy out; torch in, torch out (differentiable)."""
        if isinstance(theta, torch.Tensor):
            Theta = theta.reshape(*theta.shape[:-1], self.n_classes, self.p + 1)
            X = self._X_t.to(theta.dtype)
            Z = torch.einsum("nj,...cj->...nc", X, Theta)
            log_p = torch.log_softmax(Z, dim=-1)
            nll = -log_p.gather(-1, self._y_t.expand(*Z.shape[:-1])[..., None])[..., 0].mean(-1)
            return nll + 0.5 * self.lam * (theta * theta).sum(-1)
        theta = np.asarray(theta, dtype=np.float64)
        if theta.ndim > 1:
            return np.array([self(t) for t in theta.reshape(-1, self.dim)]).reshape(theta.shape[:-1])
        Z = self.X @ self._theta(theta).T
        zmax = Z.max(axis=1, keepdims=True)
        log_norm = zmax[:, 0] + np.log(np.exp(Z - zmax).sum(axis=1))
        nll = float(np.mean(log_norm - Z[np.arange(self.n), self.y]))
        return nll + 0.5 * self.lam * float(theta @ theta)

    def grad(self, theta) -> np.ndarray:
        """dL/dtheta = ((1/n) (P - Y)^T X~ + lam Theta).ravel()."""
        P = self.probabilities(theta)
        return ((P - self.Y).T @ self.X / self.n + self.lam * self._theta(theta)).ravel()

    def hvp(self, theta, v, P: np.ndarray | None = None) -> np.ndarray:
        """The Hessian at theta times v (shape (d,)), without forming H; ``P`` reuses probabilities(theta)."""
        P = self.probabilities(theta) if P is None else P
        V = self._theta(v)
        Zv = self.X @ V.T
        dP = P * (Zv - (P * Zv).sum(axis=1, keepdims=True))
        return (dP.T @ self.X / self.n + self.lam * V).ravel()

    def minibatch_second_moment(self, theta, batch: int) -> np.ndarray:
        """s_B(theta) (module docstring): the expected squared gradient of a minibatch of ``batch`` examples, per
        coordinate, shape (d,). Adam's and Ballistic's curvature belief v tracks it (full-batch g^2 vanishes at
        theta*; s_B keeps the per-example spread, the Fisher's diagonal over B)."""
        return self.gradient_and_second_moment(theta, batch)[1]

    def gradient_and_second_moment(self, theta, batch: int) -> tuple[np.ndarray, np.ndarray]:
        """(grad L, s_B) at theta from one pass over the data (the learner flows need both at every step)."""
        batch = check_int(batch, "batch", 1)
        Theta = self._theta(theta)
        R = self.probabilities(theta) - self.Y
        G = R.T @ self.X / self.n + self.lam * Theta
        per_example = (R * R).T @ self._X2 / self.n + 2 * self.lam * Theta * (G - self.lam * Theta)
        per_example += (self.lam * Theta) ** 2
        return G.ravel(), (G * G + (per_example - G * G) / batch).ravel()

    def linearise_path(self, theta, chunk: int = 32):
        """(L, grad L, V -> H V) at every row of ``theta`` (N, d), batched over nodes (the path solvers' interface).

        The probabilities of each node are computed once and reused by every Hessian-vector product; nodes go
        through in chunks of ``chunk`` so that each product is one large matrix multiply.
        """
        theta = np.asarray(theta, dtype=np.float64)
        if theta.ndim != 2 or theta.shape[1] != self.dim:
            raise ValueError(f"Invalid theta shape: {theta.shape}; expected (N, {self.dim}).")
        N, C, q, n = theta.shape[0], self.n_classes, self.p + 1, self.n
        blocks = [slice(i, min(i + chunk, N)) for i in range(0, N, chunk)]
        probs, values, grads = [], np.empty(N), np.empty((N, self.dim))
        for b in blocks:
            Th = theta[b].reshape(-1, C, q)
            Z = (self.X @ Th.reshape(-1, q).T).reshape(n, -1, C)
            zmax = Z.max(axis=2, keepdims=True)
            E = np.exp(Z - zmax)
            S = E.sum(axis=2, keepdims=True)
            P = E / S
            log_norm = (zmax + np.log(S))[:, :, 0]
            values[b] = np.mean(log_norm - np.take_along_axis(Z, self.y[:, None, None], axis=2)[:, :, 0], axis=0)
            values[b] += 0.5 * self.lam * np.sum(theta[b] ** 2, axis=1)
            R = (P - self.Y[:, None, :]).reshape(n, -1)
            grads[b] = (R.T @ self.X / n).reshape(-1, C * q) + self.lam * theta[b]
            probs.append(P)

        def hvp(V):
            V = np.asarray(V, dtype=np.float64)
            out = np.empty_like(V)
            for b, P in zip(blocks, probs, strict=False):
                Zv = (self.X @ V[b].reshape(-1, q).T).reshape(n, -1, C)
                dP = P * (Zv - np.sum(P * Zv, axis=2, keepdims=True))
                out[b] = (dP.reshape(n, -1).T @ self.X / n).reshape(-1, C * q) + self.lam * V[b]
            return out

        return values, grads, hvp

    def hessian(self, theta, max_dim: int = 4000) -> np.ndarray:
        """The full Hessian (d, d), for d <= ``max_dim`` (it holds d^2 numbers)."""
        if self.dim > max_dim:
            raise ValueError(f"Invalid dim value: {self.dim} > max_dim = {max_dim}; use hvp for large models.")
        P, C, q = self.probabilities(theta), self.n_classes, self.p + 1
        H = np.zeros((C, q, C, q))
        for c in range(C):
            for e in range(c, C):
                w = (P[:, c] * (1.0 if c == e else 0.0) - P[:, c] * P[:, e]) / self.n
                block = (self.X * w[:, None]).T @ self.X
                H[c, :, e, :] = block
                H[e, :, c, :] = block.T
        H = H.reshape(self.dim, self.dim)
        H[np.diag_indices(self.dim)] += self.lam
        return H

    def minimum(self, theta0=None, gtol: float = 1e-10, max_newton: int = 50, exact: bool | None = None):
        """theta* by Newton's method with a backtracking line search, to max |grad| <= ``gtol``.

        Each step solves H dx = -g exactly (``exact``; default when d <= 1,000) or by conjugate gradients on
        ``hvp`` to a relative residual of min(0.1, sqrt(|g|)) (inexact Newton: superlinear). Returns
        (theta*, newton steps).

        Raises:
            ConvergenceError: |grad| is still above gtol after ``max_newton`` steps.
        """
        theta = np.zeros(self.dim) if theta0 is None else self._theta(theta0).ravel().copy()
        exact = self.dim <= 1000 if exact is None else exact
        for step in range(max_newton + 1):
            g = self.grad(theta)
            gnorm = float(np.max(np.abs(g)))
            if gnorm <= gtol:
                return theta, step
            P = self.probabilities(theta)
            if exact:
                dx = np.linalg.solve(self.hessian(theta), -g)
            else:
                op = LinearOperator((self.dim, self.dim), matvec=lambda v, th=theta, P=P: self.hvp(th, v, P))
                dx, _ = cg(op, -g, rtol=min(0.1, np.sqrt(np.linalg.norm(g))), maxiter=10 * self.dim)
            f0, slope, t = self(theta), float(g @ dx), 1.0
            while self(theta + t * dx) > f0 + 1e-4 * t * slope and t > 1e-10:
                t *= 0.5
            theta = theta + t * dx
        raise ConvergenceError(f"Newton stopped after {max_newton} steps with |grad|_max = {gnorm:.2e} > {gtol:g}.")
