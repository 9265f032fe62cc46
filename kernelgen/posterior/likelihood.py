"""The log marginal likelihood (LML) and its gradient, and the fitted state it leads to."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.linalg import lapack

from ..runtime import blas_threads_for
from ..symbolic.kernel import Kernel
from .cholesky import jittered_cholesky, mirror_lower_from_upper, zero_upper
from .covariance import TrainingCovariance
from .state import Deriv, TrainingState

__all__ = ["IN_PLACE_THRESHOLD", "TrainingProblem"]

#: Up to this n the LML gradient uses a second (n, n) buffer (faster); above it, one buffer.
IN_PLACE_THRESHOLD = 4096


class TrainingProblem:
    """Training inputs, targets and the compiled modules of one kernel expression.

    The modules depend only on the kernel's expression and the observation types, so one
    instance evaluates the LML at any hyperparameter values (``params`` vectors) cheaply. The
    jobs are separate: :class:`~kernelgen.posterior.covariance.TrainingCovariance` assembles K and
    contracts dK, :func:`~kernelgen.posterior.cholesky.jittered_cholesky` factors it, this class
    combines them into the LML, its gradient and the :class:`TrainingState`.

    Parameters
    ----------
    kernel : Kernel
        Latent-f kernel (its values are only the defaults for :meth:`params`).
    X : ndarray of shape (n, d)
        Validated, C-contiguous float64 inputs.
    y : ndarray of shape (n,) or (n, t)
        Targets in model units (already normalized if applicable); ``t`` columns share the
        kernel and the noise, and their log marginal likelihoods add up.
    observed, obs_index
        As in :class:`TrainingState` (validated multi-indices).
    """

    def __init__(self, kernel: Kernel, X: np.ndarray, y: np.ndarray, observed: Sequence[Deriv],
                 obs_index: np.ndarray) -> None:
        self.kernel = kernel
        self.X = np.ascontiguousarray(X, dtype=np.float64)
        self.y = np.ascontiguousarray(y, dtype=np.float64)
        self.observed = tuple(observed)
        self.obs_index = np.ascontiguousarray(obs_index, dtype=np.int64)
        self.training = TrainingCovariance(kernel, self.X, self.observed, self.obs_index)

    @property
    def n(self) -> int:
        return self.X.shape[0]

    def params(self, theta: np.ndarray | None = None) -> np.ndarray:
        """The full parameter vector with the free entries set to ``exp(theta)``."""
        p = self.kernel.parameter_vector
        if theta is not None:
            p[self.kernel.free_mask] = np.exp(theta)
        return p

    def covariance(self, params: np.ndarray) -> np.ndarray:
        """Noise-free training covariance, C-contiguous (n, n)."""
        return self.training.matrix(params)

    def cholesky(self, params: np.ndarray, noise: float, *, warn: bool = True) -> tuple[np.ndarray, float]:
        """Factor ``K + (noise + jitter) I`` (see :func:`~kernelgen.posterior.cholesky.jittered_cholesky`)."""
        return jittered_cholesky(self.covariance(params), noise, warn=warn)

    def log_marginal_likelihood(self, params: np.ndarray, noise: float | np.ndarray, *, eval_gradient: bool = False,
                                warn: bool = True) -> tuple[float, np.ndarray, float]:
        """LML at ``params`` and noise variance ``noise``.

        Returns
        -------
        lml : float
        grad_kernel : ndarray of shape (p,)
            d lml / d log(theta) for the *free* kernel hyperparameters (empty unless
            ``eval_gradient``).
        grad_noise : float
            d lml / d log(noise) (``nan`` unless ``eval_gradient``); for a per-observation
            ``noise`` array, the derivative with respect to the log of a common scale of it.

        Notes
        -----
        ``d lml / d log(theta_g) = 1/2 sum_ij W_ij dK_ij/dlog(theta_g)`` with
        ``W = alpha alpha^T - K^-1``, contracted by the generated ``contract_selected`` that
        evaluates each unordered pair once and stores nothing of size (n, n, p). ``K^-1`` is
        formed in place over the Cholesky factor (``dpotri``).
        """
        lml, grad_kernel, weights = self.log_marginal_likelihood_terms(params, noise, eval_gradient=eval_gradient,
                                                                      warn=warn)
        if not eval_gradient:
            return lml, grad_kernel, float("nan")
        return lml, grad_kernel, float(np.sum(np.asarray(noise) * weights))

    def log_marginal_likelihood_terms(self, params: np.ndarray, noise: float | np.ndarray, *,
                                      eval_gradient: bool = False, warn: bool = True
                                      ) -> tuple[float, np.ndarray, np.ndarray]:
        """LML, its kernel gradient and ``d lml / d noise_i`` per observation.

        Parameters
        ----------
        params : ndarray
            Full kernel parameter vector.
        noise : float or ndarray of shape (n,)
            Variance added to the diagonal: one for all observations, or one per observation
            (e.g. a fitted variance per derivative type plus a fixed ``alpha``).

        Returns
        -------
        lml : float
            Summed over the target columns when ``y`` has several.
        grad_kernel : ndarray of shape (p,)
            As in :meth:`log_marginal_likelihood` (empty unless ``eval_gradient``).
        noise_weights : ndarray of shape (n,)
            ``d lml / d noise_i = 1/2 (alpha alpha^T - K^-1)_ii`` (empty unless
            ``eval_gradient``): any noise parametrization's gradient follows by the chain rule,
            e.g. ``sigma_g * sum_{i in g} noise_weights[i]`` for ``d lml / d log(sigma_g)``.
        """
        with blas_threads_for(self.n):
            A, _ = self.cholesky(params, noise, warn=warn)
            alpha = _solve(A, self.y)
            targets = 1 if self.y.ndim == 1 else self.y.shape[1]
            logdet = 2.0 * float(np.sum(np.log(A.diagonal())))
            lml = (-0.5 * float(np.sum(self.y * alpha)) - 0.5 * targets * logdet
                   - 0.5 * targets * self.n * math.log(2.0 * math.pi))
            if not eval_gradient:
                return lml, np.empty(0), np.empty(0)
            W = _half_weights(A, alpha)
            return lml, self.training.contract(params, W), W.diagonal().copy()

    def state(self, kernel: Kernel, noise: float | np.ndarray, y_mean: float | np.ndarray = 0.0,
              y_std: float | np.ndarray = 1.0, warn: bool = True) -> TrainingState:
        """Factorize at ``kernel``'s values and return the :class:`TrainingState`."""
        A, _ = self.cholesky(kernel.parameter_vector, noise, warn=warn)
        alpha = _solve(A, self.y)
        zero_upper(A)
        return TrainingState(kernel, self.X, self.observed, self.obs_index, alpha, A, y_mean, y_std)


