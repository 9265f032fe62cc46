"""Loaded generated modules behind a checked Python API: validate in Python, then call jitted code."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType

import numba
import numpy as np
from threadpoolctl import ThreadpoolController

from .codegen.cache import load, module_name
from .codegen.ir import BatchSpec, Output
from .symbolic.kernel import Kernel
from .symbolic.prepared import normalize_request

_batches: dict[str, CompiledBatch] = {}
_lock = threading.Lock()

#: Calls evaluating fewer pairs than this run on one numba thread: waking the others costs more
#: than it saves, and on a busy machine a parallel region waits for a descheduled thread.
SERIAL_PAIRS = 250_000

#: Below this many training points the marginal likelihood runs LAPACK single-threaded.
SMALL_PROBLEM = 2048
_blas_controller: ThreadpoolController | None = None


@contextmanager
def blas_threads_for(n: int) -> Iterator[None]:
    """Single-threaded BLAS while a size-``n`` problem alternates BLAS calls with numba fills.

    numba's OpenMP threads and OpenBLAS's threads both spin after a parallel region; when the two
    alternate every few milliseconds (an optimizer loop on a few hundred points) they steal each
    other's cores and a 200-point fit becomes ten times slower on two cores. Large factorizations
    keep every BLAS thread.
    """
    global _blas_controller
    if n >= SMALL_PROBLEM:
        yield
        return
    if _blas_controller is None:
        import scipy.linalg  # noqa: F401  (load SciPy's BLAS so the controller sees it)

        _blas_controller = ThreadpoolController()
    with _blas_controller.limit(limits=1, user_api="blas"):
        yield


def as_points(X: object, dim: int, name: str) -> np.ndarray:
    """``X`` as a C-contiguous float64 array of shape (n, dim); ValueError naming ``name`` otherwise."""
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a numeric array of shape (n, {dim})") from None
    if arr.ndim == 1 and dim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2 or arr.shape[1] != dim:
        raise ValueError(f"{name} must have shape (n, {dim}), got {np.shape(X)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return np.ascontiguousarray(arr)


@contextmanager
def numba_threads_for(pairs: int) -> Iterator[None]:
    """One numba thread for calls that evaluate fewer than :data:`SERIAL_PAIRS` pairs."""
    if pairs >= SERIAL_PAIRS:
        yield
        return
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


class CompiledBatch:
    """One generated module: the outputs of a :class:`BatchSpec` for given hyperparameter values."""

    def __init__(self, spec: BatchSpec, module: ModuleType) -> None:
        self.spec = spec
        self.module = module
        self.outputs: tuple[Output, ...] = spec.outputs
        self._index = {(o.dx, o.dy, o.param): k for k, o in enumerate(self.outputs)}

    @property
    def n_outputs(self) -> int:
        return len(self.outputs)

    def index(self, dx: Sequence[int] = (), dy: Sequence[int] = (), param: str | None = None) -> int:
        """Position of an output in the last axis of :meth:`fill`."""
        key = (*normalize_request(dx, dy, self.spec.kernel.dim), param)
        try:
            return self._index[key]
        except KeyError:
            raise KeyError(f"output dx={key[0]}, dy={key[1]}, param={param} is not in this batch") from None

    def fill(self, X1: np.ndarray, X2: np.ndarray | None, params: np.ndarray) -> np.ndarray:
        """All outputs for all pairs, shape (n1, n2, n_outputs). Inputs must be validated."""
        if X2 is None:
            out = np.empty((X1.shape[0], X1.shape[0], self.n_outputs))
            with numba_threads_for(X1.shape[0] ** 2 // 2):
                if self.spec.symmetric:
                    self.module.fill_symmetric(X1, params, out)
                else:
                    self.module.fill(X1, X1, params, out)
            return out
        out = np.empty((X1.shape[0], X2.shape[0], self.n_outputs))
        with numba_threads_for(X1.shape[0] * X2.shape[0]):
            self.module.fill(X1, X2, params, out)
        return out

    def diag(self, X: np.ndarray, params: np.ndarray) -> np.ndarray:
        out = np.empty((X.shape[0], self.n_outputs))
        with numba_threads_for(X.shape[0]):
            self.module.diag(X, params, out)
        return out

    def fill_selected(self, X1: np.ndarray, X2: np.ndarray, params: np.ndarray, sel1: np.ndarray,
                      sel2: np.ndarray, table: np.ndarray) -> np.ndarray:
        out = np.empty((X1.shape[0], X2.shape[0]))
        with numba_threads_for(X1.shape[0] * X2.shape[0]):
            self.module.fill_selected(X1, X2, params, sel1, sel2, table, out)
        return out

    def fill_multi(self, X1: np.ndarray, X2: np.ndarray, params: np.ndarray, sel2: np.ndarray,
                   table: np.ndarray) -> np.ndarray:
        """(n1, q, n2) with [i, a, j] = output ``table[a, sel2[j]]`` at (X1[i], X2[j])."""
        out = np.empty((X1.shape[0], table.shape[0], X2.shape[0]))
        with numba_threads_for(X1.shape[0] * X2.shape[0]):
            self.module.fill_multi(X1, X2, params, sel2, table, out)
        return out

    def matvec_multi(self, X1: np.ndarray, X2: np.ndarray, params: np.ndarray, sel2: np.ndarray,
                     table: np.ndarray, A: np.ndarray) -> np.ndarray:
        """(n1, q, c) with [i, a, c] = sum_j output ``table[a, sel2[j]]`` at (X1[i], X2[j]) * A[j, c].

        Matrix-free: every pair is evaluated once for all q outputs and nothing of size
        (n1, n2) is stored.
        """
        A = np.ascontiguousarray(A, dtype=np.float64)
        if A.ndim == 1:
            A = A[:, None]
        out = np.empty((X1.shape[0], table.shape[0], A.shape[1]))
        with numba_threads_for(X1.shape[0] * X2.shape[0]):
            self.module.matvec_multi(X1, X2, params, sel2, table, A, out)
        return out

    def contract_selected(self, X: np.ndarray, params: np.ndarray, sel: np.ndarray, table: np.ndarray,
                          W: np.ndarray) -> np.ndarray:
        if not self.spec.kernel.prepared.symmetric:
            raise ValueError("contract_selected needs a symmetric kernel")
        out = np.empty(table.shape[2])
        with numba_threads_for(X.shape[0] ** 2 // 2):
            self.module.contract_selected(X, params, sel, table, np.ascontiguousarray(W), out)
        return out


def compiled(kernel: Kernel, requests: Sequence[tuple[Sequence[int], Sequence[int]]],
             gradient: bool = False) -> CompiledBatch:
    """The compiled batch for ``kernel`` and ``requests`` (generated and loaded on first use)."""
    spec = BatchSpec.make(kernel, requests, gradient)
    name = module_name(spec)
    with _lock:
        batch = _batches.get(name)
    if batch is None:
        batch = CompiledBatch(spec, load(spec))
        with _lock:
            batch = _batches.setdefault(name, batch)
    return batch


def evaluate(kernel: Kernel, X1: object, X2: object | None, dx: Sequence[int], dy: Sequence[int],
             eval_gradient: bool) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    dx, dy = normalize_request(dx, dy, kernel.dim)
    A = as_points(X1, kernel.dim, "X1")
    B = None if X2 is None else as_points(X2, kernel.dim, "X2")
    batch = compiled(kernel, [(dx, dy)], gradient=eval_gradient)
    out = batch.fill(A, B, kernel.parameter_vector)
    K = np.ascontiguousarray(out[:, :, 0])
    if not eval_gradient:
        return K
    free = np.flatnonzero(kernel.free_mask)
    if free.size == len(kernel.all_hyperparameter_names):
        return K, out[:, :, 1:]
    return K, out[:, :, 1 + free]


def evaluate_diag(kernel: Kernel, X: object, dx: Sequence[int], dy: Sequence[int]) -> np.ndarray:
    dx, dy = normalize_request(dx, dy, kernel.dim)
    A = as_points(X, kernel.dim, "X")
    return compiled(kernel, [(dx, dy)]).diag(A, kernel.parameter_vector)[:, 0]
