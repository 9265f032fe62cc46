"""KeOps-backed kernel operators: the matrix as a formula, multiplied in O(n) memory.

The value kernel is GPyTorch's ``KernelLinearOperator`` around a ``covar_func`` that returns a
pykeops ``LazyTensor`` for large inputs and dense torch for small ones (diagonals, single
entries), as GPyTorch's own KeOps kernels do. The derivative kernel multiplies block-wise: for each
pair of points one formula evaluates all q x q outputs and contracts them with the q entries of
the right-hand side at that point, so the cost per pair is one evaluation of the outputs, and the
(n q, m q) matrix is never formed. Hyperparameter gradients come from KeOps' autograd.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from gpytorch import settings
from linear_operator.operators import KernelLinearOperator
from pykeops.torch import LazyTensor

from ..runtime.engines import EngineModule, engine_module
from ..symbolic.request import Request

if TYPE_CHECKING:
    from .kernels import SymbolicKernel, SymbolicKernelGrad

__all__ = ["keops_grad_operator", "keops_value_operator", "use_keops"]


def use_keops(x1: torch.Tensor, x2: torch.Tensor) -> bool:
    """GPyTorch's rule: KeOps is on and both sides have at least ``max_cholesky_size`` points."""
    size = settings.max_cholesky_size.value()
    return settings.use_keops.on() and x1.size(-2) >= size and x2.size(-2) >= size


def _check_unbatched(x1: torch.Tensor, x2: torch.Tensor, params: dict[str, torch.Tensor]) -> None:
    if x1.dim() != 2 or x2.dim() != 2 or any(p.numel() != 1 for p in params.values()):
        raise ValueError("the keops backend takes unbatched inputs (n, d) and scalar hyperparameters")


def _lazy_params(params: dict[str, torch.Tensor], names: tuple[str, ...]) -> list[LazyTensor]:
    return [LazyTensor(params[n].reshape(1).contiguous()) for n in names]


def _dense_params(params: dict[str, torch.Tensor], names: tuple[str, ...]) -> list[torch.Tensor]:
    return [params[n] for n in names]


def _value_covar(x1: torch.Tensor, x2: torch.Tensor, *, dense: EngineModule, formula: EngineModule,
                 names: tuple[str, ...], **params: torch.Tensor) -> Any:
    if use_keops(x1, x2):
        _check_unbatched(x1, x2, params)
        x_i, y_j = LazyTensor(x1[:, None, :].contiguous()), LazyTensor(x2[None, :, :].contiguous())
        return formula(x_i, y_j, _lazy_params(params, names))[0]
    return dense(x1[..., :, None, :], x2[..., None, :, :], _dense_params(params, names))[0]


def _tensor_params(kernel: SymbolicKernel | SymbolicKernelGrad) -> dict[str, torch.Tensor]:
    # Two trailing singleton dimensions: KernelLinearOperator's default non-batch layout.
    return dict(zip(kernel._hp_names, kernel._params(2)))


def keops_value_operator(kernel: SymbolicKernel, x1: torch.Tensor, x2: torch.Tensor) -> KernelLinearOperator:
    """K(x1, x2) as a KeOps-backed ``KernelLinearOperator``."""
    symbolic = kernel.symbolic
    formula = engine_module(symbolic, [Request()], False, "keops")
    return KernelLinearOperator(x1, x2, covar_func=_value_covar, dense=kernel._module, formula=formula,
                                names=kernel._hp_names, **_tensor_params(kernel))


def _grad_covar(x1: torch.Tensor, x2: torch.Tensor, *, owner: SymbolicKernelGrad,
                **params: torch.Tensor) -> torch.Tensor:
    # Dense path only: diagonals and selected entries of the operator below.
    return owner.joint(owner._module(x1[..., :, None, :], x2[..., None, :, :], _dense_params(params, owner._hp_names)))


class SymbolicGradOperator(KernelLinearOperator):
    """The (n q, m q) point-major joint covariance; ``_matmul`` runs a KeOps reduction for large inputs."""

    def _matmul(self, rhs: torch.Tensor) -> torch.Tensor:
        if not use_keops(self.x1, self.x2):
            return super()._matmul(rhs)
        owner: SymbolicKernelGrad = self.nontensor_params["owner"]
        _check_unbatched(self.x1, self.x2, self.tensor_params)
        q = len(owner.derivs)
        vector = rhs.dim() == 1
        columns = rhs.reshape(self.x2.shape[0], q, -1)
        formula = engine_module(owner.symbolic, list(dict.fromkeys(
            Request(a, b) for a in owner.derivs for b in owner.derivs)), False, "keops")
        table = formula.table(owner.derivs, owner.derivs)
        x_i = LazyTensor(self.x1[:, None, :].contiguous())
        y_j = LazyTensor(self.x2[None, :, :].contiguous())
        outs = formula(x_i, y_j, _lazy_params(self.tensor_params, owner._hp_names))
        results = []
        for c in range(columns.shape[-1]):
            v_j = LazyTensor(columns[None, :, :, c].contiguous())  # (1, m, q): the q entries at point j
            rows = [sum(outs[table[a][b]] * v_j[b] for b in range(q)) for a in range(q)]
            block = rows[0] if q == 1 else LazyTensor.concatenate(tuple(rows), -1)
            results.append(block.sum(dim=1))  # (n, q)
        out = torch.stack(results, dim=-1).reshape(self.x1.shape[0] * q, -1)
        return out.reshape(-1) if vector else out


def keops_grad_operator(kernel: SymbolicKernelGrad, x1: torch.Tensor, x2: torch.Tensor) -> SymbolicGradOperator:
    """The joint covariance of ``kernel.derivs`` as a KeOps-backed operator."""
    q = len(kernel.derivs)
    return SymbolicGradOperator(x1, x2, covar_func=_grad_covar, num_outputs_per_input=(q, q), owner=kernel,
                                **_tensor_params(kernel))
