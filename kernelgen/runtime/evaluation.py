"""``k(X, Y, dx=..., dy=...)`` and ``k.diag(X)``: the evaluator the symbolic kernel calls.

A request is served by its own module when that is committed or cached. Otherwise a plain value
(no gradient) is read from a committed standard batch that contains it, through the generated
``fill_selected`` (one (n, m) result, whatever the batch's size), so a built-in kernel's first
derivatives need no generation; failing that, the request's own module is generated now.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from ..codegen.builtins import committed_specs
from ..codegen.ir import BatchSpec
from ..codegen.store import find_source, module_name
from ..symbolic.kernel import Kernel
from ..symbolic.request import Output, Request
from .batch import CompiledBatch, compiled_spec
from .inputs import as_points

__all__ = ["KernelEvaluator"]


@dataclass(frozen=True)
class _Source:
    """Where one request's values come from: a batch, and whether it is the request's own."""

    batch: CompiledBatch
    own: bool


#: module name of a request's own batch -> the source chosen for it (resolved once per process).
_chosen: dict[str, _Source] = {}
_lock = threading.Lock()


def _source(kernel: Kernel, request: Request, eval_gradient: bool) -> _Source:
    own = BatchSpec.make(kernel, [request], eval_gradient)
    key = module_name(own)
    with _lock:
        found = _chosen.get(key)
    if found is None:
        spec = None
        if not eval_gradient and find_source(own) is None:
            spec = next((s for s in committed_specs(kernel) if Output(request) in s.outputs), None)
        found = _Source(compiled_spec(own if spec is None else spec), spec is None)
        with _lock:
            _chosen[key] = found
    return found


def _gradient_columns(kernel: Kernel, batch: CompiledBatch, request: Request) -> list[int]:
    free = [n for n, f in zip(kernel.all_hyperparameter_names, kernel.free_mask) if f]
    return [batch.position(Output(request, n)) for n in free]


class KernelEvaluator:
    """Evaluates :class:`~kernelgen.Kernel` objects through generated modules."""

    def matrix(self, kernel: Kernel, X1: object, X2: object | None, request: Request,
               eval_gradient: bool) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        A = as_points(X1, kernel.dim, "X1")
        B = None if X2 is None else as_points(X2, kernel.dim, "X2")
        source = _source(kernel, request, eval_gradient)
        batch, params = source.batch, kernel.parameter_vector
        column = batch.position(Output(request))
        if not source.own:  # a committed superset: select the one output per pair
            B = A if B is None else B
            zeros = (np.zeros(A.shape[0], np.int64), np.zeros(B.shape[0], np.int64))
            return batch.fill_selected(A, B, params, *zeros, np.array([[column]], dtype=np.int64))
        out = batch.fill(A, B, params)
        K = np.ascontiguousarray(out[:, :, column])
        if not eval_gradient:
            return K
        columns = _gradient_columns(kernel, batch, request)
        if columns == list(range(column + 1, column + 1 + len(columns))):
            return K, out[:, :, column + 1:column + 1 + len(columns)]  # a view: no copy of (n, m, p)
        return K, out[:, :, columns]

    def diag(self, kernel: Kernel, X: object, request: Request) -> np.ndarray:
        A = as_points(X, kernel.dim, "X")
        batch = _source(kernel, request, False).batch
        return batch.diag(A, kernel.parameter_vector)[:, batch.position(Output(request))]
