"""kernelgen: symbolic Gaussian-process kernels with generated numba code for any derivative."""

from __future__ import annotations

__version__ = "0.1.0"

from . import kernels  # noqa: E402
from .gp import GaussianProcess  # noqa: E402
from .symbolic.errors import (  # noqa: E402
    InvalidKernelError,
    KernelParseError,
    NotDifferentiableError,
    NotPositiveDefiniteWarning,
)
from .symbolic.hyperparameters import Hyperparameter  # noqa: E402
from .symbolic.kernel import Kernel  # noqa: E402

__all__ = [
    "GaussianProcess", "Hyperparameter", "InvalidKernelError", "Kernel", "KernelParseError",
    "NotDifferentiableError", "NotPositiveDefiniteWarning", "kernels", "__version__",
]
