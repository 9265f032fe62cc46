"""The PyTorch backend: torch ops over broadcast pairs, differentiable by autograd.

The generated module never imports torch at generation time (it is text); it imports torch when
it is loaded, which only a torch user does.
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp

from .array import ArrayPrinter
from .config import BackendConfig


def print_torch(expr: sp.Expr, names: Mapping[sp.Symbol, str], growth: object = None) -> str:
    """Array spelling of ``expr``; ``growth`` is accepted for the common signature and unused."""
    return ArrayPrinter(names, "torch").doprint(expr)


TORCH = BackendConfig(
    name="torch",
    template="array.py.jinja",
    template_files=("array.py.jinja", "constants.py.jinja", "blocks.jinja"),
    printer=print_torch,
    context={"xp": "torch", "imports": "import torch"},
)
