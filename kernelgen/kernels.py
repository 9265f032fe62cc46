"""The built-in kernels (``kernelgen.kernels.rbf`` and friends); they live in :mod:`kernelgen.symbolic.library`."""

from __future__ import annotations

from .symbolic.library import __doc__ as _library_doc
from .symbolic.library import (
    constant,
    dot_product,
    exp_sine_squared,
    linear,
    matern,
    periodic,
    polynomial,
    rational_quadratic,
    rbf,
)

__doc__ = _library_doc
__all__ = [
    "constant", "dot_product", "exp_sine_squared", "linear", "matern", "periodic", "polynomial",
    "rational_quadratic", "rbf",
]
