"""A strict SymPy printer for scalar numba code: float literals, multiplications for small powers.

Damped products. A kernel's derivatives are sums of ``P * exp(A)``: a polynomial-like factor
times an exponential. Far apart (``|x - y| = 1e200``) or at extreme length scales (``1e-160``)
``P`` overflows to inf while ``exp(A)`` underflows to 0, and float64 gives ``inf * 0 = NaN``
where the value is 0. Given a :class:`Growth`, the printer bounds every factor built from finite
floats by ``+ - * /``, numeric powers and bounded functions: ``|P| <= exp(L)`` with ``L`` read off
the expression (745 per finite float, since ``|log|x|| <= 745`` in float64; sums add ``log n``,
products add, powers multiply). A product ``P * exp(A)`` is printed ``_damped(P, exp(A), A, -(L + 750))``:
0.0 when ``A < -(L + 750)``, where the exact value is below ``exp(-750)``, under the smallest
float64, whatever ``P`` evaluated to; ``P * exp(A)`` otherwise. The result is therefore what exact
arithmetic rounded to float64 gives; nothing changes where nothing overflowed. Products the
printer cannot bound (``cosh``, ``1 / (a sum)``, an input-dependent exponent, a sum of different
exponentials) are printed as they are; a NaN they give is caught by the runtime's finite-output
check and raised as ``FloatingPointError``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

__all__ = ["MAX_MULTIPLY_POWER", "Bound", "Growth", "NumbaPrinter", "print_expr"]

#: Integer powers up to this size are written as repeated multiplication (exact, no pow call).
MAX_MULTIPLY_POWER = 8

#: |log|x|| for every finite non-zero float64 x (log(1.8e308) = 709.8, log(1 / 4.9e-324) = 744.4).
LOG_FLOAT_RANGE = 745.0
#: exp(-750) is below the smallest positive float64: a product under exp(-(L + 750)) rounds to 0.
DAMPING_MARGIN = 750.0
#: Functions bounded by e (in absolute value) for every real argument.
_BOUNDED = (sp.sin, sp.cos, sp.tanh, sp.atan, sp.sign)


@dataclass(frozen=True)
class Bound:
    """``value = T * exp(exponent)`` with ``|T| <= exp(log_max)`` for the exact value of ``T``.

    ``two_sided``: also ``|T| >= exp(-log_max)`` (a monomial of non-zero factors), so ``1 / T``
    is bounded too. ``exponent`` None: there is no exponential factor.
    """

    log_max: float
    two_sided: bool
    exponent: sp.Expr | None = None


@dataclass(frozen=True)
class Growth:
    """What the printer knows about symbols, to bound products (see the module notes).

    ``nonzero`` symbols (hyperparameters; radii where a branch has excluded r = 0) are finite
    non-zero floats; other symbols are finite floats that may be 0; ``exponentials`` maps
    symbols holding ``exp(a)`` to ``a``; ``bounds`` holds CSE temporaries.
    """

    nonzero: frozenset[sp.Symbol] = frozenset()
    exponentials: Mapping[sp.Symbol, sp.Expr] = field(default_factory=dict)
    bounds: Mapping[sp.Symbol, Bound | None] = field(default_factory=dict)

    def bound(self, expr: sp.Expr) -> Bound | None:
        """A bound for ``expr`` as ``T * exp(A)``, or None if the printer cannot bound it."""
        if expr.is_Symbol:
            if expr in self.bounds:
                return self.bounds[expr]
            if expr in self.exponentials:
                return Bound(0.0, True, self.exponentials[expr])
            return Bound(LOG_FLOAT_RANGE, expr in self.nonzero)
        if expr.is_Number or expr.is_NumberSymbol:
            value = abs(float(expr))
            return Bound(abs(math.log(value)), True) if value > 0 else Bound(0.0, False)
        if isinstance(expr, sp.exp):
            return Bound(0.0, True, expr.args[0])
        if isinstance(expr, sp.Mul):
            return _product([self.bound(a) for a in expr.args])
        if isinstance(expr, sp.Pow):
            return _power(self.bound(expr.base), expr.exp)
        if isinstance(expr, sp.Add):
            return _sum([self.bound(a) for a in expr.args])
        if isinstance(expr, _BOUNDED):
            inner = self.bound(expr.args[0])
            return None if inner is None else Bound(1.0, False)
        if isinstance(expr, sp.Abs):
            return self.bound(expr.args[0])  # |T exp(A)| = |T| exp(A)
        return None

    def with_temporaries(self, temporaries: Iterable[tuple[sp.Symbol, sp.Expr]]) -> Growth:
        """Also bound CSE temporaries, in order (each may use the ones before it)."""
        bounds = dict(self.bounds)
        growth = self
        for symbol, value in temporaries:
            bounds[symbol] = growth.bound(value)
            growth = replace(self, bounds=bounds)
        return growth


def _product(factors: list[Bound | None]) -> Bound | None:
    if any(f is None for f in factors):
        return None
    exponents = [f.exponent for f in factors if f.exponent is not None]  # type: ignore[union-attr]
    return Bound(sum(f.log_max for f in factors), all(f.two_sided for f in factors),  # type: ignore[union-attr]
                 sp.Add(*exponents) if exponents else None)


def _power(base: Bound | None, exponent: sp.Expr) -> Bound | None:
    if base is None or not exponent.is_Number:
        return None  # an input-dependent exponent grows faster than any bound read off here
    k = float(exponent)
    if k < 0 and not base.two_sided:
        return None  # 1 / T is unbounded where T may vanish
    scaled = None if base.exponent is None else exponent * base.exponent
    return Bound(abs(k) * base.log_max, base.two_sided, scaled)


def _sum(terms: list[Bound | None]) -> Bound | None:
    if any(t is None for t in terms):
        return None
    exponents = {t.exponent for t in terms}  # type: ignore[union-attr]
    if len(exponents) != 1:
        return None  # P + exp(a), or exp(a) + exp(b): no common exponential factor
    return Bound(max(t.log_max for t in terms) + math.log(len(terms)), False, exponents.pop())  # type: ignore


class NumbaPrinter(PythonCodePrinter):
    """Prints expressions for ``@njit`` functions; unsupported nodes raise instead of emitting junk."""

    printmethod = "_numbacode"
    language = "Python (numba)"
    #: How a square root is spelled (array backends override it).
    sqrt_function = "math.sqrt"

    def __init__(self, names: Mapping[sp.Symbol, str], growth: Growth | None = None,
                 user_functions: Mapping[str, str] | None = None) -> None:
        settings: dict[str, object] = {"strict": True, "fully_qualified_modules": True, "standard": "python3"}
        if user_functions:
            settings["user_functions"] = dict(user_functions)
        super().__init__(settings)
        self._names = dict(names)
        #: None: print products as they are; else damped products (see the module notes).
        self._growth = growth

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

    def _print_Mul(self, expr: sp.Mul) -> str:
        if self._growth is not None:
            damped = self._damped(expr)
            if damped is not None:
                return damped
        return super()._print_Mul(expr)

    def _damped(self, expr: sp.Mul) -> str | None:
        """``_damped(P, E, A, threshold)`` for a product with an exponential factor, else None."""
        assert self._growth is not None
        whole = self._growth.bound(expr)
        if whole is None or whole.exponent is None:
            return None
        factors = [(f, self._growth.bound(f)) for f in expr.args]
        exponential = [f for f, b in factors if b is not None and b.exponent is not None]
        rest = [f for f, b in factors if b is not None and b.exponent is None]
        if len(exponential) == 1 and all(f.is_number or f in self._growth.nonzero for f in rest):
            return None  # a finite non-zero constant times one factor cannot make a new inf * 0
        threshold = -(whole.log_max + DAMPING_MARGIN)
        growth, self._growth = self._growth, None  # the two parts are printed as plain products
        try:
            rest_text, factor_text = self._print(sp.Mul(*rest)), self._print(sp.Mul(*exponential))
        finally:
            self._growth = growth
        return f"_damped({rest_text}, {factor_text}, {self._print(whole.exponent)}, {threshold!r})"

    def _print_DiracDelta(self, expr: sp.Expr) -> str:
        raise ValueError("DiracDelta in a kernel derivative: the kernel is not differentiable there")

    _print_Heaviside = _print_DiracDelta

    def _print_log1p_ratio(self, expr: sp.Expr) -> str:
        return f"_log1p_ratio({self._print(expr.args[0])})"

    def _print_sign(self, expr: sp.Expr) -> str:
        arg = self._print(expr.args[0])
        return f"(0.0 if {arg} == 0.0 else math.copysign(1.0, {arg}))"


def print_expr(expr: sp.Expr, names: Mapping[sp.Symbol, str], growth: Growth | None = None) -> str:
    """Code for ``expr``; ``growth`` (what grows how) turns damped products on."""
    return NumbaPrinter(names, growth).doprint(expr)
