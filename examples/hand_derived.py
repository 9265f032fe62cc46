"""Hand-derived RBF derivatives, right and wrong: the module the README's verify commands use.

``k(x, y) = exp(-|x - y|^2 / (2 l^2))``. Each function takes the length scale as a keyword
argument, so ``kernelgen verify`` can check it at random values away from 1 (at l = 1 the
log-space and linear-space derivatives coincide and a missing chain-rule factor is invisible).

Run from the repository root, e.g.::

    kernelgen verify --function examples.hand_derived:dk_dlog_l --reference examples.hand_derived:kernel --param l
"""

from __future__ import annotations

import numpy as np


def _sq_dist(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    return np.sum((X[:, None, :] - Y[None, :, :]) ** 2, axis=-1)


def kernel(X: np.ndarray, Y: np.ndarray, l: float = 1.0) -> np.ndarray:  # noqa: E741
    """The RBF itself, as a plain NumPy function (a valid ``--reference``)."""
    return np.exp(-_sq_dist(X, Y) / (2 * l**2))


def dk_dx0(X: np.ndarray, Y: np.ndarray, l: float = 1.0) -> np.ndarray:  # noqa: E741
    """d k / d x0 (correct)."""
    return -(X[:, None, 0] - Y[None, :, 0]) / l**2 * kernel(X, Y, l)


def dk_dlog_l(X: np.ndarray, Y: np.ndarray, l: float = 1.0) -> np.ndarray:  # noqa: E741
    """d k / d log l = l dk/dl = k |x - y|^2 / l^2: scikit-learn's eval_gradient (correct)."""
    return kernel(X, Y, l) * _sq_dist(X, Y) / l**2


def dk_dlog_l_cubed(X: np.ndarray, Y: np.ndarray, l: float = 1.0) -> np.ndarray:  # noqa: E741
    """scikit-learn PR 11116's change: divides by l^3, which is dk/dl, not dk/dlog l (wrong)."""
    return kernel(X, Y, l) * _sq_dist(X, Y) / l**3
