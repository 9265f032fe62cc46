"""A loaded generated module behind a checked Python API: validate in Python, then call jitted code.

Results are checked too: finite inputs that give a non-finite value (an overflow in float64, or
an ``inf * 0`` the generated code could not avoid) raise :class:`FloatingPointError` naming the
kernel, the outputs and the hyperparameter values, instead of returning NaN or inf. The fills
report non-finite values themselves (a fused reduction while the values are in cache); small
results (a contraction, one pair) are checked here with ``np.isfinite``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Sequence
from types import ModuleType

import numpy as np

from ..codegen.ir import BatchSpec
from ..codegen.store import module_name
from ..symbolic.kernel import Kernel
from ..symbolic.request import Output, Request
from .loading import checked_info, load
from .threads import numba_threads_for

__all__ = ["CompiledBatch", "compiled", "compiled_spec"]

_batches: dict[str, CompiledBatch] = {}
_lock = threading.Lock()


class CompiledBatch:
    """One generated module: the outputs of a :class:`BatchSpec` for given hyperparameter values.

    Outputs, parameter order and symmetry are read from the module itself, never derived again.
    """

    def __init__(self, spec: BatchSpec, module: ModuleType) -> None:
        info = checked_info(spec, module)
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
                    flag = self.module.fill_symmetric(X1, params, out)
                else:
                    flag = self.module.fill(X1, X1, params, out)
            return self._checked(flag, out, params, range(self.n_outputs))
        out = np.empty((X1.shape[0], X2.shape[0], self.n_outputs))
        with numba_threads_for(X1.shape[0] * X2.shape[0]):
            flag = self.module.fill(X1, X2, params, out)
        return self._checked(flag, out, params, range(self.n_outputs))

    def diag(self, X: np.ndarray, params: np.ndarray) -> np.ndarray:
        out = np.empty((X.shape[0], self.n_outputs))
        with numba_threads_for(X.shape[0]):
            flag = self.module.diag(X, params, out)
        return self._checked(flag, out, params, range(self.n_outputs))

    def fill_selected(self, X1: np.ndarray, X2: np.ndarray, params: np.ndarray, sel1: np.ndarray,
                      sel2: np.ndarray, table: np.ndarray) -> np.ndarray:
        out = np.empty((X1.shape[0], X2.shape[0]))
        with numba_threads_for(X1.shape[0] * X2.shape[0]):
            flag = self.module.fill_selected(X1, X2, params, sel1, sel2, table, out)
        return self._checked(flag, out, params, np.unique(table))

    def fill_multi(self, X1: np.ndarray, X2: np.ndarray, params: np.ndarray, sel2: np.ndarray,
                   table: np.ndarray) -> np.ndarray:
        """(n1, q, n2) with [i, a, j] = output ``table[a, sel2[j]]`` at (X1[i], X2[j])."""
        out = np.empty((X1.shape[0], table.shape[0], X2.shape[0]))
        with numba_threads_for(X1.shape[0] * X2.shape[0]):
            flag = self.module.fill_multi(X1, X2, params, sel2, table, out)
        return self._checked(flag, out, params, np.unique(table))

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
        return self._checked(_flag(out), out, params, np.unique(table), "a contraction with finite weights of")

    def contract_selected(self, X: np.ndarray, params: np.ndarray, sel: np.ndarray, table: np.ndarray,
                          W: np.ndarray) -> np.ndarray:
        if not self.symmetric_kernel:
            raise ValueError("contract_selected needs a symmetric kernel")
        out = np.empty(table.shape[2])
        with numba_threads_for(X.shape[0] ** 2 // 2):
            self.module.contract_selected(X, params, sel, table, np.ascontiguousarray(W), out)
        return self._checked(_flag(out), out, params, np.unique(table), "a contraction with finite weights of")

    def _checked(self, flag: float, out: np.ndarray, params: np.ndarray, columns: Iterable[int],
                 what: str = "") -> np.ndarray:
        """``out`` if the module's flag says every value is finite, else FloatingPointError."""
        if flag == 0.0:
            return out
        raise FloatingPointError(self.non_finite_message(out, params, columns, what))

    def non_finite_message(self, out: np.ndarray, params: np.ndarray, columns: Iterable[int], what: str = "") -> str:
        """Which kernel, outputs and hyperparameter values gave a non-finite result (for the error)."""
        kernel = self.spec.kernel
        if out.ndim == 3 and out.shape[2] == self.n_outputs:  # a full fill: name the failing outputs
            columns = np.flatnonzero(~np.isfinite(out).all(axis=(0, 1)))
        names = [describe_output(self.outputs[int(k)]) for k in columns]
        shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        values = ", ".join(f"{n}={v:.6g}" for n, v in zip(kernel.all_hyperparameter_names, params))
        expr = str(kernel.expr)
        expr = expr if len(expr) <= 120 else expr[:117] + "..."
        kind = "NaN" if np.isnan(out).any() else "inf"
        guarded = set(getattr(self.module, "GUARDED_ORDERS", ()))
        if kind == "NaN" and any(self.outputs[int(k)].request.order in guarded for k in columns):
            cause = ("derivatives of this order of a sine or cosine of the distance between two points lose "
                     "their digits when the points are close but not equal (about eps / (c |x - y|)**(order - 2) "
                     "of their scale); kernelgen refuses them there instead of returning an inaccurate value. "
                     "Exactly coincident points, lower orders and points further apart are exact")
        else:
            cause = ("float64 overflowed (points too far apart for the length scales, or extreme "
                     "hyperparameter values); rescale the inputs or bound the hyperparameters")
        return (f"kernel {kernel.name!r} ({expr}) gave {kind} for {what + ' ' if what else ''}{shown} from finite "
                f"inputs, at {values}: {cause}")


def _flag(out: np.ndarray) -> float:
    """0.0 if every value of a small result is finite, else NaN (as the generated fills report)."""
    return 0.0 if np.isfinite(out).all() else math.nan


def describe_output(output: Output) -> str:
    """``k``, ``d/dx0 d/dy1 k``, ``dlog(l) of d/dx0 k``: an output as a user reads it."""
    r = output.request
    parts = [f"d/dx{i}" for i in r.dx] + [f"d/dy{i}" for i in r.dy]
    value = " ".join([*parts, "k"])
    return value if output.param is None else f"d/dlog({output.param}) of {value}"


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
