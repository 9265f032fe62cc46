"""Gaussian-process posterior of f and its derivatives, and the log marginal likelihood.

Independent of any estimator class: :class:`TrainingProblem` evaluates the log marginal
likelihood (LML) and its gradient for many hyperparameter values with one set of compiled
modules, :func:`factorize` builds a :class:`TrainingState`, and :func:`predict_derivatives`
returns means and covariances of any set of derivatives of the latent f.

Conventions
-----------
* A derivative is a SymPy-style tuple of input indices: ``()`` is f, ``(0,)`` is df/dx0,
  ``(0, 1)`` is d2f/dx0dx1. ``cov(d^a f(x), d^b f(x'))`` is the kernel request ``dx=a, dy=b``.
* Observations may measure f or any derivative of it (``observed`` lists the distinct types,
  ``obs_index`` picks one per training row); every observation gets the same noise variance.
* Memory: the training covariance is one (n, n) float64 buffer. It is factorized in place, and
  the LML gradient reuses it for ``K^-1``, so an LML + gradient evaluation holds ~``8 n^2`` bytes
  plus O(n) for ``n > IN_PLACE_THRESHOLD`` (twice that below). There is no (n, n, p) tensor: the
  gradient is one fused pass over generated dK/dlog(theta).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.linalg import lapack, solve_triangular

from .runtime import CompiledBatch, as_points, blas_threads_for, compiled
from .symbolic.kernel import Kernel
from .symbolic.prepared import normalize_request

__all__ = [
    "DEFAULT_MEMORY_BUDGET",
    "JitterWarning",
    "TrainingProblem",
    "TrainingState",
    "normalize_derivs",
    "predict_derivatives",
]

Deriv = tuple[int, ...]
CovMode = Literal["none", "diag", "point", "full"]

#: Bytes of temporary (chunk, n, outputs) arrays allowed per chunk of test points in
#: :func:`predict_derivatives` (the output arrays and the (n, n) factor come on top).
DEFAULT_MEMORY_BUDGET = 128 * 2**20

#: Up to this n the LML gradient uses a second (n, n) buffer (faster); above it, one buffer.
IN_PLACE_THRESHOLD = 4096

#: Relative jitter levels (times the mean of the diagonal) tried after a failed Cholesky.
JITTER_LEVELS = (1e-12, 1e-10, 1e-8, 1e-6)


class JitterWarning(RuntimeWarning):
    """The training covariance needed diagonal jitter to be factorized."""


@dataclass(frozen=True)
class TrainingState:
    """Everything prediction needs from a fitted GP.

    Attributes
    ----------
    kernel : Kernel
        Covariance of the latent f, at the fitted hyperparameter values.
    X : ndarray of shape (n, d)
        Training inputs.
    observed : tuple of tuple of int
        Distinct derivative types of the observations, e.g. ``((),)`` for plain values.
    obs_index : ndarray of shape (n,), int64
        Index into ``observed`` for each training row.
    alpha : ndarray of shape (n,) or (n, t)
        ``(K + noise I)^-1 (y - offset)`` in the model's (normalized) units; one column per
        target for multi-target fits (means then gain a trailing target axis).
    L : ndarray of shape (n, n)
        Lower Cholesky factor of ``K + (noise + jitter) I`` (upper triangle zero).
    y_mean, y_std : float or ndarray of shape (t,)
        ``normalize_y`` statistics, ``(0.0, 1.0)`` when not normalized.
    """

    kernel: Kernel
    X: np.ndarray
    observed: tuple[tuple[int, ...], ...]
    obs_index: np.ndarray
    alpha: np.ndarray
    L: np.ndarray
    y_mean: float | np.ndarray = 0.0
    y_std: float | np.ndarray = 1.0


def normalize_derivs(derivs: Sequence[Sequence[int]], dim: int, name: str = "deriv") -> tuple[Deriv, ...]:
    """Validate a sequence of derivative tuples (sorted; partials commute)."""
    out = []
    for d in derivs:
        try:
            out.append(normalize_request(d, (), dim)[0])
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
    return tuple(out)


def _table(batch: CompiledBatch, rows: Sequence[Deriv], cols: Sequence[Deriv]) -> np.ndarray:
    table = np.empty((len(rows), len(cols)), dtype=np.int64)
    for i, a in enumerate(rows):
        for j, b in enumerate(cols):
            table[i, j] = batch.index(a, b)
    return table


def _mirror_lower_from_upper(C: np.ndarray, block: int = 512) -> None:
    """In place: ``C[i, j] = C[j, i]`` for ``i > j`` (any memory order), by row blocks."""
    n = C.shape[0]
    for r0 in range(0, n, block):
        r1 = min(n, r0 + block)
        if r0:
            C[r0:r1, :r0] = C[:r0, r0:r1].T
        D = C[r0:r1, r0:r1]
        il = np.tril_indices(r1 - r0, -1)
        D[il] = D.T[il]


def _zero_upper(C: np.ndarray, block: int = 512) -> None:
    n = C.shape[0]
    for r0 in range(0, n, block):
        r1 = min(n, r0 + block)
        C[r0:r1, r1:] = 0.0
        D = C[r0:r1, r0:r1]
        D[np.triu_indices(r1 - r0, 1)] = 0.0


class TrainingProblem:
    """Training inputs, targets and the compiled modules of one kernel expression.

    The modules depend only on the kernel's expression and the observation types, so one
    instance evaluates the LML at any hyperparameter values (``params`` vectors) cheaply.

    Parameters
    ----------
    kernel : Kernel
        Latent-f kernel (its values are only the defaults for :meth:`params`).
    X : ndarray of shape (n, d)
        Validated, C-contiguous float64 inputs.
    y : ndarray of shape (n,)
        Targets in model units (already normalized if applicable).
    observed, obs_index
        As in :class:`TrainingState`.
    """

    def __init__(self, kernel: Kernel, X: np.ndarray, y: np.ndarray, observed: Sequence[Deriv],
                 obs_index: np.ndarray) -> None:
        self.kernel = kernel
        self.X = np.ascontiguousarray(X, dtype=np.float64)
        self.y = np.ascontiguousarray(y, dtype=np.float64)
        self.observed = tuple(observed)
        self.obs_index = np.ascontiguousarray(obs_index, dtype=np.int64)
        self.plain = self.observed == ((),)
        pairs = [(a, b) for a in self.observed for b in self.observed]
        self.values = compiled(kernel, pairs)
        self.value_table = _table(self.values, self.observed, self.observed)
        self._gradient: CompiledBatch | None = None
        self._pairs = pairs

    @property
    def n(self) -> int:
        return self.X.shape[0]

    def params(self, theta: np.ndarray | None = None) -> np.ndarray:
        """The full parameter vector with the free entries set to ``exp(theta)``."""
        p = self.kernel.parameter_vector
        if theta is not None:
            p[self.kernel.free_mask] = np.exp(theta)
        return p

    # ------------------------------------------------------------------ covariance and factor
    def covariance(self, params: np.ndarray) -> np.ndarray:
        """Noise-free training covariance, C-contiguous (n, n)."""
        if self.plain:
            return self.values.fill(self.X, None, params).reshape(self.n, self.n)
        return self.values.fill_selected(self.X, self.X, params, self.obs_index, self.obs_index,
                                         self.value_table)

    def cholesky(self, params: np.ndarray, noise: float, *, warn: bool = True) -> tuple[np.ndarray, float]:
        """Factor ``K + (noise + jitter) I`` in place; returns (F-ordered factor, jitter).

        Only the lower triangle of the returned factor is meaningful. On failure jitter of
        ``JITTER_LEVELS`` times the mean diagonal is tried (with a :class:`JitterWarning` when
        ``warn``); if all fail, ``numpy.linalg.LinAlgError`` is raised.
        """
        C = self.covariance(params)
        diag = C.diagonal().copy()
        if not np.all(np.isfinite(diag)):
            raise np.linalg.LinAlgError("the training covariance has non-finite entries")
        A = C.T  # F-contiguous view of the symmetric buffer: LAPACK works in place
        scale = float(np.mean(np.abs(diag))) or 1.0
        for attempt, level in enumerate((0.0, *JITTER_LEVELS)):
            jitter = level * scale
            if attempt:
                _mirror_lower_from_upper(A)  # restore the lower triangle potrf overwrote
            A[np.diag_indices(self.n)] = diag + noise + jitter
            c, info = lapack.dpotrf(A, lower=1, overwrite_a=1, clean=0)
            if info == 0:
                if not np.shares_memory(c, A):  # pragma: no cover - LAPACK copied
                    A = c
                if attempt and warn:
                    warnings.warn(
                        f"K + noise was not positive definite; added jitter {jitter:.3g} "
                        f"({level:g} x mean diagonal) to factorize it", JitterWarning, stacklevel=3)
                return A, jitter
            if info < 0:  # pragma: no cover - argument error
                raise RuntimeError(f"dpotrf argument error {info}")
        raise np.linalg.LinAlgError(
            f"K + noise is not positive definite even with jitter {JITTER_LEVELS[-1]:g} x mean diagonal "
            f"({noise=:.3g}); increase the noise (duplicate inputs need noise > 0) or check the kernel")

    # ------------------------------------------------------------------ likelihood
    def _gradient_batch(self) -> CompiledBatch:
        if self._gradient is None:
            self._gradient = compiled(self.kernel, self._pairs, gradient=True)
        return self._gradient

    def log_marginal_likelihood(self, params: np.ndarray, noise: float, *, eval_gradient: bool = False,
                                warn: bool = True) -> tuple[float, np.ndarray, float]:
        """LML at ``params`` and noise variance ``noise``.

        Returns
        -------
        lml : float
        grad_kernel : ndarray of shape (p,)
            d lml / d log(theta) for the *free* kernel hyperparameters (empty unless
            ``eval_gradient``).
        grad_noise : float
            d lml / d log(noise) (``nan`` unless ``eval_gradient``).

        Notes
        -----
        ``d lml / d log(theta_g) = 1/2 sum_ij W_ij dK_ij/dlog(theta_g)`` with
        ``W = alpha alpha^T - K^-1``, contracted by the generated ``contract_selected`` that
        evaluates each unordered pair once and stores nothing of size (n, n, p). ``K^-1`` is
        formed in place over the Cholesky factor (``dpotri``).
        """
        with blas_threads_for(self.n):
            return self._log_marginal_likelihood(params, noise, eval_gradient, warn)

    def _log_marginal_likelihood(self, params: np.ndarray, noise: float, eval_gradient: bool,
                                 warn: bool) -> tuple[float, np.ndarray, float]:
        A, _ = self.cholesky(params, noise, warn=warn)
        n = self.n
        alpha, info = lapack.dpotrs(A, self.y, lower=1)
        if info != 0:  # pragma: no cover
            raise RuntimeError(f"dpotrs failed with info={info}")
        logdet = 2.0 * float(np.sum(np.log(A.diagonal())))
        lml = -0.5 * float(self.y @ alpha) - 0.5 * logdet - 0.5 * n * math.log(2.0 * math.pi)
        if not eval_gradient:
            return lml, np.empty(0), float("nan")
        inv, info = lapack.dpotri(A, lower=1, overwrite_c=1)
        if info != 0:  # pragma: no cover
            raise np.linalg.LinAlgError(f"dpotri failed with info={info}")
        # W = 1/2 (alpha alpha^T - K^-1). contract_selected reads only the lower triangle (C order),
        # where ``inv`` (F order) holds K^-1.
        if n <= IN_PLACE_THRESHOLD:
            W = 0.5 * np.outer(alpha, alpha)
            W -= 0.5 * inv
        else:  # one (n, n) buffer only: mirror K^-1 into the C-order lower triangle, then scale
            W = inv.T
            _mirror_lower_from_upper(W)
            W *= -0.5
            for r0 in range(0, n, 1024):
                W[r0:r0 + 1024] += 0.5 * np.outer(alpha[r0:r0 + 1024], alpha)
        grad_noise = noise * float(np.trace(W))
        grad_kernel = self._contract(params, W)
        return lml, grad_kernel, grad_noise

    def _contract(self, params: np.ndarray, W: np.ndarray) -> np.ndarray:
        batch = self._gradient_batch()
        names = [nm for nm, free in zip(self.kernel.all_hyperparameter_names, self.kernel.free_mask) if free]
        if not names:
            return np.empty(0)
        k = len(self.observed)
        table = np.empty((k, k, len(names)), dtype=np.int64)
        for i, a in enumerate(self.observed):
            for j, b in enumerate(self.observed):
                for g, nm in enumerate(names):
                    table[i, j, g] = batch.index(a, b, nm)
        if self.kernel.prepared.symmetric:
            return batch.contract_selected(self.X, params, self.obs_index, table, W)
        # Fallback for kernels whose expression is not syntactically symmetric: one (n, n)
        # derivative matrix at a time.
        out = np.empty(len(names))
        for g in range(len(names)):
            G = batch.fill_selected(self.X, self.X, params, self.obs_index, self.obs_index,
                                    np.ascontiguousarray(table[:, :, g]))
            out[g] = float(np.sum(W * G))
        return out

    # ------------------------------------------------------------------ fitted state
    def state(self, kernel: Kernel, noise: float, y_mean: float = 0.0, y_std: float = 1.0,
              warn: bool = True) -> TrainingState:
        """Factorize at ``kernel``'s values and return the :class:`TrainingState`."""
        A, _ = self.cholesky(kernel.parameter_vector, noise, warn=warn)
        alpha, info = lapack.dpotrs(A, self.y, lower=1)
        if info != 0:  # pragma: no cover
            raise RuntimeError(f"dpotrs failed with info={info}")
        _zero_upper(A)
        return TrainingState(kernel, self.X, self.observed, self.obs_index, alpha, A, y_mean, y_std)


