"""A strict SymPy printer for scalar numba code: float literals, multiplications for small powers."""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

#: Integer powers up to this size are written as repeated multiplication (exact, no pow call).
MAX_MULTIPLY_POWER = 8


class NumbaPrinter(PythonCodePrinter):
    """Prints expressions for ``@njit`` functions; unsupported nodes raise instead of emitting junk."""

    printmethod = "_numbacode"
    language = "Python (numba)"
    #: How a square root is spelled (array backends override it).
    sqrt_function = "math.sqrt"

    def __init__(self, names: Mapping[sp.Symbol, str], user_functions: Mapping[str, str] | None = None) -> None:
        settings: dict[str, object] = {"strict": True, "fully_qualified_modules": True, "standard": "python3"}
        if user_functions:
            settings["user_functions"] = dict(user_functions)
        super().__init__(settings)
        self._names = dict(names)

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        try:
            return self._names[expr]
        except KeyError:
            raise ValueError(f"symbol {expr} has no name in the generated code") from None

    def _float(self, expr: sp.Expr) -> str:
        value = float(sp.N(expr, 30))
        text = repr(value)
        return f"({text})" if value < 0 else text

    def _print_Integer(self, expr: sp.Integer) -> str:
        return self._float(expr)

    _print_Rational = _print_Integer
    _print_Float = _print_Integer
    _print_NumberSymbol = _print_Integer
    _print_Exp1 = _print_Integer
    _print_Pi = _print_Integer

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        base, exp = expr.as_base_exp()
        if base.is_number and exp.is_number:
            return self._float(expr)
        if exp.is_Integer and 0 < abs(int(exp)) <= MAX_MULTIPLY_POWER:
            b = self.parenthesize(base, sp.printing.precedence.PRECEDENCE["Mul"] + 1)
            product = "*".join([b] * abs(int(exp)))
            if abs(int(exp)) == 1:
                return product if exp > 0 else f"(1.0/{product})"
            # Parenthesized: the Mul printer puts this after '/' when it is a denominator.
            return f"({product})" if exp > 0 else f"(1.0/({product}))"
        if exp == sp.Rational(1, 2):
            return f"{self.sqrt_function}({self._print(base)})"
        if exp == -sp.Rational(1, 2):
            return f"1.0/{self.sqrt_function}({self._print(base)})"
        b = self.parenthesize(base, sp.printing.precedence.PRECEDENCE["Pow"] + 1)
        e = self.parenthesize(exp, sp.printing.precedence.PRECEDENCE["Pow"] + 1)
        return f"{b}**{e}"

    def _print_DiracDelta(self, expr: sp.Expr) -> str:
        raise ValueError("DiracDelta in a kernel derivative: the kernel is not differentiable there")

    _print_Heaviside = _print_DiracDelta

    def _print_log1p_ratio(self, expr: sp.Expr) -> str:
        return f"_log1p_ratio({self._print(expr.args[0])})"

    def _print_sign(self, expr: sp.Expr) -> str:
        arg = self._print(expr.args[0])
        return f"(0.0 if {arg} == 0.0 else math.copysign(1.0, {arg}))"


def print_expr(expr: sp.Expr, names: Mapping[sp.Symbol, str]) -> str:
    return NumbaPrinter(names).doprint(expr)
