"""JAX bridge: kernelgen kernels as jittable pair functions and tinygp kernels (extra ``jax``).

* :func:`kernel_fn` -- ``k(x, y, params)`` for one derivative request, from generated jax.numpy
  code (``jit``, ``vmap`` and ``grad`` compatible; exact limits at x = x').
* :class:`TinygpKernel` -- a ``tinygp.kernels.Kernel`` for values and, with ``derivs``, derivative
  observations: inputs are ``(x, index)`` pairs, ``index`` picking the derivative in ``derivs``
  (the layout of tinygp's derivative tutorial).

Use float64 (``jax.config.update("jax_enable_x64", True)``): JAX computes in float32 otherwise.
Importing this package imports jax; tinygp is imported on first use of :class:`TinygpKernel`.
``import kernelgen`` imports neither.
"""

from __future__ import annotations

import importlib
from typing import Any

from .functions import kernel_fn

__all__ = ["TinygpKernel", "kernel_fn"]


def __getattr__(name: str) -> Any:
    # tinygp (and equinox) load only for TinygpKernel: kernel_fn needs jax alone.
    if name == "TinygpKernel":
        value = importlib.import_module(".tinygp_kernel", __name__).TinygpKernel
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
