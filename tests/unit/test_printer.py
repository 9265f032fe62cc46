"""The numba printer, without numba: printed text is evaluated with Python's math and compared with
SymPy's own high-precision evaluation of the expression (``evalf``)."""

from __future__ import annotations

import math

import pytest
import sympy as sp

from kernelgen.codegen.printing import MAX_MULTIPLY_POWER, print_expr

a, b = sp.symbols("a b", positive=True)
NAMES = {a: "_a", b: "_b"}
VALUES = {a: 0.7, b: 1.9}


def _value(text: str) -> float:
    return float(eval(text, {"math": math, "_a": VALUES[a], "_b": VALUES[b]}))  # noqa: S307 (our own output)


@pytest.mark.parametrize("expr", [
    a**2 * b**3, 1 / a**3, a**-1, sp.sqrt(a + b), 1 / sp.sqrt(a), a**sp.Rational(3, 2), a**b,
    sp.exp(-a / b) * sp.cos(sp.pi * a), sp.sqrt(5) * a - sp.Rational(1, 3) / b, a**9, -(a - b) ** 2 / (2 * b**2),
    sp.log(1 + a) * sp.tanh(b), sp.sign(a - b) * abs(a - b), sp.E**a,
])
def test_printed_code_evaluates_like_sympy(expr: sp.Expr) -> None:
    text = print_expr(expr, NAMES)
    assert _value(text) == pytest.approx(float(expr.evalf(30, subs=VALUES)), rel=1e-14)


def test_small_integer_powers_are_multiplications() -> None:
    assert "**" not in print_expr(a**MAX_MULTIPLY_POWER / b**2, NAMES)
    assert "**" in print_expr(a ** (MAX_MULTIPLY_POWER + 1), NAMES)


def test_constants_are_float_literals() -> None:
    text = print_expr(sp.sqrt(5) * a + sp.pi, NAMES)
    assert "sqrt(5)" not in text and "2.23606797749979" in text and "3.141592653589793" in text


def test_sign_is_zero_at_zero() -> None:
    text = print_expr(sp.sign(a - b), NAMES)
    assert float(eval(text, {"math": math, "_a": 1.0, "_b": 1.0})) == 0.0  # noqa: S307


def test_unnamed_symbols_and_unsupported_nodes_raise() -> None:
    with pytest.raises(ValueError, match="no name"):
        print_expr(a + sp.Symbol("c"), NAMES)
    with pytest.raises(ValueError, match="not differentiable"):
        print_expr(sp.DiracDelta(a - b), NAMES)
    with pytest.raises(Exception, match="Unsupported"):
        print_expr(sp.Function("mystery")(a), NAMES)
