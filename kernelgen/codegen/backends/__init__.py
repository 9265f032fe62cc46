"""Code-generation backends: one printer + templates + this small config per target engine.

Every backend renders the same :class:`~kernelgen.codegen.ir.GeneratedModule` (the IR is
printed strings, so a backend only chooses how expressions are spelled and which templates lay
them out). Hashing, checksums, file naming and atomic writes are shared (``render`` / ``store``):
the backend's name and its templates' hash are part of every non-numba module's identity.

Backends: ``numba`` (the committed built-ins; unchanged), ``torch`` and ``jax`` (array code that
broadcasts over pairs, differentiable by autograd / ``jax.grad``), ``keops`` (pykeops
``LazyTensor`` formulas for reductions that never form the matrix).
"""

from __future__ import annotations

from .config import BackendConfig
from .jax import JAX
from .keops import KEOPS
from .numba import NUMBA
from .torch import TORCH

__all__ = ["BACKENDS", "BackendConfig", "backend"]


BACKENDS: dict[str, BackendConfig] = {b.name: b for b in (NUMBA, TORCH, JAX, KEOPS)}


def backend(name: str | BackendConfig) -> BackendConfig:
    """The config for ``name`` (``"numba"``, ``"torch"``, ``"jax"`` or ``"keops"``)."""
    if isinstance(name, BackendConfig):
        return name
    try:
        return BACKENDS[name]
    except KeyError:
        raise ValueError(f"backend must be one of {sorted(BACKENDS)}, got {name!r}") from None
