"""The KeOps backend: formulas on pykeops ``LazyTensor`` symbolic pairs (reductions in O(n) memory).

Functions are spelled as small helpers of the generated module (``_exp(a)`` calls ``a.exp()`` on a
LazyTensor and ``math.exp`` on a number), because LazyTensor math is methods, not module
functions; branches are KeOps ``IfElse`` selections written by the template.
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp

from ..printing import NumbaPrinter
from .config import BackendConfig

#: SymPy function -> helper defined in templates/keops.py.jinja.
_FUNCTIONS = {"exp": "_exp", "log": "_log", "sin": "_sin", "cos": "_cos", "Abs": "abs", "atan": "_atan"}


class KeOpsPrinter(NumbaPrinter):
    language = "Python (pykeops LazyTensor)"
    sqrt_function = "_sqrt"

    def __init__(self, names: Mapping[sp.Symbol, str]) -> None:
        super().__init__(names, user_functions=_FUNCTIONS)  # products printed plain: no damping
        self.known_functions = {k: v for k, v in self.known_functions.items() if k in _FUNCTIONS}

    def _print_known_func(self, expr: sp.Expr) -> str:
        name = type(expr).__name__
        if name not in self.known_functions:
            raise ValueError(f"function {name} has no spelling in the keops backend")
        return super()._print_known_func(expr)

    def _print_sign(self, expr: sp.Expr) -> str:
        return f"_sign({self._print(expr.args[0])})"

    def _print_Piecewise(self, expr: sp.Expr) -> str:
        raise ValueError("Piecewise in a kernel derivative has no keops-backend spelling")


def print_keops(expr: sp.Expr, names: Mapping[sp.Symbol, str], growth: object = None) -> str:
    """KeOps spelling of ``expr``; ``growth`` is accepted for the common signature and unused."""
    return KeOpsPrinter(names).doprint(expr)


KEOPS = BackendConfig(
    name="keops",
    template="keops.py.jinja",
    template_files=("keops.py.jinja", "constants.py.jinja", "blocks.jinja"),
    printer=print_keops,
)
