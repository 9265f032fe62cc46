"""``TinygpKernel``: a kernelgen kernel as a tinygp kernel (values and derivative observations)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import tinygp

from ..runtime.engines import EngineModule, joint_requests
from ..symbolic.kernel import Kernel
from ..symbolic.request import multi_index
from .functions import check_kernel, jax_module

__all__ = ["TinygpKernel"]


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
        kernel = check_kernel(kernel)
        self.symbolic = kernel
        if derivs is None:
            self.derivs = None
            typed: tuple[tuple[int, ...], ...] = ((),)
        else:
            typed = tuple(multi_index(d, kernel.dim, f"derivs[{i}]") for i, d in enumerate(derivs))
            if not typed:
                raise ValueError("derivs must name at least one derivative")
            self.derivs = typed
        self._module = jax_module(kernel, joint_requests(typed, typed))
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