def _solve(A: np.ndarray, y: np.ndarray) -> np.ndarray:
    alpha, info = lapack.dpotrs(A, y, lower=1)
    if info != 0:  # pragma: no cover
        raise RuntimeError(f"dpotrs failed with info={info}")
    return alpha


def _half_weights(A: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``W = 1/2 (sum_t alpha_t alpha_t^T - t K^-1)`` over the factor ``A`` (which ``K^-1`` overwrites).

    ``alpha`` is (n,) or (n, t): several targets share K, so their LML gradients add up. The
    contraction reads only the lower triangle (C order), where ``inv`` (F order) holds K^-1.
    """
    n = A.shape[0]
    columns = alpha.reshape(n, -1)
    targets = columns.shape[1]
    inv, info = lapack.dpotri(A, lower=1, overwrite_c=1)
    if info != 0:  # pragma: no cover
        raise np.linalg.LinAlgError(f"dpotri failed with info={info}")
    if n <= IN_PLACE_THRESHOLD:
        W = 0.5 * (columns @ columns.T)
        W -= (0.5 * targets) * inv
        return W
    # One (n, n) buffer only: mirror K^-1 into the C-order lower triangle, then scale.
    W = inv.T
    mirror_lower_from_upper(W)
    W *= -0.5 * targets
    for r0 in range(0, n, 1024):
        W[r0:r0 + 1024] += 0.5 * (columns[r0:r0 + 1024] @ columns.T)
    return W