# ---------------------------------------------------------------------- prediction
def predict_derivatives(state: TrainingState, X: object, derivs: Sequence[Sequence[int]], *,
                        cov: CovMode = "none", chunk_size: int | None = None,
                        memory_budget: int = DEFAULT_MEMORY_BUDGET) -> tuple[np.ndarray, np.ndarray | None]:
    """Posterior mean and covariance of several derivatives of the latent f.

    Parameters
    ----------
    state : TrainingState
        The fitted training state.
    X : array-like of shape (m, d)
        Test inputs.
    derivs : sequence of tuple of int
        The ``q`` derivatives wanted, e.g. ``[(), (0,), (1,)]`` for f and its gradient in 2-D.
    cov : {"none", "diag", "point", "full"}
        ``"diag"``: variances, shape (m, q). ``"point"``: joint covariance of the q outputs at
        each point, shape (m, q, q). ``"full"``: joint covariance of all m * q outputs, shape
        (m * q, m * q), ordered point-major: row ``i * q + a`` is derivative ``derivs[a]`` at
        ``X[i]``.
    chunk_size : int, optional
        Test points per chunk for the covariance. By default chosen so the temporaries of a chunk
        fit in ``memory_budget`` bytes.
    memory_budget : int
        Bytes for the per-chunk temporaries (the cross-covariance block, solved in place, and
        the products formed from it): at most ``chunk * n * 2 q * 8`` bytes.

    Returns
    -------
    mean : ndarray of shape (m, q), or (m, q, t) when ``state.alpha`` has t columns
    cov : ndarray or None
        As described for ``cov``, with a trailing target axis (t,) when ``state.y_std`` is an
        array; ``None`` for ``"none"``.

    Notes
    -----
    Means are matrix-free: ``sum_j k_{a, b_j}(x, x_j) alpha_j`` is accumulated by the generated
    ``matvec_multi`` without an (m, n) matrix, all q outputs from one evaluation per pair.
    Variances need ``v = L^-1 k_*`` per output; they are computed per chunk, so the peak extra
    memory is ``memory_budget`` plus the outputs (``"diag"``: ``8 m q`` bytes, ``"point"``:
    ``8 m q^2``) and the (n, n) factor already held.
    ``"full"`` keeps ``L^-1 K_*`` for all outputs (``8 n m q`` bytes) and the result
    (``8 (m q)^2`` bytes).

    With ``normalize_y``, ``y_mean`` shifts only order-0 outputs; every output is scaled by
    ``y_std`` and covariances by ``y_std ** 2``.
    """
    kernel = state.kernel
    dim = kernel.dim
    derivs = normalize_derivs(derivs, dim, "derivs")
    if not derivs:
        raise ValueError("derivs must name at least one derivative")
    if cov not in ("none", "diag", "point", "full"):
        raise ValueError(f"cov must be 'none', 'diag', 'point' or 'full', got {cov!r}")
    Xt = as_points(X, dim, "X")
    m, q, n = Xt.shape[0], len(derivs), state.X.shape[0]
    params = kernel.parameter_vector
    order0 = np.array([len(a) == 0 for a in derivs])

    alpha = state.alpha if state.alpha.ndim == 2 else state.alpha[:, None]  # (n, t)
    y_mean = np.asarray(state.y_mean, dtype=np.float64)
    y_std = np.asarray(state.y_std, dtype=np.float64)

    def finish(mean: np.ndarray, covariance: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
        """Undo normalize_y: mean (m, q, t) is scaled (order 0 also shifted), covariances scaled."""
        mean *= y_std
        mean[:, order0] += y_mean
        if state.alpha.ndim == 1:
            mean = mean[:, :, 0]
        if covariance is not None:
            # The covariance does not depend on the targets except through their scale.
            covariance = covariance * y_std**2 if y_std.ndim == 0 else covariance[..., None] * y_std**2
        return mean, covariance

    # One module serves means and covariances: every (requested, observed) derivative pair.
    cross = compiled(kernel, [(a, b) for a in derivs for b in state.observed])
    ctab = _table(cross, derivs, state.observed)  # (q, n_observed_types)
    if cov == "none":
        if m == 0:
            return finish(np.empty((0, q, alpha.shape[1])), None)
        # Fused: each pair is evaluated once for all q outputs, no (m, n) matrix is formed.
        mean = cross.matvec_multi(Xt, state.X, params, state.obs_index, ctab, alpha)
        return finish(mean, None)

    if cov == "diag":
        prior_req = [(a, a) for a in derivs]
    else:
        prior_req = [(a, b) for a in derivs for b in derivs]
    prior = compiled(kernel, prior_req)
    if chunk_size is None:
        chunk_size = max(1, int(memory_budget // max(1, n * 2 * q * 8)))

    def solved(Xc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mean (c, q, t), V (c, q, n)) with V[i, a] = L^-1 k_{a}(X_c[i], X_train)."""
        c = Xc.shape[0]
        Kc = cross.fill_multi(Xc, state.X, params, state.obs_index, ctab).reshape(c * q, n)
        mean = (Kc @ alpha).reshape(c, q, alpha.shape[1])
        # Kc.T is Fortran-ordered: the triangular solve works in place, no copy.
        V = solve_triangular(state.L, Kc.T, lower=True, check_finite=False, overwrite_b=True)
        return mean, V.T.reshape(c, q, n)

    mean = np.empty((m, q, alpha.shape[1]))
    if cov == "full":
        Vall = np.empty((m, q, n))
        for s in range(0, m, chunk_size):
            mean[s:s + chunk_size], Vall[s:s + chunk_size] = solved(Xt[s:s + chunk_size])
        ptab = _table(prior, derivs, derivs)
        Pf = prior.fill(Xt, Xt, params)  # (m, m, n_prior)
        P = Pf[:, :, ptab]  # (m, m, q, q)
        del Pf
        full = np.ascontiguousarray(P.transpose(0, 2, 1, 3)).reshape(m * q, m * q)
        del P
        Vf = Vall.reshape(m * q, n)
        full -= Vf @ Vf.T
        return finish(mean, full)

    P = prior.diag(Xt, params)  # (m, n_prior)
    if cov == "diag":
        out = np.ascontiguousarray(P[:, [prior.index(a, a) for a in derivs]])
    else:
        out = np.ascontiguousarray(P[:, _table(prior, derivs, derivs)])  # (m, q, q)
    for s in range(0, m, chunk_size):
        mc, V = solved(Xt[s:s + chunk_size])
        mean[s:s + chunk_size] = mc
        if cov == "diag":
            out[s:s + chunk_size] -= np.einsum("iaj,iaj->ia", V, V)
        else:
            out[s:s + chunk_size] -= V @ V.transpose(0, 2, 1)
    return finish(mean, out)
