"""``kernel_fn`` and ``TinygpKernel`` over the generated jax.numpy modules."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import tinygp

from ..runtime.engines import EngineModule, engine_module, joint_requests
from ..symbolic.kernel import Kernel
from ..symbolic.request import Output, Request, multi_index

__all__ = ["TinygpKernel", "kernel_fn"]


def _check_kernel(kernel: object) -> Kernel:
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


def _module(kernel: Kernel, requests: Sequence[Request]) -> EngineModule:
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
    kernel = _check_kernel(kernel)
    request = Request.make(dx, dy, kernel.dim)
    module = _module(kernel, [request])
    position = module.position(Output(request))
    dim = kernel.dim

    def k(x: Any, y: Any, params: Any) -> jax.Array:
        x, y = jnp.asarray(x), jnp.asarray(y)
        if x.shape[-1:] != (dim,) or y.shape[-1:] != (dim,):
            raise ValueError(f"x and y must end in the kernel's dimension {dim}, got {x.shape} and {y.shape}")
        return module(x, y, _param_list(kernel, params))[position]

    return k


class TinygpKernel(tinygp.kernels.Kernel):
    r"""A kernelgen kernel as a ``tinygp`` kernel, for values or derivative observations.

    Parameters
    ----------
    kernel : kernelgen.Kernel
    derivs : sequence of tuple of int, optional
        Without it, inputs are points (``(n, d)``, or ``(n,)`` for a 1-D kernel). With it, inputs
        are tagged: ``X = (x, index)`` with ``x`` of shape ``(n, d)`` and ``index`` integers into
        ``derivs``; the covariance of two inputs is ``d^a/dx d^b/dy k`` for their derivatives
        ``a = derivs[index1]``, ``b = derivs[index2]``.
    params : array, optional
        Hyperparameter values in ``kernel.all_hyperparameter_names`` order (default: the
        kernel's values). A JAX array field: ``jax.grad`` of a tinygp log-likelihood with respect
        to it is the hyperparameter gradient.
    """

    params: jax.Array
    symbolic: Kernel = eqx.field(static=True)
    derivs: tuple[tuple[int, ...], ...] | None = eqx.field(static=True)
    _module: EngineModule = eqx.field(static=True)
    _table: tuple[tuple[int, ...], ...] = eqx.field(static=True)

    def __init__(self, kernel: Kernel, derivs: Sequence[Sequence[int]] | None = None, params: Any = None) -> None:
        kernel = _check_kernel(kernel)
        self.symbolic = kernel
        if derivs is None:
            self.derivs = None
            typed: tuple[tuple[int, ...], ...] = ((),)
        else:
            typed = tuple(multi_index(d, kernel.dim, f"derivs[{i}]") for i, d in enumerate(derivs))
            if not typed:
                raise ValueError("derivs must name at least one derivative")
            self.derivs = typed
        self._module = _module(kernel, joint_requests(typed, typed))
        self._table = tuple(tuple(row) for row in self._module.table(typed, typed))
        values = kernel.parameter_vector if params is None else params
        self.params = jnp.asarray(values, dtype=jnp.result_type(float))
        if self.params.shape != (len(kernel.all_hyperparameter_names),):
            raise ValueError(f"params must hold {len(kernel.all_hyperparameter_names)} values, got {self.params.shape}")

    def _point(self, x: jax.Array) -> jax.Array:
        return jnp.atleast_1d(jnp.asarray(x))

    def evaluate(self, X1: Any, X2: Any) -> jax.Array:
        p = [self.params[i] for i in range(self.params.shape[0])]
        if self.derivs is None:
            return self._module(self._point(X1), self._point(X2), p)[self._table[0][0]]
        (x1, i1), (x2, i2) = X1, X2
        outs = jnp.stack(self._module(self._point(x1), self._point(x2), p))
        return outs[jnp.asarray(self._table)[i1, i2]]
