"""Assembling the training covariance and contracting its hyperparameter derivatives.

One :class:`TrainingCovariance` holds the compiled modules of one kernel expression for one set of
observation types; any hyperparameter values (``params`` vectors) are evaluated with them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..runtime import CompiledBatch, compiled
from ..symbolic.kernel import Kernel
from ..symbolic.request import Request
from .state import Deriv

__all__ = ["TrainingCovariance"]


class TrainingCovariance:
    """Covariance of the observations (f or derivatives of f) at the training inputs.

    Parameters
    ----------
    kernel : Kernel
        Latent-f kernel (only its expression matters here).
    X : ndarray of shape (n, d)
        Validated, C-contiguous float64 inputs.
    observed : sequence of tuple of int
        Distinct derivative types of the observations (validated multi-indices).
    obs_index : ndarray of shape (n,)
        Index into ``observed`` per training row.
    """

    def __init__(self, kernel: Kernel, X: np.ndarray, observed: Sequence[Deriv], obs_index: np.ndarray) -> None:
        self.kernel = kernel
        self.X = X
        self.observed = tuple(observed)
        self.obs_index = obs_index
        self.plain = self.observed == ((),)
        self._pairs = [Request(a, b) for a in self.observed for b in self.observed]
        self.values = compiled(kernel, self._pairs)
        self.value_table = self.values.table(self.observed, self.observed)
        self._gradient: CompiledBatch | None = None

    @property
    def n(self) -> int:
        return self.X.shape[0]

    def matrix(self, params: np.ndarray) -> np.ndarray:
        """Noise-free training covariance, C-contiguous (n, n)."""
        if self.plain:
            return self.values.fill(self.X, None, params).reshape(self.n, self.n)
        return self.values.fill_selected(self.X, self.X, params, self.obs_index, self.obs_index,
                                         self.value_table)

    def _gradient_batch(self) -> CompiledBatch:
        if self._gradient is None:
            self._gradient = compiled(self.kernel, self._pairs, gradient=True)
        return self._gradient

    def contract(self, params: np.ndarray, W: np.ndarray) -> np.ndarray:
        """``sum_ij W_ij dK_ij/dlog(theta_g)`` for every free hyperparameter ``g`` (W symmetric).

        The generated ``contract_selected`` visits each unordered pair once and stores nothing of
        size (n, n, p); only its lower triangle (C order) of ``W`` is read.
        """
        free = [nm for nm, f in zip(self.kernel.all_hyperparameter_names, self.kernel.free_mask) if f]
        if not free:
            return np.empty(0)
        batch = self._gradient_batch()
        k = len(self.observed)
        table = np.empty((k, k, len(free)), dtype=np.int64)
        for g, nm in enumerate(free):
            table[:, :, g] = batch.table(self.observed, self.observed, nm)
        if batch.symmetric_kernel:
            return batch.contract_selected(self.X, params, self.obs_index, table, W)
        # Fallback for kernels whose expression is not syntactically symmetric: one (n, n)
        # derivative matrix at a time.
        out = np.empty(len(free))
        for g in range(len(free)):
            G = batch.fill_selected(self.X, self.X, params, self.obs_index, self.obs_index,
                                    np.ascontiguousarray(table[:, :, g]))
            out[g] = float(np.sum(W * G))
        return out

