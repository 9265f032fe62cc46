"""The fuzz test's only contact with kernelgen, through public names.

The package is being restructured; if an import path moves, this module is the one to update.
Used: ``kernelgen.Kernel``, ``kernelgen.kernels``, ``kernelgen.NotDifferentiableError``,
``kernelgen.KernelParseError``, ``kernelgen.InvalidKernelError`` (when it exists; until then any
``ValueError`` at construction counts as the refusal), ``kernelgen.runtime.compiled(kernel,
requests, gradient=True)`` and, of the batch, ``fill``, ``index`` and ``module.pair.py_func`` (the
generated pair function as plain Python: the exact generated text without numba compilation).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp

import kernelgen
import kernelgen.runtime as runtime
from kernelgen import Kernel, KernelParseError, NotDifferentiableError, kernels

InvalidKernelError: type[Exception] | None = getattr(kernelgen, "InvalidKernelError", None)
NotPositiveDefiniteWarning: type[Warning] | None = getattr(kernelgen, "NotPositiveDefiniteWarning", None)

#: What a refused kernel raises at construction.
REFUSALS: tuple[type[Exception], ...] = (
    (InvalidKernelError, KernelParseError) if InvalidKernelError is not None else (ValueError,)
)

Request = tuple[tuple[int, ...], tuple[int, ...]]


def build(code: str) -> tuple[Kernel, list[str]]:
    """Evaluate the reproducer text ``code``; returns the kernel and the warnings it raised."""
    namespace = {"Kernel": Kernel, "kernels": kernels, "sp": sp}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        kernel = eval(code, namespace)  # noqa: S307  (our own generated text)
    return kernel, [f"{w.category.__name__}: {w.message}" for w in caught if w.category is not RuntimeWarning]


def is_refusal(exc: BaseException) -> bool:
    return isinstance(exc, REFUSALS) and not isinstance(exc, NotDifferentiableError)


@dataclass(frozen=True)
class Claims:
    """What kernelgen states about a kernel."""

    names: tuple[str, ...]
    parameters: np.ndarray
    stationary: bool
    smoothness: float


def claims(kernel: Kernel) -> Claims:
    with warnings.catch_warnings():
        # kernelgen's own numerical probes evaluate the expression in floats and may warn
        warnings.simplefilter("ignore", RuntimeWarning)
        return Claims(tuple(kernel.all_hyperparameter_names), np.asarray(kernel.parameter_vector, dtype=np.float64),
                      bool(kernel.is_stationary), float(kernel.smoothness))


def allowed_by_rule(smoothness: float, request: Request) -> bool:
    """kernelgen's documented rule: smoothness >= 2 x the derivatives per argument."""
    return 2 * max(len(request[0]), len(request[1])) <= smoothness


def refuses(kernel: Kernel, request: Request) -> bool:
    """True if kernelgen raises NotDifferentiableError for ``request`` (cheap: checked before codegen)."""
    try:
        runtime.compiled(kernel, [request], gradient=False)
    except NotDifferentiableError:
        return True
    return False


def forget_prepared_forms() -> None:
    """Drop kernelgen's per-expression cache of prepared forms (test hygiene, not public API).

    A case stopped by the time limit may leave a half-extended Taylor table in the cached
    ``PreparedKernel`` of its expression; the next case with the same expression (the shrinker
    retries them) must not inherit it.
    """
    try:
        from kernelgen.symbolic.prepared import PreparedKernel
    except ImportError:
        return
    cache = getattr(PreparedKernel, "_cache", None)
    if isinstance(cache, dict):
        cache.clear()


def refuses_at(kernel: Kernel, request: Request, x: np.ndarray, y: np.ndarray) -> bool:
    """Does the public API raise its "lose their digits" FloatingPointError for this pair (the precision
    guard of derivatives of a sine or cosine of a distance of several inputs, near x = y)?"""
    dx, dy = request
    try:
        kernel(np.asarray(x, dtype=float)[None], np.asarray(y, dtype=float)[None], dx=dx, dy=dy)
    except FloatingPointError as exc:
        return "lose their digits" in str(exc)
    return False


class Evaluation:
    """Compiled batches: ``with_gradients`` requests with every log-hyperparameter gradient, ``plain`` without."""

    def __init__(self, kernel: Kernel, with_gradients: Sequence[Request], plain: Sequence[Request] = ()) -> None:
        self.kernel = kernel
        self.params = np.ascontiguousarray(kernel.parameter_vector, dtype=np.float64)
        names = list(kernel.all_hyperparameter_names)
        self.batches = []
        self.slots: dict[tuple[object, ...], tuple[int, int]] = {}
        for requests, gradient in ((list(with_gradients), True), (list(plain), False)):
            if not requests:
                continue
            batch = runtime.compiled(kernel, requests, gradient=gradient)
            k = len(self.batches)
            self.batches.append(batch)
            for dx, dy in requests:
                for p in [None, *names] if gradient else [None]:
                    self.slots[(dx, dy, p)] = (k, batch.index(dx, dy, p))
        self.sizes = [1 + max(s for b, s in self.slots.values() if b == k) for k in range(len(self.batches))]

    def pair(self, x: np.ndarray, y: np.ndarray) -> tuple[dict[tuple[object, ...], float], str]:
        """Every output at one pair through the generated Python text; NaN and a note if it raised."""
        x = np.ascontiguousarray(x, dtype=np.float64)
        y = np.ascontiguousarray(y, dtype=np.float64)
        rows, notes = [], []
        for batch, size in zip(self.batches, self.sizes):
            out = np.full(size, np.nan)
            try:
                # NumPy scalars warn where numba's error_model="numpy" is silent; the values are checked.
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    batch.module.pair.py_func(x, y, self.params, out)
            except (ArithmeticError, ValueError, TypeError) as exc:
                # Python's math raises where numba's error_model="numpy" gives inf/nan for one output
                # and carries on: the compiled pair function is the one users run.
                out[:] = np.nan
                batch.module.pair(x, y, self.params, out)
                notes.append(f"the generated Python raised {type(exc).__name__}: {exc}; values from the compiled pair")
            rows.append(out)
        return {key: float(rows[b][s]) for key, (b, s) in self.slots.items()}, "; ".join(notes)

    def fill(self, X1: np.ndarray, X2: np.ndarray) -> list[dict[tuple[object, ...], float]]:
        """Row-wise pairs through the compiled ``fill``: element ``i`` holds every output at (X1[i], X2[i])."""
        X1 = np.ascontiguousarray(X1, dtype=np.float64)
        X2 = np.ascontiguousarray(X2, dtype=np.float64)
        idx = np.arange(X1.shape[0])
        diagonals = [batch.fill(X1, X2, self.params)[idx, idx, :] for batch in self.batches]
        return [{key: float(diagonals[b][i, s]) for key, (b, s) in self.slots.items()} for i in idx]
