"""The real model of the beyond-the-paper test: logistic regression on MNIST (full pixels or PCA-reduced).

``mnist_logistic(n_components=50)`` gives d = 10 (50 + 1) = 510 (tests, explorer); ``n_components=None`` the
full 784 pixels, d = 7,850. Pixels are scaled to [0, 1]; PCA projects the centred pixels on the covariance's
leading eigenvectors, each with a fixed sign (its largest entry positive), so that the inputs do not depend on
the LAPACK build.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_int
from .data import load_idx_dataset
from .logistic import LogisticRegression

__all__ = ["mnist_inputs", "mnist_logistic", "pca"]


def pca(X: np.ndarray, n_components: int) -> np.ndarray:
    """Scores of the centred rows of X on the top ``n_components`` covariance eigenvectors (signs fixed)."""
    n_components = check_int(n_components, "n_components", 1, X.shape[1])
    Xc = X - X.mean(axis=0)
    _, vecs = np.linalg.eigh(Xc.T @ Xc / X.shape[0])
    V = vecs[:, ::-1][:, :n_components]
    V = V * np.sign(V[np.argmax(np.abs(V), axis=0), np.arange(n_components)])
    return Xc @ V


def mnist_inputs(n_components: int | None = 50, root=None, subset: int | None = None):
    """(X, y) of the MNIST training set: pixels in [0, 1] or their PCA scores; the first ``subset`` images."""
    images, labels = load_idx_dataset("mnist", train=True, root=root)
    if subset is not None:
        subset = check_int(subset, "subset", 1, len(labels))
        images, labels = images[:subset], labels[:subset]
    X = images.reshape(len(labels), -1).numpy().astype(np.float64) / 255.0
    return (X if n_components is None else pca(X, n_components)), labels.numpy()


def mnist_logistic(n_components: int | None = 50, lam: float = 1e-4, root=None, subset=None) -> LogisticRegression:
    """L2-regularised logistic regression on MNIST (see ``logistic.LogisticRegression``)."""
    X, y = mnist_inputs(n_components, root, subset)
    return LogisticRegression(X, y, lam, n_classes=10)
