"""The far-sighted rule with the exact curvature (paper, Figure 2: the gamma -> 0 limit), beyond the diagonal belief.

In the ballistic regime the optimal velocity is theta_dot = -sqrt(eta k) H^{-1/2} grad L. Ballistic replaces H by a
diagonal estimate from squared gradients; this module computes the direction with H itself, two ways:

- ``inverse_sqrt_eigh``: H = U diag(lambda) U^T by a dense eigendecomposition, then U diag(lambda^{-1/2}) U^T g;
  O(d^2) memory and O(d^3) time, exact to rounding.
- ``inverse_sqrt_lanczos``: matrix-free, from k Hessian-vector products. Lanczos on (H, g) gives an orthonormal
  Krylov basis Q_k and the tridiagonal T_k = Q_k^T H Q_k; then H^{-1/2} g ~= |g| Q_k T_k^{-1/2} e_1 (the Lanczos
  approximation of a matrix function, exact once k reaches the number of distinct eigenvalues g excites).
  O(k d) memory and k products.

H must be symmetric positive definite (an L2-regularised convex loss; elsewhere one would use |H|): a
non-positive eigenvalue is refused, naming it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._checks import check_int

__all__ = ["inverse_sqrt_eigh", "inverse_sqrt_lanczos"]


def inverse_sqrt_eigh(H, g) -> np.ndarray:
    """H^{-1/2} g by ``numpy.linalg.eigh`` of the dense symmetric positive-definite H."""
    H, g = np.asarray(H, dtype=float), np.asarray(g, dtype=float)
    if H.ndim != 2 or H.shape[0] != H.shape[1] or g.shape != (H.shape[0],):
        raise ValueError(f"Invalid H, g shapes: {H.shape}, {g.shape}; expected (d, d) and (d,).")
    lam, U = np.linalg.eigh(H)
    if lam[0] <= 0:
        raise ValueError(f"H is not positive definite (smallest eigenvalue {lam[0]:.3g}); H^(-1/2) is undefined.")
    return U @ ((U.T @ g) / np.sqrt(lam))


def inverse_sqrt_lanczos(hvp: Callable[[np.ndarray], np.ndarray], g, k: int, *, tol: float = 1e-12) -> np.ndarray:
    """H^{-1/2} g from at most ``k`` Hessian-vector products ``hvp(v) = H v``, by Lanczos with full
    reorthogonalisation (stops early when the Krylov space is invariant: the residual norm below ``tol`` |g|)."""
    g = np.asarray(g, dtype=float)
    k = check_int(k, "k", 1, g.shape[0])
    norm = float(np.linalg.norm(g))
    if norm == 0:
        return np.zeros_like(g)
    Q = np.zeros((k, g.shape[0]))
    alpha, beta = np.zeros(k), np.zeros(k)
    Q[0] = g / norm
    m = k
    for j in range(k):
        w = np.asarray(hvp(Q[j]), dtype=float)
        alpha[j] = Q[j] @ w
        w = w - Q[: j + 1].T @ (Q[: j + 1] @ w)  # full reorthogonalisation (twice is enough)
        w = w - Q[: j + 1].T @ (Q[: j + 1] @ w)
        b = float(np.linalg.norm(w))
        if j + 1 == k or b <= tol * max(1.0, abs(alpha[j])):
            m = j + 1
            break
        beta[j] = b
        Q[j + 1] = w / b
    T = np.diag(alpha[:m]) + np.diag(beta[: m - 1], 1) + np.diag(beta[: m - 1], -1)
    theta, S = np.linalg.eigh(T)
    if theta[0] <= 0:
        raise ValueError(f"H is not positive definite (a Ritz value {theta[0]:.3g}); H^(-1/2) is undefined.")
    coeffs = S @ (S[0] / np.sqrt(theta))  # T^{-1/2} e_1
    return norm * (Q[:m].T @ coeffs)
