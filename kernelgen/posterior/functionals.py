"""Posterior of linear functionals of f, and training covariances with integral observations.

A functional is a derivative at a point or an integral over a box (an antiderivative is an
integral over ``[anchor, x]`` along one input, holding the others at ``x``); see
:class:`~kernelgen.symbolic.request.Functional`. Rows of functionals are :class:`Rows`: per row
``[lower | upper]`` (``lower == upper == x`` for a point) and the index of its functional type.

Covariances are assembled by blocks: point x point from the derivative modules (exact limits at
coincident points), everything involving an integral from the integral modules (closed forms with
a cancellation check, else adaptive quadrature; see ``templates/integrals_core.py.jinja``). For a
symmetric kernel ``cov(P f, I f)`` is the transpose of ``cov(I f, P f)``, the orientation the
integral modules compute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.linalg import solve_triangular

from ..runtime import CompiledIntegrals, compiled, compiled_integrals, rows_of
from ..symbolic.kernel import Kernel
from ..symbolic.request import Functional, Request
from .covariance import TrainingCovariance
from .state import Deriv, TrainingState

__all__ = [
    "FunctionalCovariance", "Rows", "antiderivative_rows", "cross_covariance", "functional_moments", "joint_rows",
    "pair_covariance", "training_rows",
]


@dataclass(frozen=True)
class Rows:
    """Rows of functionals: ``spans`` (n, 2 d) ``[lower | upper]``, ``types`` and each row's ``index``."""

    spans: np.ndarray
    types: tuple[Functional, ...]
    index: np.ndarray

    @classmethod
    def points(cls, X: np.ndarray, derivs: Sequence[Deriv], index: np.ndarray) -> Rows:
        """Derivative ``derivs[index[i]]`` of f at ``X[i]``."""
        return cls(rows_of(X, X), tuple(Functional(tuple(d)) for d in derivs), np.asarray(index, dtype=np.int64))

    @classmethod
    def boxes(cls, lower: np.ndarray, upper: np.ndarray) -> Rows:
        """``int`` of f over each box ``[lower[i], upper[i]]`` (oriented: a reversed side flips the sign)."""
        return cls(rows_of(lower, upper), (Functional.box(lower.shape[1]),), np.zeros(lower.shape[0], np.int64))

    @classmethod
    def of(cls, spans: np.ndarray, types: Sequence[Functional], index: np.ndarray) -> Rows:
        return cls(np.ascontiguousarray(spans, dtype=np.float64), tuple(types), np.asarray(index, dtype=np.int64))

    @property
    def n(self) -> int:
        return self.spans.shape[0]

    @property
    def dim(self) -> int:
        return self.spans.shape[1] // 2

    @property
    def points_x(self) -> np.ndarray:
        """The evaluation points of point rows (the upper half of the spans)."""
        return np.ascontiguousarray(self.spans[:, self.dim:])

    def kinds(self) -> np.ndarray:
        """True per row whose functional is an integral."""
        flags = np.array([t.is_integral for t in self.types], dtype=bool)
        return flags[self.index] if self.n else np.zeros(0, dtype=bool)

    def subset(self, rows: np.ndarray) -> Rows:
        """The given rows, with only the types they use (renumbered)."""
        used, index = np.unique(self.index[rows], return_inverse=True)
        return Rows(np.ascontiguousarray(self.spans[rows]), tuple(self.types[k] for k in used),
                    index.astype(np.int64).reshape(-1))

    def concat(self, other: Rows) -> Rows:
        types = list(self.types)
        remap = []
        for t in other.types:
            if t not in types:
                types.append(t)
            remap.append(types.index(t))
        index = np.concatenate([self.index, np.asarray(remap, dtype=np.int64)[other.index]])
        return Rows(np.ascontiguousarray(np.vstack([self.spans, other.spans])), tuple(types), index.astype(np.int64))

    def shift_factor(self) -> np.ndarray:
        """Per row, the functional applied to the constant 1 (what a mean offset contributes).

        1 for f, 0 for a derivative, ``prod_j (u_j - l_j)**o_j / o_j!`` for integrals of orders ``o``.
        """
        out = np.empty(self.n)
        d = self.dim
        for k, t in enumerate(self.types):
            rows = self.index == k
            if not t.is_integral:
                out[rows] = 0.0 if t.deriv else 1.0
                continue
            factor = np.ones(int(np.sum(rows)))
            for j, o in enumerate(t.orders):
                if o:
                    factor *= (self.spans[rows, d + j] - self.spans[rows, j]) ** o / (1.0 if o == 1 else 2.0)
            out[rows] = factor
        return out


