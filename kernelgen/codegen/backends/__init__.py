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

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import sympy as sp

__all__ = ["BACKENDS", "BackendConfig", "backend"]


@dataclass(frozen=True)
class BackendConfig:
    """How one engine's modules are printed, laid out and named.

    Parameters
    ----------
    name : str
        Engine name; part of the module name and of the cache key (except for numba, whose names
        predate backends and stay as they are).
    template : str
        The entry template rendered for a module.
    template_files : tuple of str
        Every template the entry template uses: their bytes are hashed into the key and header.
    printer : callable
        ``printer(expr, names) -> str`` for one expression.
    context : mapping
        Extra template variables (module prefixes and the like).
    """

    name: str
    template: str
    template_files: tuple[str, ...]
    printer: Callable[[sp.Expr, Mapping[sp.Symbol, str]], str]
    context: Mapping[str, str] = field(default_factory=dict)

    @property
    def tagged(self) -> bool:
        """Whether module names and keys carry the backend name (every backend but numba)."""
        return self.name != "numba"


def _registry() -> dict[str, BackendConfig]:
    from .jax import JAX
    from .keops import KEOPS
    from .numba import NUMBA
    from .torch import TORCH

    return {b.name: b for b in (NUMBA, TORCH, JAX, KEOPS)}


BACKENDS: dict[str, BackendConfig] = _registry()


def backend(name: str | BackendConfig) -> BackendConfig:
    """The config for ``name`` (``"numba"``, ``"torch"``, ``"jax"`` or ``"keops"``)."""
    if isinstance(name, BackendConfig):
        return name
    try:
        return BACKENDS[name]
    except KeyError:
        raise ValueError(f"backend must be one of {sorted(BACKENDS)}, got {name!r}") from None
