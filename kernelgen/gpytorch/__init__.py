"""GPyTorch bridge: kernelgen kernels as ``gpytorch.kernels.Kernel`` objects (extra ``gpytorch``).

* :class:`SymbolicKernel` -- the kernel k(x, x') itself, its hyperparameters registered as
  constrained raw parameters under their own names.
* :class:`SymbolicKernelGrad` -- the joint covariance of f and any list of its derivatives in
  GPyTorch's point-major layout (``num_outputs_per_input``), a drop-in for ``RBFKernelGrad`` and
  ``Matern52KernelGrad`` for any kernel whose derivatives exist.

Both evaluate generated torch code (autograd gives the hyperparameter gradients) and take
``backend="keops"`` for kernel matrices that do not fit in memory. Importing this package imports
torch and gpytorch; ``import kernelgen`` does not.
"""

from __future__ import annotations

from .kernels import SymbolicKernel, SymbolicKernelGrad

__all__ = ["SymbolicKernel", "SymbolicKernelGrad"]
