"""kernelgen: symbolic Gaussian-process kernels with generated numba code for any derivative.

Importing the package is cheap: every public name below is imported on first use (PEP 562), so
``import kernelgen`` loads neither SymPy's kernels nor scikit-learn, SciPy's optimizers,
matplotlib or a bridge. ``k(X)`` on a :class:`Kernel` loads :mod:`kernelgen.runtime` on its first
call (the symbolic layer only holds a hook for it).
"""

from __future__ import annotations

import importlib
from typing import Any

from ._version import __version__
from .symbolic.evaluation import register_evaluator_loader

#: public name -> module that defines it
_EXPORTS = {
    "GaussianProcess": "kernelgen.gp",
    "Hyperparameter": "kernelgen.symbolic.hyperparameters",
    "Kernel": "kernelgen.symbolic.kernel",
    "InvalidKernelError": "kernelgen.symbolic.errors",
    "KernelParseError": "kernelgen.symbolic.errors",
    "NotDifferentiableError": "kernelgen.symbolic.errors",
    "NotPositiveDefiniteWarning": "kernelgen.symbolic.errors",
}
#: submodules reachable as attributes (``kernelgen.kernels.rbf``, ``kernelgen.verify.sklearn_kernel``)
_SUBMODULES = (
    "cli", "codegen", "demo", "gp", "kernels", "posterior", "progress", "runtime", "sklearn", "symbolic", "verify",
)

__all__ = [
    "GaussianProcess", "Hyperparameter", "InvalidKernelError", "Kernel", "KernelParseError",
    "NotDifferentiableError", "NotPositiveDefiniteWarning", "__version__", "kernels",
]

# k(X) needs compiled code: the runtime registers its evaluator when it is imported.
register_evaluator_loader(lambda: importlib.import_module("kernelgen.runtime"))


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"kernelgen.{name}")
    else:
        raise AttributeError(f"module 'kernelgen' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS) | set(_SUBMODULES))
