"""A loaded generated module behind a checked Python API: validate in Python, then call jitted code."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from types import ModuleType

import numpy as np

from ..codegen.ir import BatchSpec
from ..codegen.store import module_name
from ..symbolic.kernel import Kernel
from ..symbolic.request import Output, Request
from .loading import load, module_info
from .threads import numba_threads_for

__all__ = ["CompiledBatch", "compiled", "compiled_spec"]

_batches: dict[str, CompiledBatch] = {}
_lock = threading.Lock()


class CompiledBatch:
    """One generated module: the outputs of a :class:`BatchSpec` for given hyperparameter values.

    Outputs, parameter order and symmetry are read from the module itself, never derived again.
    """

    def __init__(self, spec: BatchSpec, module: ModuleType) -> None:
        info = module_info(module)
        if info.dim != spec.kernel.dim or info.parameters != spec.kernel.all_hyperparameter_names:
            raise RuntimeError(
                f"generated module {module.__name__} is for dim={info.dim}, parameters {info.parameters}; "
                f"the kernel has dim={spec.kernel.dim}, parameters {spec.kernel.all_hyperparameter_names}")
        self.spec = spec
        self.module = module
        self.outputs: tuple[Output, ...] = info.outputs
        #: Every output is symmetric in (x, y): ``fill(X, None)`` computes each pair once.
        self.symmetric = info.symmetric
        #: k(x, y) = k(y, x): the gradient contraction may visit each unordered pair once.
        self.symmetric_kernel = info.symmetric_kernel
        self._index = {o: k for k, o in enumerate(self.outputs)}

    @property
    def n_outputs(self) -> int:
        return len(self.outputs)

    def position(self, output: Output) -> int:
        """Position of a typed output in the last axis of :meth:`fill` (KeyError if absent)."""
        try:
            return self._index[output]
        except KeyError:
            raise KeyError(f"output {output.request}, param={output.param} is not in this batch") from None

    def has(self, outputs: Iterable[Output]) -> bool:
        return all(o in self._index for o in outputs)

    def index(self, dx: Sequence[int] = (), dy: Sequence[int] = (), param: str | None = None) -> int:
        """Position of an output in the last axis of :meth:`fill` (``dx``, ``dy`` validated here)."""
        return self.position(Output(Request.make(dx, dy, self.spec.kernel.dim), param))

    def table(self, rows: Sequence[tuple[int, ...]], cols: Sequence[tuple[int, ...]],
              param: str | None = None) -> np.ndarray:
        """``[i, j]`` = position of ``(dx=rows[i], dy=cols[j])`` (typed, validated multi-indices)."""
        table = np.empty((len(rows), len(cols)), dtype=np.int64)
        for i, a in enumerate(rows):
            for j, b in enumerate(cols):
                table[i, j] = self.position(Output(Request(a, b), param))
        return table

    def fill(self, X1: np.ndarray, X2: np.ndarray | None, params: np.ndarray) -> np.ndarray:
        """All outputs for all pairs, shape (n1, n2, n_outputs). Inputs must be validated."""
        if X2 is None:
            out = np.empty((X1.shape[0], X1.shape[0], self.n_outputs))
            with numba_threads_for(X1.shape[0] ** 2 // 2):
                if self.symmetric:
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
        if not self.symmetric_kernel:
            raise ValueError("contract_selected needs a symmetric kernel")
        out = np.empty(table.shape[2])
        with numba_threads_for(X.shape[0] ** 2 // 2):
            self.module.contract_selected(X, params, sel, table, np.ascontiguousarray(W), out)
        return out


def compiled_spec(spec: BatchSpec) -> CompiledBatch:
    """The compiled batch for a typed spec (generated and loaded on first use)."""
    name = module_name(spec)
    with _lock:
        batch = _batches.get(name)
    if batch is None:
        batch = CompiledBatch(spec, load(spec))
        with _lock:
            batch = _batches.setdefault(name, batch)
    return batch


def compiled(kernel: Kernel, requests: Iterable[Request | tuple[Sequence[int], Sequence[int]]],
             gradient: bool = False) -> CompiledBatch:
    """The compiled batch for ``kernel`` and ``requests`` (generated and loaded on first use).

    ``requests`` are :class:`~kernelgen.symbolic.request.Request` objects or ``(dx, dy)`` pairs.
    """
    return compiled_spec(BatchSpec.make(kernel, requests, gradient))
