"""``SymbolicKernel`` and ``SymbolicKernelGrad``: generated torch code behind GPyTorch's Kernel API."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from gpytorch.constraints import Interval, Positive
from gpytorch.kernels import Kernel as GPyTorchKernel

from ..runtime.engines import EngineModule, engine_module, joint_requests
from ..symbolic.hyperparameters import DEFAULT_BOUNDS, Hyperparameter
from ..symbolic.kernel import Kernel
from ..symbolic.request import Request, multi_index

__all__ = ["SymbolicKernel", "SymbolicKernelGrad"]

_BACKENDS = ("torch", "keops")


def _constraint(hp: Hyperparameter) -> Positive | Interval:
    """Positive for the default (search-box) bounds, the interval for bounds a user chose."""
    if hp.bounds == DEFAULT_BOUNDS:
        return Positive()
    low, high = hp.bounds
    if not low < hp.value < high:
        raise ValueError(
            f"hyperparameter {hp.name!r}: value {hp.value} must lie strictly inside its bounds {hp.bounds} "
            "to become an Interval-constrained GPyTorch parameter")
    return Interval(low, high)


class _SymbolicBase(GPyTorchKernel):
    """Hyperparameters as raw parameters (``raw_<name>``) with constraints; values as attributes."""

    def __init__(self, kernel: Kernel, backend: str = "torch", **kwargs: Any) -> None:
        if not isinstance(kernel, Kernel):
            raise ValueError(f"kernel must be a kernelgen Kernel, got {type(kernel).__name__}")
        if backend not in _BACKENDS:
            raise ValueError(f"backend must be one of {_BACKENDS}, got {backend!r}")
        super().__init__(**kwargs)
        self.symbolic = kernel
        self.backend = backend
        self._hp_names = kernel.all_hyperparameter_names
        for hp in kernel.hyperparameters:
            constraint = _constraint(hp)
            raw = constraint.inverse_transform(torch.full(self.batch_shape, hp.value, dtype=torch.get_default_dtype()))
            self.register_parameter(f"raw_{hp.name}", torch.nn.Parameter(raw, requires_grad=not hp.fixed))
            self.register_constraint(f"raw_{hp.name}", constraint)

    # Hyperparameter values read and written by name (``k.length_scale``, ``initialize(length_scale=...)``).
    def __getattr__(self, name: str) -> Any:
        names = self.__dict__.get("_hp_names", ())
        if name in names:
            constraint = getattr(self, f"raw_{name}_constraint")
            return constraint.transform(getattr(self, f"raw_{name}"))
        return super().__getattr__(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self.__dict__.get("_hp_names", ()):
            raw = getattr(self, f"raw_{name}")
            value = torch.as_tensor(value, dtype=raw.dtype, device=raw.device).expand_as(raw)
            constraint = getattr(self, f"raw_{name}_constraint")
            self.initialize(**{f"raw_{name}": constraint.inverse_transform(value)})
            return
        super().__setattr__(name, value)

    def parameter_values(self) -> list[torch.Tensor]:
        """Current hyperparameter values, kernel order, each of shape ``batch_shape``."""
        return [getattr(self, name) for name in self._hp_names]

    def to_kernel(self) -> Kernel:
        """The kernelgen :class:`~kernelgen.Kernel` at the current values (no batch shape only)."""
        if self.batch_shape != torch.Size():
            raise ValueError("to_kernel needs a kernel without batch_shape")
        values = self.parameter_values()
        return self.symbolic.with_values(**{n: float(v.detach()) for n, v in zip(self._hp_names, values)})

    def _params(self, trailing: int) -> list[torch.Tensor]:
        """Values shaped ``batch_shape + (1,) * trailing`` so they broadcast against pair arrays."""
        shape = (*self.batch_shape, *([1] * trailing))
        return [v.reshape(shape) for v in self.parameter_values()]

    def _inputs(self, x1: torch.Tensor, x2: torch.Tensor, last_dim_is_batch: bool) -> tuple[torch.Tensor, torch.Tensor]:
        if last_dim_is_batch:
            if self.symbolic.dim != 1:
                raise ValueError("last_dim_is_batch needs a 1-D kernel (each input dimension becomes a batch)")
            x1, x2 = x1.transpose(-1, -2).unsqueeze(-1), x2.transpose(-1, -2).unsqueeze(-1)
        for name, x in (("x1", x1), ("x2", x2)):
            if x.shape[-1] != self.symbolic.dim:
                raise ValueError(f"{name} has {x.shape[-1]} features; the kernel has dimension {self.symbolic.dim}")
        return x1, x2


class SymbolicKernel(_SymbolicBase):
    r"""A kernelgen kernel :math:`k(x, x')` as a GPyTorch kernel.

    Parameters
    ----------
    kernel : kernelgen.Kernel
        Its hyperparameters become raw parameters ``raw_<name>`` with a ``Positive`` constraint
        (an ``Interval`` for bounds other than the default search box); fixed hyperparameters do
        not require gradients. ``module.<name>`` reads and sets the constrained value.
    backend : {"torch", "keops"}, default="torch"
        ``"keops"`` returns a KeOps-backed operator (O(n) memory) when both inputs have at least
        ``gpytorch.settings.max_cholesky_size`` points and ``gpytorch.settings.use_keops`` is on,
        as GPyTorch's own KeOps kernels do; dense torch otherwise.
    **kwargs
        ``batch_shape``, ``active_dims``, ... as for any GPyTorch kernel.

    Notes
    -----
    The values come from generated torch code with the exact limits at x = x'; autograd
    gradients with respect to the hyperparameters equal kernelgen's symbolic ones.
    """

    def __init__(self, kernel: Kernel, backend: str = "torch", **kwargs: Any) -> None:
        super().__init__(kernel, backend, **kwargs)
        self._module: EngineModule = engine_module(kernel, [Request()], False, "torch")

    def forward(self, x1: torch.Tensor, x2: torch.Tensor, diag: bool = False, last_dim_is_batch: bool = False,
                **params: Any) -> Any:
        x1, x2 = self._inputs(x1, x2, last_dim_is_batch)
        extra = 1 if last_dim_is_batch else 0
        if diag:
            return self._module(x1, x2, self._params(1 + extra))[0]
        if self.backend == "keops":
            from .keops import keops_value_operator, use_keops

            if use_keops(x1, x2):
                return keops_value_operator(self, x1, x2)
        return self._module(x1[..., :, None, :], x2[..., None, :, :], self._params(2 + extra))[0]


class SymbolicKernelGrad(_SymbolicBase):
    r"""Joint covariance of f and its derivatives, point-major, for derivative observations.

    Parameters
    ----------
    kernel : kernelgen.Kernel
    derivs : sequence of tuple of int, optional
        The derivatives observed at every input, ``q`` of them: ``()`` is f, ``(i,)`` is
        :math:`\partial f / \partial x_i`, ``(0, 0)`` a second derivative. Default: f and all first
        partials, ``[(), (0,), ..., (d-1,)]`` -- GPyTorch's ``RBFKernelGrad`` layout.
    backend : {"torch", "keops"}, default="torch"
        As for :class:`SymbolicKernel`; the KeOps operator multiplies without forming the matrix.
    **kwargs
        ``batch_shape``, ``active_dims``, ...

    Notes
    -----
    ``forward(x1, x2)`` has shape ``(..., n*q, m*q)`` with row ``i*q + a`` = ``derivs[a]`` at
    ``x1[i]``: entry ``cov(d^a f(x1_i), d^b f(x2_j))`` = ``d^a/dx d^b/dy k``. Use it with a
    ``MultitaskMultivariateNormal`` of ``q`` tasks (``num_outputs_per_input`` is ``q``). With
    ``diag=True`` the result is the diagonal of that matrix for the pairs ``(x1_i, x2_i)``.
    """

    def __init__(self, kernel: Kernel, derivs: Sequence[Sequence[int]] | None = None, backend: str = "torch",
                 **kwargs: Any) -> None:
        super().__init__(kernel, backend, **kwargs)
        if derivs is None:
            derivs = [(), *((i,) for i in range(kernel.dim))]
        typed = tuple(multi_index(d, kernel.dim, f"derivs[{k}]") for k, d in enumerate(derivs))
        if not typed:
            raise ValueError("derivs must name at least one derivative")
        if len(set(typed)) != len(typed):
            raise ValueError(f"derivs has a repeated derivative: {list(derivs)!r}")
        self.derivs: tuple[tuple[int, ...], ...] = typed
        self._module = engine_module(kernel, joint_requests(typed, typed), False, "torch")
        self._table = self._module.table(typed, typed)

    def num_outputs_per_input(self, x1: torch.Tensor, x2: torch.Tensor) -> int:
        return len(self.derivs)

    def joint(self, outs: Sequence[torch.Tensor]) -> torch.Tensor:
        """Point-major ``(..., n*q, m*q)`` from the module's outputs for pairs of shape ``(..., n, m)``."""
        q = len(self.derivs)
        blocks = torch.stack([outs[k] for row in self._table for k in row], dim=-1)
        *batch, n, m, _ = blocks.shape
        blocks = blocks.reshape(*batch, n, m, q, q).transpose(-3, -2)  # (..., n, q, m, q)
        return blocks.reshape(*batch, n * q, m * q)

    def forward(self, x1: torch.Tensor, x2: torch.Tensor, diag: bool = False, last_dim_is_batch: bool = False,
                **params: Any) -> Any:
        x1, x2 = self._inputs(x1, x2, last_dim_is_batch)
        extra = 1 if last_dim_is_batch else 0
        if diag:
            outs = self._module(x1, x2, self._params(1 + extra))
            values = torch.stack([outs[self._table[a][a]] for a in range(len(self.derivs))], dim=-1)
            return values.reshape(*values.shape[:-2], -1)
        if self.backend == "keops":
            from .keops import keops_grad_operator, use_keops

            if use_keops(x1, x2):
                return keops_grad_operator(self, x1, x2)
        return self.joint(self._module(x1[..., :, None, :], x2[..., None, :, :], self._params(2 + extra)))
