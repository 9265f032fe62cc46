"""Posterior mean and covariance of any set of derivatives of the latent f, one function per mode.

:func:`predict_derivatives` is the public edge (it validates); :func:`posterior_moments` takes
validated points and multi-indices and dispatches to :func:`predict_mean`, :func:`predict_diag`,
:func:`predict_point` or :func:`predict_full`, which share the chunked solve of :class:`Prediction`.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator, Sequence
from typing import Literal

import numpy as np
from scipy.linalg import solve_triangular

from ..runtime import CompiledBatch, as_points, compiled
from ..symbolic.request import Output, Request, multi_index
from .state import Deriv, TrainingState

__all__ = [
    "DEFAULT_MEMORY_BUDGET", "CovMode", "Prediction", "normalize_derivs", "posterior_moments",
    "predict_derivatives", "predict_diag", "predict_full", "predict_mean", "predict_point",
]

CovMode = Literal["none", "diag", "point", "full"]
COV_MODES = ("none", "diag", "point", "full")

#: Bytes of temporary (chunk, n, outputs) arrays allowed per chunk of test points in
#: :func:`predict_derivatives` (the output arrays and the (n, n) factor come on top).
DEFAULT_MEMORY_BUDGET = 128 * 2**20


def normalize_derivs(derivs: Sequence[object], dim: int, name: str = "deriv") -> tuple[Deriv, ...]:
    """Validate a sequence of derivative tuples (sorted; partials commute); errors name ``name``."""
    return tuple(multi_index(d, dim, name) for d in derivs)


class Prediction:
    """The parts every covariance mode shares: the cross-covariance module and the chunked solve.

    Parameters
    ----------
    state : TrainingState
    Xt : ndarray of shape (m, d)
        Validated test points.
    derivs : tuple of tuple of int
        Validated multi-indices, ``q`` of them.
    """

    def __init__(self, state: TrainingState, Xt: np.ndarray, derivs: tuple[Deriv, ...]) -> None:
        self.state = state
        self.Xt = Xt
        self.derivs = derivs
        self.params = state.kernel.parameter_vector
        self.alpha = state.alpha if state.alpha.ndim == 2 else state.alpha[:, None]  # (n, t)
        # One module serves means and covariances: every (requested, observed) derivative pair.
        self.cross = compiled(state.kernel, [Request(a, b) for a in derivs for b in state.observed])
        self.ctab = self.cross.table(derivs, state.observed)  # (q, n_observed_types)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(m, q, n): test points, outputs, training points."""
        return self.Xt.shape[0], len(self.derivs), self.state.X.shape[0]

    def prior(self, requests: list[Request]) -> CompiledBatch:
        return compiled(self.state.kernel, requests)

    def solved(self, Xc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mean (c, q, t), V (c, q, n)) with V[i, a] = L^-1 k_{a}(X_c[i], X_train)."""
        c, (_, q, n) = Xc.shape[0], self.shape
        Kc = self.cross.fill_multi(Xc, self.state.X, self.params, self.state.obs_index, self.ctab).reshape(c * q, n)
        mean = (Kc @ self.alpha).reshape(c, q, self.alpha.shape[1])
        # Kc.T is Fortran-ordered: the triangular solve works in place, no copy.
        V = solve_triangular(self.state.L, Kc.T, lower=True, check_finite=False, overwrite_b=True)
        return mean, V.T.reshape(c, q, n)

    def chunks(self, chunk_size: int) -> Iterator[tuple[slice, np.ndarray, np.ndarray]]:
        """``(rows, mean, V)`` per chunk of at most ``chunk_size`` test points."""
        m = self.Xt.shape[0]
        for s in range(0, m, chunk_size):
            rows = slice(s, min(m, s + chunk_size))
            mean, V = self.solved(self.Xt[rows])
            yield rows, mean, V

    def finish(self, mean: np.ndarray, covariance: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
        """Undo normalize_y: mean (m, q, t) is scaled (order 0 also shifted), covariances scaled."""
        y_mean = np.asarray(self.state.y_mean, dtype=np.float64)
        y_std = np.asarray(self.state.y_std, dtype=np.float64)
        order0 = np.array([len(a) == 0 for a in self.derivs])
        mean *= y_std
        mean[:, order0] += y_mean
        if self.state.alpha.ndim == 1:
            mean = mean[:, :, 0]
        if covariance is not None:
            # The covariance does not depend on the targets except through their scale.
            covariance = covariance * y_std**2 if y_std.ndim == 0 else covariance[..., None] * y_std**2
        return mean, covariance


def predict_mean(p: Prediction) -> np.ndarray:
    """Means (m, q, t), matrix-free: each pair is evaluated once for all q outputs."""
    m, q, _ = p.shape
    if m == 0:
        return np.empty((0, q, p.alpha.shape[1]))
    return p.cross.matvec_multi(p.Xt, p.state.X, p.params, p.state.obs_index, p.ctab, p.alpha)


def predict_diag(p: Prediction, chunk_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Means and variances (m, q)."""
    prior = p.prior([Request(a, a) for a in p.derivs])
    P = prior.diag(p.Xt, p.params)  # (m, n_prior)
    out = np.ascontiguousarray(P[:, [prior.position(Output(Request(a, a))) for a in p.derivs]])
    mean = np.empty((p.shape[0], p.shape[1], p.alpha.shape[1]))
    for rows, mc, V in p.chunks(chunk_size):
        mean[rows] = mc
        out[rows] -= np.einsum("iaj,iaj->ia", V, V)
    return mean, out


