"""``kernel_fn``: a jittable pair function over a generated jax.numpy module (needs jax only)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp

from ..runtime.engines import EngineModule, engine_module
from ..symbolic.kernel import Kernel
from ..symbolic.request import Output, Request

__all__ = ["check_kernel", "jax_module", "kernel_fn"]


def check_kernel(kernel: object) -> Kernel:
    if not isinstance(kernel, Kernel):
        raise ValueError(f"kernel must be a kernelgen Kernel, got {type(kernel).__name__}")
    return kernel


def _param_list(kernel: Kernel, params: Any) -> list[Any]:
    """Parameter values in kernel order from a mapping by name or a sequence/array in that order."""
    names = kernel.all_hyperparameter_names
    if isinstance(params, Mapping):
        missing = [n for n in names if n not in params]
        if missing:
            raise ValueError(f"params is missing hyperparameters {missing} (the kernel has {list(names)})")
        return [params[n] for n in names]
    values = jnp.asarray(params)
    if values.shape[:1] != (len(names),):
        raise ValueError(f"params must hold {len(names)} values in the order {list(names)}, got shape {values.shape}")
    return [values[i] for i in range(len(names))]


def jax_module(kernel: Kernel, requests: Sequence[Request]) -> EngineModule:
    return engine_module(kernel, list(dict.fromkeys(requests)), False, "jax")


def kernel_fn(kernel: Kernel, dx: Sequence[int] = (), dy: Sequence[int] = ()) -> Callable[[Any, Any, Any], jax.Array]:
    r"""A jittable pair function :math:`\partial^{dx}_x \partial^{dy}_y k(x, y)`.

    Parameters
    ----------
    kernel : kernelgen.Kernel
    dx, dy : tuple of int
        Derivative indices in the first and second argument (``()``: the kernel itself).

    Returns
    -------
    callable
        ``k(x, y, params)``: ``x``, ``y`` arrays of shape ``(..., d)`` broadcasting against each
        other (single points give a scalar); ``params`` a mapping by hyperparameter name or an
        array in ``kernel.all_hyperparameter_names`` order. Differentiable in all three arguments;
        at x = y the exact limit is selected with ``where`` (no NaN in values or gradients).
    """
    kernel = check_kernel(kernel)
    request = Request.make(dx, dy, kernel.dim)
    module = jax_module(kernel, [request])
    position = module.position(Output(request))
    dim = kernel.dim

    def k(x: Any, y: Any, params: Any) -> jax.Array:
        x, y = jnp.asarray(x), jnp.asarray(y)
        if x.shape[-1:] != (dim,) or y.shape[-1:] != (dim,):
            raise ValueError(f"x and y must end in the kernel's dimension {dim}, got {x.shape} and {y.shape}")
        return module(x, y, _param_list(kernel, params))[position]

    return k
