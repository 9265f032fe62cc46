"""The JAX backend: jax.numpy over broadcast pairs; jit, vmap and grad compatible (no Python branches)."""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp

from .array import ArrayPrinter
from .config import BackendConfig


def print_jax(expr: sp.Expr, names: Mapping[sp.Symbol, str], growth: object = None) -> str:
    """Array spelling of ``expr``; ``growth`` is accepted for the common signature and unused."""
    return ArrayPrinter(names, "jnp").doprint(expr)


JAX = BackendConfig(
    name="jax",
    template="array.py.jinja",
    template_files=("array.py.jinja", "constants.py.jinja", "blocks.jinja"),
    printer=print_jax,
    context={"xp": "jnp", "imports": "import jax.numpy as jnp"},
)