def predict_point(p: Prediction, chunk_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Means and the joint covariance of the q outputs at each point (m, q, q)."""
    prior = p.prior([Request(a, b) for a in p.derivs for b in p.derivs])
    P = prior.diag(p.Xt, p.params)  # (m, n_prior)
    out = np.ascontiguousarray(P[:, prior.table(p.derivs, p.derivs)])  # (m, q, q)
    mean = np.empty((p.shape[0], p.shape[1], p.alpha.shape[1]))
    for rows, mc, V in p.chunks(chunk_size):
        mean[rows] = mc
        out[rows] -= V @ V.transpose(0, 2, 1)
    return mean, out


def predict_full(p: Prediction, chunk_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Means and the joint covariance of all m * q outputs (m q, m q), point-major."""
    m, q, n = p.shape
    mean = np.empty((m, q, p.alpha.shape[1]))
    Vall = np.empty((m, q, n))
    for rows, mc, V in p.chunks(chunk_size):
        mean[rows], Vall[rows] = mc, V
    prior = p.prior([Request(a, b) for a in p.derivs for b in p.derivs])
    Pf = prior.fill(p.Xt, p.Xt, p.params)  # (m, m, n_prior)
    P = Pf[:, :, prior.table(p.derivs, p.derivs)]  # (m, m, q, q)
    del Pf
    full = np.ascontiguousarray(P.transpose(0, 2, 1, 3)).reshape(m * q, m * q)
    del P
    Vf = Vall.reshape(m * q, n)
    full -= Vf @ Vf.T
    return mean, full


def posterior_moments(state: TrainingState, Xt: np.ndarray, derivs: tuple[Deriv, ...], cov: CovMode = "none",
                      chunk_size: int | None = None, memory_budget: int = DEFAULT_MEMORY_BUDGET,
                      ) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`predict_derivatives` for validated inputs (``Xt`` from ``as_points``, ``derivs`` typed).

    ``chunk_size`` and ``memory_budget`` are checked here (``GaussianProcess`` passes them through):
    a chunk of -1 test points would leave variances at their prior and means uninitialised.
    """
    chunk_size = None if chunk_size is None else positive_int(chunk_size, "chunk_size")
    memory_budget = positive_int(memory_budget, "memory_budget")
    p = Prediction(state, Xt, derivs)
    if cov == "none":
        return p.finish(predict_mean(p), None)
    _, q, n = p.shape
    if chunk_size is None:
        chunk_size = max(1, int(memory_budget // max(1, n * 2 * q * 8)))
    mode = {"diag": predict_diag, "point": predict_point, "full": predict_full}[cov]
    return p.finish(*mode(p, chunk_size))


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
    dim = state.kernel.dim
    typed = normalize_derivs(derivs, dim, "derivs")
    if not typed:
        raise ValueError("derivs must name at least one derivative")
    check_cov(cov)
    return posterior_moments(state, as_points(X, dim, "X"), typed, cov, chunk_size, memory_budget)


def positive_int(value: object, name: str) -> int:
    """``value`` as an int if it is a positive integer (bool excluded), else ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_cov(cov: object) -> None:
    if cov not in COV_MODES:
        raise ValueError(f"cov must be 'none', 'diag', 'point' or 'full', got {cov!r}")
