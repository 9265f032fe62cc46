"""Integrals of a kernel along its inputs: the structure and the closed forms the generated code needs.

Integration is a linear functional like differentiation: ``cov(L1 f, L2 f) = L1^x L2^y k(x, y)``.
The one-argument functionals here act per input component: a derivative at a point (order ``-k``
in the notation below), ``int_l^u`` (order 1) or the Cauchy double integral
``int_l^u (u - s) . ds`` (order 2).

Structure (decided on the ORIGINAL expression, not on the differentiation rewrite):

1. *Terms.* ``k`` is split at its additive terms; each term is a coefficient (hyperparameters
   only) times a product of factors over disjoint groups of input components. ``exp`` of a sum
   is split into one ``exp`` per group (ARD and isotropic RBF, the periodic product kernel), and
   a group spanning several components is multiplied out when that leaves one-component groups
   only (polynomial kernels). A box integral of a term is then the product of its groups'
   integrals (Fubini).
2. *One-component factors* are either polynomials in ``(x_j, y_j)`` (integrated exactly, with the
   factor ``(u - l)`` or ``(u - l)**2`` taken out so narrow intervals lose nothing) or stationary
   ``g(x_j - y_j)``, which must be even (every symmetric stationary covariance is). ``g`` is kept
   as its branch on ``t >= 0`` (``|t| -> t``): Matérn's kink at 0 is handled by parity, since
   ``D_n``, the ``n``-th antiderivative of ``g`` normalized at 0 (``D_0 = g``,
   ``D_{-k} = g^(k)``), has parity ``(-1)**n``. Closed forms ``D_1 .. D_4`` come from SymPy where
   it finds them (exponentials of polynomials of degree <= 2, erf, sin/cos of linear arguments);
   each is checked by differentiating it back. Otherwise generated code integrates numerically.
3. *Several-component groups* must be stationary (Euclidean Matérn, rational quadratic,
   ``exp_sine_squared`` in ``d >= 2``): generated code integrates ``k(u) w(u)`` numerically
   over the difference ``u = x - y`` (see ``templates/integrals_core.py.jinja``).

A factor that is neither (e.g. ``x * y * exp(-(x - y)**2)`` in one component) raises
``ValueError`` when integrals are requested: nothing is computed silently wrong.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import mpmath
import sympy as sp

from .memo import PerKernel

if TYPE_CHECKING:
    from .kernel import Kernel

__all__ = [
    "HIGHEST_ORDER", "T", "IntegralForm", "Part", "Polynomial1D", "Stationary1D", "StationaryGroup", "Term",
    "difference_symbol", "magnitude", "moment", "unit_moment",
]

#: ``|x_j - y_j|`` on the positive branch of a one-component stationary factor.
T = sp.Symbol("_t", positive=True)

#: Highest antiderivative order of a factor a request can need (order 2 on both arguments).
HIGHEST_ORDER = 4


def difference_symbol(j: int) -> sp.Symbol:
    """``u_j = x_j - y_j`` (real) in several-component stationary groups."""
    return sp.Symbol(f"_u{j}", real=True)


# ---------------------------------------------------------------------- factors
@dataclass(eq=False)
class Stationary1D:
    """An even stationary factor ``g(x_j - y_j)``, given by its branch ``positive`` on ``t = T >= 0``."""

    positive: sp.Expr
    _closed: dict[int, sp.Expr | None] = field(default_factory=dict, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def derivative(self, k: int) -> sp.Expr:
        """``g^(k)`` on ``t > 0`` (``D_{-k}``)."""
        return sp.expand(sp.diff(self.positive, T, k)) if k else self.positive

    def antiderivative(self, n: int) -> sp.Expr | None:
        """``D_n = int_0^t D_{n-1}`` in closed form, or None when SymPy finds none (``n >= 1``)."""
        with self._lock:
            if n not in self._closed:
                previous = self.positive if n == 1 else self.antiderivative(n - 1)
                self._closed[n] = None if previous is None else _integrate_from_zero(previous)
            return self._closed[n]

    def value(self, n: int) -> sp.Expr | None:
        """``D_n`` on ``t >= 0`` for any integer ``n`` (None: no closed form)."""
        return self.derivative(-n) if n <= 0 else self.antiderivative(n)

    def closed_max(self, needed: int) -> int:
        """Highest ``n <= needed`` such that ``D_1 .. D_n`` all have closed forms."""
        top = 0
        for n in range(1, needed + 1):
            if self.antiderivative(n) is None:
                break
            top = n
        return top


@dataclass(frozen=True)
class Polynomial1D:
    """``sum_(p, q) c_pq x_j**p y_j**q`` with hyperparameter-only coefficients."""

    monomials: tuple[tuple[int, int, sp.Expr], ...]


@dataclass(frozen=True)
class StationaryGroup:
    """A stationary factor of several components: ``form`` in :func:`difference_symbol` ``u_j``."""

    dims: tuple[int, ...]
    form: sp.Expr

    @property
    def symbols(self) -> tuple[sp.Symbol, ...]:
        return tuple(difference_symbol(j) for j in self.dims)

    def derivative(self, orders: tuple[int, ...]) -> sp.Expr:
        """``d^K k / du^K`` with ``orders[i]`` derivatives along ``dims[i]``."""
        e = self.form
        for u, k in zip(self.symbols, orders):
            if k:
                e = sp.diff(e, u, k)
        return e

    def at_zero(self, e: sp.Expr) -> sp.Expr:
        """The value of ``e`` at ``u = 0`` (a limit along a ray when substitution is undefined)."""
        value = e.xreplace({u: sp.Integer(0) for u in self.symbols})
        if value.is_finite and not value.has(sp.nan, sp.zoo):
            return value
        s = sp.Symbol("_s", positive=True)
        ray = e.xreplace({u: s * (i + 1) for i, u in enumerate(self.symbols)})
        return sp.limit(ray, s, 0, "+")


@dataclass(frozen=True)
class Part:
    """One group of a term: ``kind`` is ``"stationary1d"`` / ``"polynomial"`` (one component) or
    ``"group"``; ``index`` points into :attr:`IntegralForm.factors` / ``groups``."""

    dims: tuple[int, ...]
    kind: str
    index: int = -1
    polynomial: Polynomial1D | None = None


@dataclass(frozen=True)
class Term:
    """``coefficient * prod(parts)``; components in no part contribute the factor 1."""

    coefficient: sp.Expr
    parts: tuple[Part, ...]

    def part_for(self, j: int) -> Part | None:
        return next((p for p in self.parts if j in p.dims), None)


class IntegralForm(PerKernel):
    """A kernel split into terms of factors that integrate independently (see the module docstring).

    Raises ``ValueError`` naming the factor when a term cannot be integrated.
    """

    def __init__(self, kernel: Kernel) -> None:
        self.name = kernel.name
        self.dim = kernel.dim
        self.params = tuple(sp.Symbol(n, positive=True) for n in kernel.all_hyperparameter_names)
        x, y = kernel.x, kernel.y
        self.factors: list[Stationary1D] = []
        self.groups: list[StationaryGroup] = []
        terms = []
        for coefficient, parts in _decompose(kernel.expr, x, y):
            typed = tuple(self._part(dims, expr, x, y) for dims, expr in parts)
            terms.append(Term(coefficient, tuple(sorted(typed, key=lambda p: p.dims))))
        self.terms = tuple(terms)

    def _part(self, dims: frozenset[int], expr: sp.Expr, x: tuple[sp.Symbol, ...],
              y: tuple[sp.Symbol, ...]) -> Part:
        ordered = tuple(sorted(dims))
        if len(ordered) == 1:
            j = ordered[0]
            if expr.is_polynomial(x[j], y[j]):
                poly = sp.Poly(expr, x[j], y[j])
                monomials = tuple((int(a), int(b), c) for (a, b), c in poly.terms())
                return Part(ordered, "polynomial", polynomial=Polynomial1D(monomials))
        form = _stationary_form(expr, ordered, x, y)
        if form is None:
            raise ValueError(
                f"integrals of kernel {self.name!r} are not supported: its factor {expr} in input(s) "
                f"{list(ordered)} is neither a polynomial in x, y nor a function of x - y")
        if len(ordered) == 1:
            u = difference_symbol(ordered[0])
            if not _is_even(form, u):
                raise ValueError(
                    f"integrals of kernel {self.name!r}: its stationary factor {expr} is not even in "
                    "x - y (a symmetric product kernel has even factors)")
            positive = form.xreplace({u: T})
            for k, f in enumerate(self.factors):
                if sp.expand(f.positive - positive) == 0:
                    return Part(ordered, "stationary1d", index=k)
            self.factors.append(Stationary1D(positive))
            return Part(ordered, "stationary1d", index=len(self.factors) - 1)
        for k, g in enumerate(self.groups):
            if g.dims == ordered and sp.expand(g.form - form) == 0:
                return Part(ordered, "group", index=k)
        self.groups.append(StationaryGroup(ordered, form))
        return Part(ordered, "group", index=len(self.groups) - 1)


# ---------------------------------------------------------------------- functionals of polynomials
def moment(power: int, kind: int, k: int, a: sp.Expr, b: sp.Expr) -> sp.Expr:
    """A one-component functional of ``s**power``: ``kind`` 0 is ``d^k/ds^k`` at ``b``, 1 ``int_a^b``,
    2 ``int_a^b (b - s) . ds``; written with ``(b - a)**kind`` factored out (exact for narrow ``[a, b]``).
    """
    if kind == 0:
        return sp.ff(power, k) * b ** (power - k) if k <= power else sp.Integer(0)
    if kind == 1:
        return (b - a) * sp.Add(*(b**i * a ** (power - i) for i in range(power + 1))) / (power + 1)
    numerator = b ** (power + 2) - a ** (power + 1) * ((power + 2) * b - (power + 1) * a)
    quotient = sp.cancel(numerator / ((b - a) ** 2 * (power + 1) * (power + 2)))
    return (b - a) ** 2 * sp.expand(quotient)


def unit_moment(kind: int, k: int, a: sp.Expr, b: sp.Expr) -> sp.Expr:
    """The functional of the constant 1 (a component a term does not depend on)."""
    return moment(0, kind, k, a, b)


def magnitude(e: sp.Expr) -> sp.Expr:
    """Sum of the absolute values of the expanded terms of ``e``: the scale its rounding error has."""
    return sp.Add(*(sp.Abs(a) for a in sp.Add.make_args(sp.expand(e))))


# ---------------------------------------------------------------------- decomposition
def _dims(e: sp.Expr, x: tuple[sp.Symbol, ...], y: tuple[sp.Symbol, ...]) -> frozenset[int]:
    free = e.free_symbols
    return frozenset(j for j in range(len(x)) if x[j] in free or y[j] in free)


def _group(items: list[sp.Expr], x: tuple[sp.Symbol, ...],
           y: tuple[sp.Symbol, ...]) -> list[tuple[frozenset[int], list[sp.Expr]]]:
    """Items joined into groups whose input components overlap (union-find, order kept)."""
    groups: list[tuple[frozenset[int], list[sp.Expr]]] = []
    for item in items:
        dims = _dims(item, x, y)
        merged = [g for g in groups if g[0] & dims]
        rest = [g for g in groups if not g[0] & dims]
        joined_dims = dims.union(*(g[0] for g in merged)) if merged else dims
        joined_items = [i for g in merged for i in g[1]] + [item]
        groups = rest + [(joined_dims, joined_items)]
    return groups


def _mul_factors(e: sp.Expr, x: tuple[sp.Symbol, ...], y: tuple[sp.Symbol, ...]) -> list[sp.Expr]:
    """Factors of a product, with ``exp(a + b)`` split into one ``exp`` per group of components."""
    out: list[sp.Expr] = []
    for a in sp.Mul.make_args(e):
        if isinstance(a, sp.Pow) and a.exp.is_Integer and isinstance(a.base, sp.Mul):
            out.extend(f**a.exp for f in _mul_factors(a.base, x, y))
        elif isinstance(a, sp.exp):
            terms = list(sp.Add.make_args(sp.expand(a.args[0])))
            free = [t for t in terms if not _dims(t, x, y)]
            if free:
                out.append(sp.exp(sp.Add(*free)))
            out.extend(sp.exp(sp.Add(*items)) for _, items in _group([t for t in terms if _dims(t, x, y)], x, y))
        else:
            out.append(a)
    return out


def _decompose(e: sp.Expr, x: tuple[sp.Symbol, ...], y: tuple[sp.Symbol, ...],
               depth: int = 0) -> list[tuple[sp.Expr, list[tuple[frozenset[int], sp.Expr]]]]:
    """``[(coefficient, [(components, factor), ...]), ...]`` with disjoint components per term."""
    if isinstance(e, sp.Add):
        return [t for a in e.args for t in _decompose(a, x, y, depth)]
    factors = _mul_factors(e, x, y)
    coefficient = sp.Mul(*(f for f in factors if not _dims(f, x, y)))
    alternatives: list[list[tuple[sp.Expr, list[tuple[frozenset[int], sp.Expr]]]]] = []
    for dims, items in _group([f for f in factors if _dims(f, x, y)], x, y):
        product = sp.Mul(*items)
        if len(dims) > 1 and depth < 2:
            expanded = sp.expand(product, deep=True, power_exp=True, mul=True, multinomial=True,
                                 power_base=False, log=False)
            if expanded != product or isinstance(expanded, sp.Add):
                finer = _decompose(expanded, x, y, depth + 1)
                if all(len(d) <= 1 for _, parts in finer for d, _ in parts):
                    alternatives.append(finer)
                    continue
        alternatives.append([(sp.Integer(1), [(dims, product)])])
    terms: list[tuple[sp.Expr, list[tuple[frozenset[int], sp.Expr]]]] = [(coefficient, [])]
    for options in alternatives:
        terms = [(c1 * c2, p1 + p2) for c1, p1 in terms for c2, p2 in options]
    return [(c, p) for c, p in terms if c != 0]


def _expand_arguments(e: sp.Expr) -> sp.Expr:
    """``e`` with the arguments of every function and power expanded (``x - y`` terms cancel)."""
    if e.is_Atom:
        return e
    args = [_expand_arguments(a) for a in e.args]
    if isinstance(e, (sp.Function, sp.Pow)):
        args = [sp.expand(a) for a in args]
    return e.func(*args)


def _stationary_form(expr: sp.Expr, dims: tuple[int, ...], x: tuple[sp.Symbol, ...],
                     y: tuple[sp.Symbol, ...]) -> sp.Expr | None:
    """``expr`` as a function of ``u_j = x_j - y_j`` alone, or None if it is not stationary."""
    shifted = expr.xreplace({x[j]: difference_symbol(j) + y[j] for j in dims})
    form = _expand_arguments(shifted)
    if form.free_symbols & {y[j] for j in dims}:
        form = sp.simplify(form)
        if form.free_symbols & {y[j] for j in dims}:
            return None
    return form


def _is_even(form: sp.Expr, u: sp.Symbol) -> bool:
    difference = form.xreplace({u: -u}) - form
    if difference == 0 or sp.expand(difference) == 0:
        return True
    params = sorted(form.free_symbols - {u}, key=lambda s: s.name)
    f = sp.lambdify([u, *params], difference, modules="mpmath")
    g = sp.lambdify([u, *params], form, modules="mpmath")
    rng = random.Random(0)
    with mpmath.workdps(30):
        for _ in range(6):
            values = [mpmath.mpf(rng.uniform(0.1, 2.0))] + [mpmath.mpf(rng.uniform(0.5, 2.0)) for _ in params]
            if abs(f(*values)) > mpmath.mpf(10) ** -20 * max(1, abs(g(*values))):
                return False
    return True


# ---------------------------------------------------------------------- closed-form integration
_TRIG = (sp.sin, sp.cos)


def _integrable(e: sp.Expr) -> bool:
    """True for the functions SymPy integrates quickly and in closed form (others can take minutes).

    Allowed: polynomials in ``T`` times ``exp`` of a polynomial of degree <= 2, ``erf`` of a
    linear argument, ``sin``/``cos`` of a linear argument.
    """
    for node in sp.preorder_traversal(e):
        if not isinstance(node, sp.Basic) or not node.has(T) or node.is_Atom:
            continue
        if isinstance(node, (sp.Add, sp.Mul)):
            continue
        if isinstance(node, sp.Pow):
            if node.base.has(T) and not (node.exp.is_Integer and node.exp >= 0):
                return False
            if node.exp.has(T):
                return False
            continue
        if isinstance(node, sp.exp):
            if not (node.args[0].is_polynomial(T) and sp.degree(node.args[0], T) <= 2):
                return False
            continue
        if isinstance(node, (sp.erf, *_TRIG)):
            if not (node.args[0].is_polynomial(T) and sp.degree(node.args[0], T) <= 1):
                return False
            continue
        return False
    return True


def _integrate_from_zero(e: sp.Expr) -> sp.Expr | None:
    """``int_0^T e`` in closed form (expanded), or None; every result is checked by differentiation."""
    e = sp.expand(e)
    if not _integrable(e):
        return None
    try:
        primitive = sp.integrate(e, T, meijerg=False, risch=False)
    except (NotImplementedError, ValueError, TypeError):  # pragma: no cover - SymPy gave up
        return None
    if primitive.has(sp.Integral) or not _integrable(primitive):
        return None
    at_zero = primitive.subs(T, 0)
    if not at_zero.is_finite:
        at_zero = sp.limit(primitive, T, 0, "+")
    result = sp.expand(primitive - at_zero)
    return result if _derivative_matches(result, e) else None


def _derivative_matches(primitive: sp.Expr, integrand: sp.Expr) -> bool:
    """Independent check that ``d/dT primitive == integrand`` at random points (mpmath, 40 digits)."""
    params = sorted((primitive.free_symbols | integrand.free_symbols) - {T}, key=lambda s: s.name)
    derivative = sp.lambdify([T, *params], sp.diff(primitive, T), modules="mpmath")
    target = sp.lambdify([T, *params], integrand, modules="mpmath")
    rng = random.Random(1)
    with mpmath.workdps(40):
        for _ in range(4):
            values = [mpmath.mpf(rng.uniform(0.05, 3.0))] + [mpmath.mpf(rng.uniform(0.5, 2.0)) for _ in params]
            a, b = derivative(*values), target(*values)
            if abs(a - b) > mpmath.mpf(10) ** -25 * max(1, abs(b)):
                return False
    return True
