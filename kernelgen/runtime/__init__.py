"""Loading generated modules and calling them safely; registers the evaluator behind ``k(X)``.

``compiled(kernel, requests, gradient)`` returns a :class:`CompiledBatch` (one generated module);
``as_points`` validates arrays; ``blas_threads_for`` / ``numba_threads_for`` set thread counts.
"""

from __future__ import annotations

from ..symbolic.evaluation import register_evaluator
from . import compiling
from .batch import CompiledBatch, compiled, compiled_spec
from .evaluation import KernelEvaluator
from .inputs import as_points
from .loading import load, module_info
from .threads import SERIAL_PAIRS, SMALL_PROBLEM, blas_threads_for, numba_threads_for

__all__ = [
    "SERIAL_PAIRS", "SMALL_PROBLEM", "CompiledBatch", "KernelEvaluator", "as_points", "blas_threads_for",
    "compiled", "compiled_spec", "load", "module_info", "numba_threads_for",
]

register_evaluator(KernelEvaluator())
compiling.install()  # slow numba compilations of generated code report progress
