"""The numba printer, without numba: printed text is evaluated with Python's math and compared with
SymPy's own high-precision evaluation of the expression (``evalf``)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from kernelgen.codegen.printing import MAX_MULTIPLY_POWER, Growth, print_expr

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


# ---------------------------------------------------------------------- damped products (issue 7, item 8)
d, ell, s = sp.Symbol("d"), sp.Symbol("ell", positive=True), sp.Symbol("s", positive=True)
GROWTH = Growth(nonzero=frozenset({ell, s}))
DNAMES = {d: "_d", ell: "_l", s: "_s"}


def _damped(rest: float, factor: float, exponent: float, threshold: float) -> float:
    """The template's helper, in Python."""
    return 0.0 if exponent < threshold else rest * factor


def _evaluate(text: str, **values: float) -> float:
    scope = {"math": math, "_damped": _damped, **{f"_{k}": v for k, v in values.items()}}
    with np.errstate(all="ignore"):
        return float(eval(text, scope))  # noqa: S307 (our own output)


RBF_D2 = s * (1 / ell**2 - d**2 / ell**4) * sp.exp(-(d**2) / (2 * ell**2))  # d2k/dx dy of an RBF


def test_polynomial_times_exponential_is_zero_where_the_exponential_underflows() -> None:
    """RBF's d2k/dx dy at |x - y| = 1e200 is 0, not inf * 0 = NaN."""
    damped = print_expr(RBF_D2, DNAMES, GROWTH)
    assert "_damped(" in damped
    big = {"d": np.float64(1e200), "l": np.float64(1.0), "s": np.float64(1.0)}
    assert _evaluate(damped, **big) == 0.0
    assert math.isnan(_evaluate(print_expr(RBF_D2, DNAMES), **big))  # what it used to print


@pytest.mark.parametrize(("dv", "lv"), [(0.3, 0.7), (3.0, 0.1), (1e-3, 1e-2), (40.0, 1.0), (1e-60, 1e-61)])
def test_damped_form_is_the_product_wherever_it_is_representable(dv: float, lv: float) -> None:
    values = {d: sp.Float(dv, 50), ell: sp.Float(lv, 50), s: sp.Float(1.3, 50)}
    reference = float(RBF_D2.evalf(50, subs=values))
    got = _evaluate(print_expr(RBF_D2, DNAMES, GROWTH), d=np.float64(dv), l=np.float64(lv), s=np.float64(1.3))
    assert got == pytest.approx(reference, rel=1e-12, abs=1e-300)


def test_threshold_keeps_representable_values_where_the_polynomial_overflows() -> None:
    """l = 1e-160 and |d| / l = 38.6: the polynomial overflows and exp(-745) underflows, but the
    exact product (about 0.7) is a normal float: it must not be returned as 0."""
    text = print_expr(RBF_D2, DNAMES, GROWTH)
    value = _evaluate(text, d=np.float64(38.6e-160), l=np.float64(1e-160), s=np.float64(1.0))
    assert value != 0.0 and not math.isfinite(value)  # NaN or inf: the runtime raises FloatingPointError


def test_tiny_length_scale_gradient_is_zero_where_the_exponential_underflows() -> None:
    expr = s * d**2 / ell**2 * sp.exp(-(d**2) / (2 * ell**2))  # d/dlog(l) of an RBF
    text = print_expr(expr, DNAMES, GROWTH)
    assert _evaluate(text, d=np.float64(0.3), l=np.float64(1e-160), s=np.float64(1.0)) == 0.0


@pytest.mark.parametrize("expr", [
    sp.cosh(d**2) * sp.exp(-(d**2)),  # cosh can grow as fast as the exponential decays
    (1 + sp.exp(d**2)) * sp.exp(-2 * d**2),  # a sum of an exponential and something else
    d**d * sp.exp(-(d**2)),  # an input-dependent exponent: no bound
    sp.exp(-(d**2)) / (d - 1),  # 1 / (a sum) is unbounded where the sum vanishes
    s * sp.exp(-(d**2)),  # a constant times an exponential cannot make inf * 0
])
def test_products_without_a_bound_are_printed_as_they_are(expr: sp.Expr) -> None:
    assert "_damped(" not in print_expr(expr, DNAMES, GROWTH)


def test_temporaries_carry_their_bounds() -> None:
    c0, c1 = sp.symbols("_c0 _c1")
    growth = GROWTH.with_temporaries([(c0, sp.exp(-(d**2))), (c1, s * c0)])
    bound = growth.bound(d**4 * c1)
    assert bound is not None and bound.exponent == -(d**2)
    assert bound.log_max == pytest.approx(5 * 745.0)  # d**4, then s: finite non-zero floats, 745 each
    names = {**DNAMES, c0: "_c0", c1: "_c1"}
    assert print_expr(d**4 * c1, names, growth) == "_damped((_d*_d*_d*_d), _c1, -(_d*_d), -4475.0)"


def test_long_sums_are_printed_in_parts() -> None:
    """Wide fuzz case 80: a 1-D order-3 module with gradients printed sums of thousands of terms and
    numba's parallel-loop analysis hit RecursionError compiling them; sums are now split."""
    import sympy as sp

    from kernelgen.codegen.ir import SUM_TERMS, _split_long_sums

    xs = sp.symbols(f"a0:{3 * SUM_TERMS + 7}")
    total = sp.Add(*xs)
    temps, values = _split_long_sums([], [total])
    assert len(temps) == 4 and all(len(sp.Add.make_args(v)) <= SUM_TERMS for _, v in temps)
    assert sp.expand(values[0].xreplace(dict(temps))) == total
