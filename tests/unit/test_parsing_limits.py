"""Resource limits for untrusted kernel text (issue 7, reproducer 6; nothing compiled).

Each refused string must fail fast with a ``KernelParseError`` naming the limit and its value;
strings just inside the limits must still parse to the expression they mean.
"""

from __future__ import annotations

import time

import pytest
import sympy as sp

from kernelgen import Kernel, KernelParseError
from kernelgen.symbolic import limits

#: text -> the limit its message must name. The first five are the issue's reproducers.
REFUSED = {
    "9**9**9*x0*y0": "MAX_EXPONENT = 100",  # ran forever (a 370-million-digit integer)
    "(x0*y0+1)**9999999999": "MAX_EXPONENT = 100",  # MemoryError / inf values
    "(x0-y0)**2**100": "MAX_EXPONENT = 100",  # MemoryError in the multinomial expansion
    "+".join(["x0*y0"] * 1500): "MAX_NODES = 2000",  # RecursionError
    "1e309*x0*y0": "MAX_MAGNITUDE = 1e+100",  # TypeError about inf
    "x0+" * 3300 + "1": "MAX_NODES = 2000",  # Python's own parser recursed
    "x0**" * 1500 + "y0": "MAX_NODES = 2000",  # Python's own parser ran out of stack
    "x" * 10_001: "MAX_TEXT_LENGTH = 10000",
    "-" * 60 + "x0*y0": "MAX_DEPTH = 50",
    "x0*(y0*" * 55 + "1" + ")" * 55: "MAX_DEPTH = 50",
    "exp(" * 55 + "x0*y0" + ")" * 55: "MAX_DEPTH = 50",
    "2**400*x0*y0": "MAX_EXPONENT = 100",
    "x0**-101*y0**-101": "MAX_EXPONENT = 100",
    "1" * 400 + "*x0*y0": "MAX_MAGNITUDE = 1e+100",
    "1e101*x0*y0": "MAX_MAGNITUDE = 1e+100",
    "(1e60*1e60)*x0*y0": "MAX_MAGNITUDE = 1e+100",
    "exp(1000)*x0*y0": "MAX_MAGNITUDE = 1e+100",
    "(10**99)**99*x0*y0": "MAX_MAGNITUDE = 1e+100",
    "2**(2**(2**(2**5)))*x0*y0": "MAX_EXPONENT = 100",
    "(x0 + y0 + x1 + y1 + 1)**60": "MAX_EXPANDED_TERMS = 20000",
    "(x0*y0 + x1*y1 + 1)**40 * (x0*y0 + x1*y1 + 2)**40": "MAX_EXPANDED_TERMS = 20000",
}


@pytest.mark.parametrize("text", list(REFUSED), ids=lambda t: t if len(t) < 40 else t[:37] + "...")
def test_refused_fast_with_the_limit_named(text: str) -> None:
    start = time.perf_counter()
    with pytest.raises(KernelParseError) as info:
        Kernel.from_string(text, dim=2)
    assert REFUSED[text] in str(info.value)
    assert "kernelgen.symbolic.limits" in str(info.value)
    assert time.perf_counter() - start < 2.0
    assert len(str(info.value)) < 400  # the message quotes a shortened text, not 10 000 characters


def test_literal_that_underflows_is_refused() -> None:
    with pytest.raises(KernelParseError, match="underflows to 0"):
        Kernel.from_string("1e-400 * x0 * y0", dim=1)


def test_limits_are_module_constants() -> None:
    assert limits.MAX_TEXT_LENGTH == 10_000 and limits.MAX_NODES == 2_000 and limits.MAX_DEPTH == 50
    assert limits.MAX_MAGNITUDE == 1e100 and limits.MAX_EXPONENT == 100
    assert limits.MAX_EXPANDED_TERMS == 20_000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A long sum and a long product are one nesting level each (and cost no stack).
        ("+".join(f"{i + 1}*x0*y0" for i in range(300)), "45150*x0*y0"),
        ("*".join(["x0*y0"] * 20), "(x0*y0)**20"),
        ("x0*y0 - 2*x0*y0 + 4*x0*y0/2", "x0*y0"),
        ("x0*y0/2/3*12", "2*x0*y0"),
        ("(x0*y0 + 1)**100", "(x0*y0 + 1)**100"),
        ("2**100 * x0*y0", f"{2**100}*x0*y0"),
        ("1e100 * x0*y0 + 1e-300", "1e100*x0*y0 + 1e-300"),
        ("x0*y0*" + "(" * 45 + "1" + ")" * 45, "x0*y0"),
        ("(exp(-(x0-y0)**2 / (2*l**2)))**2", "exp(-(x0-y0)**2/l**2)"),
    ],
)
def test_inside_the_limits_parses_to_what_it_means(text: str, expected: str) -> None:
    k = Kernel.from_string(text, dim=1)
    want = sp.sympify(expected, locals={"l": sp.Symbol("l", positive=True)}, rational=True)
    assert sp.simplify(k.expr - want) == 0


def test_sum_builds_the_same_expression_as_repeated_addition() -> None:
    text = "s*exp(-(x0-y0)**2/l) - 2*x0*y0 + (x0*y0 + 1)**2/3 - x0/y0*y0/x0"
    k = Kernel.from_string(text, dim=1)
    s, ell = sp.Symbol("s", positive=True), sp.Symbol("l", positive=True)
    x0, y0 = sp.symbols("x0 y0")
    expected = s * sp.exp(-(x0 - y0) ** 2 / ell) - 2 * x0 * y0 + (x0 * y0 + 1) ** 2 / 3 - x0 / y0 * y0 / x0
    assert k.expr == expected  # structurally identical, not only equal


class TestSympyObjects:
    """``Kernel(expr)`` from SymPy objects: the cheap checks on the expression tree."""

    def test_huge_exponent(self) -> None:
        x, y = sp.symbols("x y")
        with pytest.raises(KernelParseError, match="MAX_EXPONENT = 100"):
            Kernel((x * y + 1) ** 9999999999, x=[x], y=[y])

    def test_huge_expansion(self) -> None:
        x, y, a, b = sp.symbols("x y a b")
        with pytest.raises(KernelParseError, match="MAX_EXPANDED_TERMS = 20000"):
            Kernel((x * y + a * b + x + y + 1) ** 50, x=[x, a], y=[y, b])

    def test_huge_number(self) -> None:
        x, y = sp.symbols("x y")
        with pytest.raises(KernelParseError, match="MAX_MAGNITUDE"):
            Kernel(sp.Integer(10) ** 200 * x * y, x=[x], y=[y])

    def test_deep_expression(self) -> None:
        x, y = sp.symbols("x y")
        e = x * y
        for _ in range(250):
            e = sp.exp(e)
        with pytest.raises(KernelParseError, match="MAX_TREE_DEPTH = 200"):
            Kernel(e, x=[x], y=[y])

    def test_shared_subexpressions_are_counted_once(self) -> None:
        x, y = sp.symbols("x y")
        e = sp.exp(-(x - y) ** 2)
        big = sp.Add(*(e * sp.Integer(i + 1) * sp.cos(x * y * (i + 1)) for i in range(300)))
        k = Kernel(big, x=[x], y=[y])  # 300 terms sharing one exp: well inside the limits
        assert k.dim == 1


def test_recursion_inside_sympy_becomes_a_parse_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """The net behind the limits: a RecursionError while building the kernel never reaches the user."""
    def deep(*args: object, **kwargs: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(Kernel, "__init__", deep)
    with pytest.raises(KernelParseError, match="nested too deeply for SymPy"):
        Kernel.from_string("x0 * y0", dim=1)