# ---------------------------------------------------------------------- covariance blocks
def _point_block(kernel: Kernel, A: Rows, B: Rows, params: np.ndarray) -> np.ndarray:
    """cov(P_a f(x_i), P_b f(x_j)) from a derivative module (both row sets are point rows)."""
    first = [t.deriv for t in A.types]
    second = [t.deriv for t in B.types]
    batch = compiled(kernel, [Request(a, b) for a in first for b in second])
    return batch.fill_selected(A.points_x, B.points_x, params, A.index, B.index, batch.table(first, second))


def _integral_batch(kernel: Kernel, A: Rows, B: Rows, gradient: bool = False) -> CompiledIntegrals:
    return compiled_integrals(kernel, [Request.between(a, b) for a in A.types for b in B.types], gradient)


def _integral_block(kernel: Kernel, A: Rows, B: Rows, params: np.ndarray) -> np.ndarray:
    """cov(I f, L f): ``A`` integral rows (first argument), ``B`` any rows."""
    batch = _integral_batch(kernel, A, B)
    return batch.selected(A.spans, B.spans, params, A.index, B.index, batch.table(A.types, B.types))


def cross_covariance(kernel: Kernel, A: Rows, B: Rows, params: np.ndarray) -> np.ndarray:
    """(n_A, n_B): ``cov(A_i f, B_j f)`` for any mix of point and integral functionals."""
    out = np.empty((A.n, B.n))
    ka, kb = A.kinds(), B.kinds()
    pa, ia = np.flatnonzero(~ka), np.flatnonzero(ka)
    pb, ib = np.flatnonzero(~kb), np.flatnonzero(kb)
    if pa.size and pb.size:
        out[np.ix_(pa, pb)] = _point_block(kernel, A.subset(pa), B.subset(pb), params)
    if ia.size and B.n:
        out[ia, :] = _integral_block(kernel, A.subset(ia), B, params)
    if pa.size and ib.size:
        out[np.ix_(pa, ib)] = _integral_block(kernel, B.subset(ib), A.subset(pa), params).T
    return out


def pair_covariance(kernel: Kernel, A: Rows, B: Rows, params: np.ndarray) -> np.ndarray:
    """(n,): ``cov(A_i f, B_i f)`` row by row; point pairs must share their point (the prior at x)."""
    out = np.empty(A.n)
    ka, kb = A.kinds(), B.kinds()
    both = np.flatnonzero(~ka & ~kb)
    if both.size:
        a, b = A.subset(both), B.subset(both)
        if not np.array_equal(a.points_x, b.points_x):
            raise ValueError("pair_covariance: point pairs must be at the same point")
        first, second = [t.deriv for t in a.types], [t.deriv for t in b.types]
        batch = compiled(kernel, [Request(p, q) for p in first for q in second])
        values = batch.diag(a.points_x, params)
        table = batch.table(first, second)
        out[both] = values[np.arange(both.size), table[a.index, b.index]]
    for rows, flip in ((np.flatnonzero(ka), False), (np.flatnonzero(~ka & kb), True)):
        if not rows.size:
            continue
        first, second = (B.subset(rows), A.subset(rows)) if flip else (A.subset(rows), B.subset(rows))
        batch = _integral_batch(kernel, first, second)
        out[rows] = batch.pairs(first.spans, second.spans, params, first.index, second.index,
                                batch.table(first.types, second.types))
    return out


