"""scikit-learn bridge: a scikit-learn kernel backed by generated code, conversion of scikit-learn
kernel trees, and derivative predictions from an already fitted ``GaussianProcessRegressor``.

Hyperparameter names
--------------------
:func:`from_sklearn` names every hyperparameter after the scikit-learn leaf parameter it comes
from, so ``gpr.kernel_.length_scale`` means what a scikit-learn user expects:

=====================================  ==============================================
scikit-learn                           :class:`SymbolicKernel` / kernelgen name
=====================================  ==============================================
``ConstantKernel.constant_value``      ``constant_value``
``RBF`` / ``Matern`` ``length_scale``  ``length_scale`` (isotropic) or ``length_scale_0``,
                                       ``length_scale_1``, ... (one per input, anisotropic)
``RationalQuadratic``                  ``alpha``, ``length_scale``
``ExpSineSquared``                     ``length_scale``, ``periodicity``
``DotProduct.sigma_0``                 ``sigma_0``
``WhiteKernel.noise_level``            ``noise_level`` (the noise term, always last in ``theta``)
=====================================  ==============================================

A name used twice gets the first free suffix ``_2``, ``_3``, ... in the order scikit-learn lists
the hyperparameters (``k1`` before ``k2``), e.g. ``C*RBF + C*RBF`` gives ``constant_value,
length_scale, constant_value_2, length_scale_2``. :func:`parameter_map` returns the exact mapping
from scikit-learn's nested names (``k1__k2__length_scale``) to these names.

Log-space convention
--------------------
As in scikit-learn, ``theta`` and ``bounds`` are natural logs of the free hyperparameters and
``eval_gradient=True`` returns ``dK/dlog(theta) = theta * dK/dtheta``.
"""

from __future__ import annotations

from ..gp import register_kernel_converter
from .adapter import NOISE_NAME, KernelFamily, SymbolicKernel
from .conversion import (
    Converted,
    UnsupportedKernelError,
    for_gaussian_process,
    from_sklearn,
    infer_dim,
    parameter_map,
    sklearn_names,
    to_kernelgen,
)
from .fitted import predict_derivative, predict_gradient, training_state

# GaussianProcess(kernel=RBF()) converts through this bridge (gp imports it by name on first need).
register_kernel_converter(for_gaussian_process)

__all__ = [
    "NOISE_NAME",
    "Converted",
    "KernelFamily",
    "SymbolicKernel",
    "UnsupportedKernelError",
    "from_sklearn",
    "infer_dim",
    "parameter_map",
    "predict_derivative",
    "predict_gradient",
    "sklearn_names",
    "to_kernelgen",
    "training_state",
]
