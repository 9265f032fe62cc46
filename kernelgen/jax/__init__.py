"""JAX bridge: kernelgen kernels as jittable pair functions and tinygp kernels (extra ``jax``).

* :func:`kernel_fn` -- ``k(x, y, params)`` for one derivative request, from generated jax.numpy
  code (``jit``, ``vmap`` and ``grad`` compatible; exact limits at x = x').
* :class:`TinygpKernel` -- a ``tinygp.kernels.Kernel`` for values and, with ``derivs``, derivative
  observations: inputs are ``(x, index)`` pairs, ``index`` picking the derivative in ``derivs``
  (the layout of tinygp's derivative tutorial).

Use float64 (``jax.config.update("jax_enable_x64", True)``): JAX computes in float32 otherwise.
Importing this package imports jax (and tinygp for :class:`TinygpKernel`); ``import kernelgen``
does not.
"""

from __future__ import annotations

from .kernels import TinygpKernel, kernel_fn

__all__ = ["TinygpKernel", "kernel_fn"]