# ---------------------------------------------------------------------- training
class FunctionalCovariance:
    """Covariance of training observations: points / derivatives (first ``n_p`` rows), then box integrals.

    The interface of :class:`~kernelgen.posterior.covariance.TrainingCovariance`: ``matrix(params)``
    and ``contract(params, W)``. The integral batch is compiled with gradients once and also
    serves predictions that need the same pairs.
    """

    def __init__(self, kernel: Kernel, X: np.ndarray, observed: Sequence[Deriv], obs_index: np.ndarray,
                 lower: np.ndarray, upper: np.ndarray) -> None:
        self.kernel = kernel
        self.points = Rows.points(X, observed, obs_index)
        self.boxes = Rows.boxes(lower, upper)
        self.n_points = X.shape[0]
        self.point_covariance = TrainingCovariance(kernel, X, observed, obs_index) if self.n_points else None
        requests = [Request.between(self.boxes.types[0], self.boxes.types[0])]
        if self.n_points:
            requests += [Request.between(self.boxes.types[0], t) for t in self.points.types]
        self.batch = compiled_integrals(kernel, requests, gradient=True)
        self.box_table = self.batch.table(self.boxes.types, self.boxes.types)
        self.cross_table = self.batch.table(self.boxes.types, self.points.types) if self.n_points else None

    @property
    def n(self) -> int:
        return self.n_points + self.boxes.n

    def matrix(self, params: np.ndarray) -> np.ndarray:
        """Noise-free training covariance, C-contiguous (n, n)."""
        n_p = self.n_points
        K = np.empty((self.n, self.n))
        if self.point_covariance is not None:
            K[:n_p, :n_p] = self.point_covariance.matrix(params)
            block = self.batch.selected(self.boxes.spans, self.points.spans, params, self.boxes.index,
                                        self.points.index, self.cross_table)
            K[n_p:, :n_p] = block
            K[:n_p, n_p:] = block.T
        K[n_p:, n_p:] = self.batch.symmetric(self.boxes.spans, params, self.boxes.index, self.box_table)
        return K

    def contract(self, params: np.ndarray, W: np.ndarray) -> np.ndarray:
        """``sum_ij W_ij dK_ij/dlog(theta_g)`` for every free hyperparameter (only W's lower triangle is read)."""
        free = self.kernel.free_mask
        if not free.any():
            return np.empty(0)
        n_p = self.n_points
        total = self.batch.contract(self.boxes.spans, None, params, self.boxes.index, None, self.box_table,
                                    W[n_p:, n_p:])
        if self.point_covariance is not None:
            total = total + 2.0 * self.batch.contract(self.boxes.spans, self.points.spans, params, self.boxes.index,
                                                      self.points.index, self.cross_table, W[n_p:, :n_p])
            return total[free] + self.point_covariance.contract(params, np.ascontiguousarray(W[:n_p, :n_p]))
        return total[free]


def training_rows(state: TrainingState) -> Rows:
    """The training observations as rows: points first, then the integral boxes."""
    rows = Rows.points(state.X, state.observed, state.obs_index)
    if state.integrals is not None:
        rows = rows.concat(Rows.boxes(*state.integrals)) if rows.n else Rows.boxes(*state.integrals)
    return rows


