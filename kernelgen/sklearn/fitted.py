"""Derivative predictions from an already fitted ``GaussianProcessRegressor`` (no refit)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.exceptions import NotFittedError

from ..posterior import TrainingState, posterior_moments
from ..runtime import as_points
from ..symbolic.errors import for_argument
from ..symbolic.request import multi_index
from .conversion import UnsupportedKernelError, to_kernelgen

__all__ = ["predict_derivative", "predict_gradient", "training_state"]


def training_state(gpr: Any) -> TrainingState:
    """The fitted state of a ``GaussianProcessRegressor`` as a :class:`~kernelgen.posterior.TrainingState`.

    ``L_`` keeps the white noise (``WhiteKernel`` and ``alpha``); the latent kernel does not.
    """
    for attr in ("X_train_", "alpha_", "L_", "kernel_"):
        if not hasattr(gpr, attr):
            raise NotFittedError(f"{type(gpr).__name__} is not fitted (missing {attr}); call fit first")
    X_train = np.asarray(gpr.X_train_, dtype=np.float64)
    if X_train.ndim != 2:
        raise ValueError("predict_derivative needs vector inputs (X_train_ of shape (n, d))")
    conv = to_kernelgen(gpr.kernel_, X_train.shape[1])
    if conv.latent is None:
        raise UnsupportedKernelError("the fitted kernel is pure WhiteKernel noise: the latent f has no covariance")
    alpha = np.asarray(gpr.alpha_, dtype=np.float64)
    y_mean = np.asarray(getattr(gpr, "_y_train_mean", 0.0), dtype=np.float64)
    y_std = np.asarray(getattr(gpr, "_y_train_std", 1.0), dtype=np.float64)
    if alpha.ndim == 2 and alpha.shape[1] == 1:  # one target given as a column: predict squeezes it
        alpha = alpha[:, 0]
    if alpha.ndim == 1:  # one target: scikit-learn may still store its statistics with shape (1,)
        y_mean, y_std = y_mean.reshape(-1)[0], y_std.reshape(-1)[0]
    return TrainingState(
        kernel=conv.latent, X=np.ascontiguousarray(X_train), observed=((),),
        obs_index=np.zeros(X_train.shape[0], dtype=np.int64), alpha=np.ascontiguousarray(alpha),
        L=np.asarray(gpr.L_, dtype=np.float64), y_mean=y_mean, y_std=y_std,
    )


def predict_derivative(gpr: Any, X: np.ndarray, deriv: Sequence[int] = (0,), return_std: bool = False,
                       return_cov: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    r"""Posterior mean (and std or covariance) of a derivative of the latent function.

    Uses the fitted state of a ``GaussianProcessRegressor`` (``X_train_``, ``alpha_``, ``L_``,
    ``kernel_`` and the ``normalize_y`` statistics) without refitting:

    .. math:: E[\partial f(x_*)] = s\,\partial_{x_*} k(x_*, X)\,\alpha (+ m \text{ for order 0}),\quad
              \mathrm{Cov} = s^2 [\partial\partial' k(x_*, x_*') - v^\top v'],\ v = L^{-1}\partial k(X, x_*)

    with ``m, s`` the ``normalize_y`` mean and std (0 and 1 otherwise).

    Parameters
    ----------
    gpr : sklearn.gaussian_process.GaussianProcessRegressor
        Fitted, with a kernel :func:`from_sklearn` can convert.
    X : array-like of shape (n_samples, n_features)
    deriv : tuple of int
        Input indices to differentiate, SymPy style: ``(0,)`` is d/dx0, ``(0, 0)`` is d²/dx0²,
        ``(0, 1)`` is d²/dx0 dx1, ``()`` is the function itself.
    return_std, return_cov : bool
        As in ``GaussianProcessRegressor.predict`` (at most one of them).

    Returns
    -------
    mean : ndarray of shape (n_samples,) or (n_samples, n_targets)
    std : ndarray of shape (n_samples,) or (n_samples, n_targets)
        Only with ``return_std``.
    cov : ndarray of shape (n_samples, n_samples) or (n_samples, n_samples, n_targets)
        Only with ``return_cov``.

    Notes
    -----
    ``WhiteKernel`` terms and the regressor's ``alpha`` are observation noise: they are in ``L_``
    but not in the latent covariance, so for ``deriv=()`` the std is that of ``f``, smaller than
    ``gpr.predict(return_std=True)`` by the white noise.
    """
    if return_std and return_cov:
        raise RuntimeError("At most one of return_std or return_cov can be requested.")
    state = training_state(gpr)
    dim = state.kernel.dim
    dx = multi_index(deriv, dim, "deriv")
    mode = "full" if return_cov else "diag" if return_std else "none"
    with for_argument("deriv", dx):
        mean, cov = posterior_moments(state, as_points(X, dim, "X"), (dx,), mode)
    mean = mean[:, 0]
    if cov is None:
        return mean
    if return_cov:
        return mean, cov
    var = cov[:, 0]
    if np.any(var < 0):
        warnings.warn("Predicted variances smaller than 0. Setting those variances to 0.", stacklevel=2)
        var = np.maximum(var, 0.0)
    return mean, np.sqrt(var)


def predict_gradient(gpr: Any, X: np.ndarray, return_cov: bool = False
                     ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Posterior mean (and per-point covariance) of the gradient of the latent function.

    Parameters
    ----------
    gpr : sklearn.gaussian_process.GaussianProcessRegressor
        Fitted, with a kernel :func:`from_sklearn` can convert.
    X : array-like of shape (n_samples, n_features)
    return_cov : bool
        Also return the covariance between the gradient components at each point.

    Returns
    -------
    mean : ndarray of shape (n_samples, n_features) or (n_samples, n_features, n_targets)
    cov : ndarray of shape (n_samples, n_features, n_features) (``..., n_targets`` for several)
        Only with ``return_cov``; ``cov[i]`` is the covariance of the gradient at ``X[i]``.
    """
    state = training_state(gpr)
    d = state.kernel.dim
    gradient = tuple((i,) for i in range(d))
    with for_argument("predict_gradient: the gradient", list(gradient)):
        mean, cov = posterior_moments(state, as_points(X, d, "X"), gradient, "point" if return_cov else "none")
    return mean if cov is None else (mean, cov)
