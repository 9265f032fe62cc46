"""Generated integral modules behind a checked Python API (rows validated here, jitted code trusts them).

A row is ``[lower_0 .. lower_{d-1}, upper_0 .. upper_{d-1}]``: the box of an integral functional,
or ``lower == upper == x`` for a point functional. :func:`compiled_integrals` returns the batch for
a set of canonical requests, reusing an already loaded batch of the same kernel that contains them
(a training batch with gradients serves the predictions that need the same pairs).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType

import numba
import numpy as np

from ..codegen.integral_ir import IntegralSpec
from ..codegen.store import module_name
from ..symbolic.kernel import Kernel
from ..symbolic.request import Functional, Request
from .loading import load

__all__ = ["SERIAL_INTEGRAL_PAIRS", "CompiledIntegrals", "as_boxes", "compiled_integrals", "rows_of"]

#: Calls evaluating fewer pairs than this run in the calling thread.
SERIAL_INTEGRAL_PAIRS = 2_000

_FILL_SELECTED, _FILL_SYMMETRIC, _FILL_PAIRS, _CONTRACT, _CONTRACT_SYMMETRIC = range(5)
_EMPTY_2D = np.zeros((0, 0))
_batches: dict[str, CompiledIntegrals] = {}
_by_kernel: dict[str, list[CompiledIntegrals]] = {}
_lock = threading.Lock()


class CompiledIntegrals:
    """One generated integral module for given hyperparameter values (``params`` vectors)."""

    def __init__(self, spec: IntegralSpec, module: ModuleType) -> None:
        if getattr(module, "KIND", None) != "integrals" or int(module.DIM) != spec.kernel.dim or \
                tuple(module.PARAMETERS) != spec.kernel.all_hyperparameter_names:
            raise RuntimeError(f"generated module {module.__name__} does not match integral spec {spec.describe()}")
        self.spec = spec
        self.module = module
        self.dim = int(module.DIM)
        self.requests = tuple(Request(tuple(dx), tuple(dy), tuple(ix), tuple(iy))
                              for dx, dy, ix, iy in module.REQUESTS)
        self.gradient = bool(module.GRADIENT)
        self.n_params = len(module.PARAMETERS)
        self._index = {r: k for k, r in enumerate(self.requests)}

    def has(self, requests: Iterable[Request], gradient: bool = False) -> bool:
        return (self.gradient or not gradient) and all(r in self._index for r in requests)

    def table(self, first: Sequence[Functional], second: Sequence[Functional]) -> np.ndarray:
        """``[a, b]`` = position of the request ``(first[a], second[b])`` (KeyError if absent)."""
        table = np.empty((len(first), len(second)), dtype=np.int64)
        for a, fa in enumerate(first):
            for b, fb in enumerate(second):
                table[a, b] = self._index[Request.between(fa, fb)]
        return table

    # ------------------------------------------------------------------ fills
    def selected(self, R1: np.ndarray, R2: np.ndarray, params: np.ndarray, sel1: np.ndarray, sel2: np.ndarray,
                 table: np.ndarray) -> np.ndarray:
        """(n1, n2): request ``table[sel1[i], sel2[j]]`` at rows ``(R1[i], R2[j])``."""
        out = np.empty((R1.shape[0], R2.shape[0]))
        self._run(_FILL_SELECTED, R1, R2, params, sel1, sel2, table, _EMPTY_2D, out, R2.shape[0], False)
        return _checked(out)

    def symmetric(self, R: np.ndarray, params: np.ndarray, sel: np.ndarray, table: np.ndarray) -> np.ndarray:
        """(n, n) for a symmetric table, each unordered pair once."""
        out = np.empty((R.shape[0], R.shape[0]))
        self._run(_FILL_SYMMETRIC, R, R, params, sel, sel, table, _EMPTY_2D, out, R.shape[0] // 2 + 1, True)
        return _checked(out)

    def pairs(self, R1: np.ndarray, R2: np.ndarray, params: np.ndarray, sel1: np.ndarray, sel2: np.ndarray,
              table: np.ndarray) -> np.ndarray:
        """(n,): request ``table[sel1[i], sel2[i]]`` at rows ``(R1[i], R2[i])``."""
        out = np.empty((R1.shape[0], 1))
        self._run(_FILL_PAIRS, R1, R2, params, sel1, sel2, table, _EMPTY_2D, out, 1, False)
        return _checked(out[:, 0])

    def contract(self, R1: np.ndarray, R2: np.ndarray | None, params: np.ndarray, sel1: np.ndarray,
                 sel2: np.ndarray | None, table: np.ndarray, W: np.ndarray) -> np.ndarray:
        """``sum_ij W_ij d/dlog(theta_g)`` of the requests, for every hyperparameter (all, in order).

        ``R2=None``: the second side is ``R1`` (``W`` symmetric; its lower triangle is read).
        """
        if not self.gradient:
            raise RuntimeError("this integral batch was compiled without gradients")
        W = np.ascontiguousarray(W, dtype=np.float64)
        symmetric = R2 is None
        mode = _CONTRACT_SYMMETRIC if symmetric else _CONTRACT
        other = R1 if R2 is None else R2
        return _checked(self._run(mode, R1, other, params, sel1, sel1 if sel2 is None else sel2, table, W, None,
                                  (R1.shape[0] // 2 + 1) if symmetric else other.shape[0], symmetric))

    def _run(self, mode: int, R1: np.ndarray, R2: np.ndarray, params: np.ndarray, sel1: np.ndarray,
             sel2: np.ndarray, table: np.ndarray, W: np.ndarray, out: np.ndarray | None, per_row: int,
             interleave: bool) -> np.ndarray:
        """Split the rows of ``R1`` over threads (interleaved for triangles) and call the generated fill."""
        n = R1.shape[0]
        params = np.ascontiguousarray(params, dtype=np.float64)
        sel1 = np.ascontiguousarray(sel1, dtype=np.int64)
        sel2 = np.ascontiguousarray(sel2, dtype=np.int64)
        table = np.ascontiguousarray(table, dtype=np.int64)
        grad = mode in (_CONTRACT, _CONTRACT_SYMMETRIC)
        buffer = np.empty((0, 0)) if out is None else out
        workers = max(1, min(numba.get_num_threads(), n, (n * max(per_row, 1)) // SERIAL_INTEGRAL_PAIRS))
        chunks = ([np.arange(t, n, workers, dtype=np.int64) for t in range(workers)] if interleave else
                  np.array_split(np.arange(n, dtype=np.int64), workers))
        partial = [np.zeros(self.n_params) for _ in chunks]

        def work(k: int) -> None:
            self.module.fill(mode, R1, R2, params, sel1, sel2, table, W, buffer, partial[k], chunks[k])

        if workers == 1:
            work(0)
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                list(pool.map(work, range(len(chunks))))
        return np.sum(partial, axis=0) if grad else buffer


def _checked(values: np.ndarray) -> np.ndarray:
    if not np.all(np.isfinite(values)):
        raise FloatingPointError(
            "a kernel integral did not converge (adaptive quadrature exhausted its cells) or overflowed; "
            "the boxes may be very wide relative to the kernel's length scales")
    return values


def rows_of(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """``[lower | upper]`` as the C-contiguous (n, 2 d) rows the generated code reads."""
    return np.ascontiguousarray(np.hstack([lower, upper]), dtype=np.float64)


def compiled_integrals(kernel: Kernel, requests: Iterable[Request], gradient: bool = False) -> CompiledIntegrals:
    """An integral batch containing ``requests`` (a loaded superset of the same kernel, or a new one)."""
    wanted = tuple(dict.fromkeys(requests))
    signature = kernel.signature
    with _lock:
        for batch in _by_kernel.get(signature, []):
            if batch.has(wanted, gradient):
                return batch
    spec = IntegralSpec.make(kernel, wanted, gradient)
    name = module_name(spec)
    with _lock:
        batch = _batches.get(name)
    if batch is None:
        batch = CompiledIntegrals(spec, load(spec))  # type: ignore[arg-type]
        with _lock:
            batch = _batches.setdefault(name, batch)
            loaded = _by_kernel.setdefault(signature, [])
            if batch not in loaded:
                loaded.append(batch)
    return batch


def as_boxes(lower: object, upper: object, dim: int, names: tuple[str, str] = ("lower", "upper")
             ) -> tuple[np.ndarray, np.ndarray]:
    """``lower``, ``upper`` as (m, dim) float64 arrays: (m, d), (d,) for one box, scalars or (m,) in 1-D.

    Raises ``ValueError`` naming the argument (non-numeric, wrong or mismatched shapes, NaN or inf).
    """
    arrays = []
    for value, name in zip((lower, upper), names):
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a numeric array of shape (m, {dim})") from None
        if arr.ndim == 0 and dim == 1:
            arr = arr.reshape(1, 1)
        elif arr.ndim == 1:
            arr = arr.reshape(-1, 1) if dim == 1 else arr.reshape(1, -1)
        if arr.ndim != 2 or arr.shape[1] != dim:
            raise ValueError(f"{name} must have shape (m, {dim}) (or ({dim},) for one box), got {np.shape(value)}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} contains NaN or inf")
        arrays.append(np.ascontiguousarray(arr))
    if arrays[0].shape != arrays[1].shape:
        raise ValueError(f"{names[0]} and {names[1]} must have the same shape, got {arrays[0].shape} and "
                         f"{arrays[1].shape}")
    return arrays[0], arrays[1]