# ---------------------------------------------------------------------- prediction
def functional_moments(state: TrainingState, T: Rows, q: int, cov: str = "none", chunk_size: int | None = None,
                       memory_budget: int = 128 * 2**20) -> tuple[np.ndarray, np.ndarray | None]:
    """Posterior mean and covariance of the functionals ``T`` (``m * q`` rows, point-major: q per point).

    Shapes as :func:`~kernelgen.posterior.predict.predict_derivatives`: mean (m, q) (or (m, q, t)),
    ``"diag"`` (m, q), ``"point"`` (m, q, q), ``"full"`` (m q, m q). ``normalize_y`` is undone:
    means are scaled by ``y_std`` and shifted by ``y_mean`` times the functional of 1 (f: 1,
    derivatives: 0, ``int_a^x``: ``x - a``, its double: ``(x - a)**2 / 2``, boxes: the volume).
    """
    kernel = state.kernel
    params = kernel.parameter_vector
    train = training_rows(state)
    alpha = state.alpha if state.alpha.ndim == 2 else state.alpha[:, None]
    m = T.n // q
    n = train.n
    if chunk_size is None:
        chunk_size = max(1, int(memory_budget // max(1, n * 2 * q * 8)))
    mean = np.empty((T.n, alpha.shape[1]))
    out: np.ndarray | None = None
    if cov == "diag":
        out = np.empty(T.n)
    elif cov == "point":
        out = np.empty((m, q, q))
    V_all = np.empty((n, T.n)) if cov == "full" else None
    for s in range(0, m, chunk_size):
        rows = np.arange(s * q, min(m, s + chunk_size) * q)
        Tc = T.subset(rows)
        Kc = cross_covariance(kernel, Tc, train, params)
        mean[rows] = Kc @ alpha
        if cov == "none":
            continue
        V = solve_triangular(state.L, Kc.T, lower=True, check_finite=False)
        if cov == "diag":
            out[rows] = pair_covariance(kernel, Tc, Tc, params) - np.einsum("ij,ij->j", V, V)  # type: ignore[index]
        elif cov == "point":
            c = rows.size // q
            a = np.repeat(np.arange(q), q)
            b = np.tile(np.arange(q), q)
            left = Tc.subset((np.arange(c)[:, None] * q + a[None, :]).reshape(-1))
            right = Tc.subset((np.arange(c)[:, None] * q + b[None, :]).reshape(-1))
            prior = pair_covariance(kernel, left, right, params).reshape(c, q, q)
            Vc = V.T.reshape(c, q, n)
            out[s:s + c] = prior - Vc @ Vc.transpose(0, 2, 1)  # type: ignore[index]
        else:
            V_all[:, rows] = V  # type: ignore[index]
    if cov == "full":
        out = cross_covariance(kernel, T, T, params)
        out -= V_all.T @ V_all  # type: ignore[union-attr]
    return _finish(state, T, q, mean, out, cov)


def _finish(state: TrainingState, T: Rows, q: int, mean: np.ndarray, cov: np.ndarray | None,
            mode: str) -> tuple[np.ndarray, np.ndarray | None]:
    y_mean = np.asarray(state.y_mean, dtype=np.float64)
    y_std = np.asarray(state.y_std, dtype=np.float64)
    mean = mean * y_std + T.shift_factor()[:, None] * y_mean
    m = T.n // q
    mean = mean.reshape(m, q, -1)
    if state.alpha.ndim == 1:
        mean = mean[:, :, 0]
    if cov is not None:
        if mode == "diag":
            cov = cov.reshape(m, q)
        cov = cov * y_std**2 if y_std.ndim == 0 else cov[..., None] * y_std**2
    return mean, cov


# ---------------------------------------------------------------------- test rows
def antiderivative_rows(X: np.ndarray, anchor: float, order: int, dim: int) -> Rows:
    """``int_anchor^x`` (order 1) or its double (order 2) along input ``dim`` at each row of ``X``."""
    lower = np.array(X, dtype=np.float64, copy=True)
    lower[:, dim] = anchor
    return Rows(rows_of(lower, X), (Functional.antiderivative(X.shape[1], order, dim),),
                np.zeros(X.shape[0], dtype=np.int64))


def joint_rows(X: np.ndarray, functionals: Sequence[tuple[Functional, float]]) -> Rows:
    """q functionals at each row of ``X``, point-major (row ``i * q + a`` is ``functionals[a]`` at ``X[i]``).

    Each entry is ``(functional, anchor)``; the anchor is the lower limit along the integrated input
    of an antiderivative (ignored for derivatives).
    """
    m, d = X.shape
    q = len(functionals)
    upper = np.repeat(X, q, axis=0)
    lower = upper.copy()
    types: list[Functional] = []
    index = np.empty(m * q, dtype=np.int64)
    for a, (functional, anchor) in enumerate(functionals):
        for j, o in enumerate(functional.orders):
            if o:
                lower[a::q, j] = anchor
        if functional not in types:
            types.append(functional)
        index[a::q] = types.index(functional)
    return Rows(rows_of(lower, upper), tuple(types), index)
