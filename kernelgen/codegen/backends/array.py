"""Printer shared by the array backends (torch, jax): whole-array functions under a module prefix.

The expressions are the numba ones (same literals, same small-power products, same CSE); only
function names change, and constructs that would need Python control flow on values are refused
(the templates express branches with ``where``).
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp

from ..printing import NumbaPrinter

__all__ = ["ArrayPrinter", "array_functions"]

#: SymPy function -> attribute of the array module (the same name in torch and jax.numpy).
_FUNCTIONS = {
    "exp": "exp", "expm1": "expm1", "log": "log", "log1p": "log1p", "log2": "log2", "log10": "log10",
    "sin": "sin", "cos": "cos", "tan": "tan", "sinh": "sinh", "cosh": "cosh", "tanh": "tanh",
    "asin": "arcsin", "acos": "arccos", "atan": "arctan", "asinh": "arcsinh", "acosh": "arccosh",
    "atanh": "arctanh", "atan2": "arctan2", "floor": "floor", "ceiling": "ceil", "Abs": "abs",
}


def array_functions(prefix: str) -> dict[str, str]:
    return {name: f"{prefix}.{attr}" for name, attr in _FUNCTIONS.items()}


class ArrayPrinter(NumbaPrinter):
    """Prints one expression for element-wise array code in module ``prefix`` (``torch``, ``jnp``)."""

    language = "Python (array)"

    def __init__(self, names: Mapping[sp.Symbol, str], prefix: str) -> None:
        super().__init__(names, user_functions=array_functions(prefix))  # products printed plain: no damping
        # Functions without an array spelling raise instead of printing math.<f>(array).
        self.known_functions = {k: v for k, v in self.known_functions.items() if k in _FUNCTIONS}
        self.prefix = prefix
        self.sqrt_function = f"{prefix}.sqrt"

    def _print_sign(self, expr: sp.Expr) -> str:
        return f"{self.prefix}.sign({self._print(expr.args[0])})"

    def _print_Piecewise(self, expr: sp.Expr) -> str:
        raise ValueError("Piecewise in a kernel derivative has no array-backend spelling")

    def _print_known_func(self, expr: sp.Expr) -> str:
        name = type(expr).__name__
        if name not in self.known_functions:
            raise ValueError(f"function {name} has no spelling in the {self.prefix} backend")
        return super()._print_known_func(expr)
