"""Properties of a kernel decided on its ORIGINAL expression, never on a rewritten form.

The inputs are given real symbols ``X_i``, ``Y_i`` and the first argument is shifted onto the
second, ``X = Y + T``. Every property below is either *proven* symbolically or reported as not
holding (a numerical counterexample is a proof of the negative; a numerical agreement never
proves anything):

* **Stationarity.** ``k(Y + T, Y)`` contains no ``Y`` after a canonicalising simplification
  (expansion; for small expressions ``simplify`` of ``d/dY_i``). Unproven means *not stationary*,
  which only costs speed: the ``d/dy = -d/dx`` shortcut is taken where it is proven.
* **Symmetry.** ``k(x, y) - k(y, x)`` simplifies to zero. A random point where the two differ is
  reported; a kernel whose symmetry cannot be proven is refused by :class:`~kernelgen.Kernel`.
* **Coincident points.** Near the set where some coordinates of ``T`` vanish (a *branch*: all
  coordinates, or the ones a factor such as ``|x0 - y0|`` depends on), the kernel is expanded
  in a scale ``s`` (``T_J -> s T_J``, ``s -> 0+``). Factors that are not analytic where their
  argument ``b`` vanishes (``|b|``, ``b**e`` with ``e`` not a non-negative integer, ``log(b)``)
  are written through the leading term ``b ~ c s**m``: ``|b| = s**m |c| (b / (s**m c))`` and
  ``b**e = s**(m e) c**e (b / (s**m c))**e`` with ``|c|`` and ``c**(1/q)`` as positive symbols
  ``P`` (``P**q = c`` reduces integer powers back), ``log(b) = m log(s) + log(c) + ...`` with
  ``log(s)`` a marker symbol. The generalised series in ``s`` then has terms ``c_beta s**beta``;
  a term is *regular* when ``beta`` is an integer and ``c_beta`` a polynomial in ``T_J`` free of
  markers, otherwise *singular*. With ``alpha`` the lowest singular order, derivatives of total
  order ``n`` exist exactly for ``n < alpha``: the kernel's smoothness is ``ceil(alpha) - 1``
  (``|r|**1.5`` gives 1, ``|r|**3`` 2, ``r**2 log r`` 1), the minimum over branches. The
  covariance of a derivative process with ``m`` derivatives per argument needs ``2 m`` of them.
* **Validity at coincident points.** The order-0 term must be finite and the same from every
  direction, and no factor may divide by a quantity that vanishes there (``1/(x0 - y0)``,
  ``log|x0 - y0|``, and also ``sin(r)/r``, which is ``0/0`` as written).
* **Positive semi-definiteness** is only probed numerically (:func:`psd_problem`): Gram
  matrices of random point sets at several scales, at given hyperparameter values.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import sympy as sp
from sympy.core.function import PoleError

__all__ = [
    "Analysis", "BranchBehaviour", "Coincident", "SMOOTHNESS_SEARCH_LIMIT", "analysis_of", "psd_problem",
]

#: Highest derivative order the coincident-point expansion is searched to; a kernel without a
#: singular term up to this order is reported this smooth (not more), unless it has no
#: non-analytic factor at all (then ``inf``).
SMOOTHNESS_SEARCH_LIMIT = 10

#: Series orders tried in turn (each gives all terms of order below it). Order 2 first: it decides
#: whether any derivative exists, and a high-order series of a rough kernel of a transcendental
#: warp (``|sinh(x0) - sinh(y0)|**0.5``) takes minutes where order 2 takes seconds.
_SERIES_ORDERS = (2, 6, SMOOTHNESS_SEARCH_LIMIT + 1)

#: Functions analytic on the whole real line: a composition with them keeps the local expansion.
_ANALYTIC = (sp.exp, sp.sin, sp.cos, sp.sinh, sp.cosh, sp.tanh, sp.atan, sp.erf)

#: Expressions larger than this (``count_ops``) are not handed to ``simplify``.
_SIMPLIFY_LIMIT = 400

_S = sp.Symbol("_as", positive=True)
_LOG_S = sp.Symbol("_alog")


def _inputs(dim: int) -> tuple[tuple[sp.Symbol, ...], tuple[sp.Symbol, ...], tuple[sp.Symbol, ...]]:
    x = tuple(sp.Symbol(f"_ax{i}", real=True) for i in range(dim))
    y = tuple(sp.Symbol(f"_ay{i}", real=True) for i in range(dim))
    t = tuple(sp.Symbol(f"_at{i}", real=True) for i in range(dim))
    return x, y, t


def _is_zero(e: sp.Expr, defined: Mapping[sp.Symbol, sp.Expr] | None = None) -> bool:
    """True only when ``e`` is proven identically zero.

    Expansion first; then a value far from zero at a random point proves the opposite (cheap,
    where ``simplify`` of a non-zero expression is slow); then ``simplify`` if ``e`` is small.
    ``defined`` gives symbols that stand for expressions (evaluated as those).
    """
    if e == 0 or sp.expand(e) == 0:
        return True
    if _numerically_nonzero(e, defined or {}):
        return False
    if sp.count_ops(e) > _SIMPLIFY_LIMIT:
        return False
    try:
        return sp.simplify(e.xreplace(dict(defined or {}))) == 0
    except (TypeError, ValueError, NotImplementedError, RecursionError):  # pragma: no cover - SymPy gaps
        return False


def _numerically_nonzero(e: sp.Expr, defined: Mapping[sp.Symbol, sp.Expr], tries: int = 2) -> bool:
    """``e`` is clearly non-zero at one of ``tries`` seeded random points (30 digits)."""
    free = sorted(e.free_symbols - set(defined), key=lambda v: v.name)
    rng = np.random.default_rng(len(free) + 17 * tries)
    for _ in range(tries):
        values: dict[sp.Symbol, sp.Expr] = {}
        for v in free:
            if v.is_positive:
                values[v] = sp.Rational(round(float(rng.uniform(0.5, 1.7)), 3))
            else:
                values[v] = sp.Rational(round(float(rng.uniform(0.2, 1.3)) * rng.choice([-1, 1]), 3))
        for symbol, meaning in defined.items():  # in creation order: inner definitions first
            values[symbol] = meaning.xreplace(values)
        try:
            v = complex(e.xreplace(values).evalf(30))
        except (TypeError, ValueError, ZeroDivisionError, OverflowError):
            continue
        if math.isfinite(abs(v)) and abs(v) > 1e-12:
            return True
    return False


@dataclass(frozen=True)
class Counterexample:
    """A point where a property fails numerically: the two compared values there."""

    point: dict[str, float]
    left: complex
    right: complex

    def describe(self) -> str:
        where = ", ".join(f"{k}={v:.6g}" for k, v in self.point.items())
        return f"at {where}: {_fmt(self.left)} vs {_fmt(self.right)}"


def _fmt(v: complex) -> str:
    return f"{v.real:.10g}" if v.imag == 0 else f"{v:.6g}"


@dataclass(frozen=True)
class BranchBehaviour:
    """Local expansion where the coordinates ``indices`` of ``x - y`` vanish.

    ``singular_order`` is the lowest order ``alpha`` of a singular term (``inf`` if none was
    found up to the search limit); ``smoothness`` the highest existing derivative order;
    ``factor`` the non-analytic factor responsible (for messages). ``minimal`` is False for a
    union of smaller branches where no factor vanishes on exactly these coordinates: every
    singular term there is one of a smaller branch's, singular along that branch's coordinates
    only, so a derivative along other coordinates is limited by the smaller branches alone.
    """

    indices: frozenset[int]
    singular_order: float
    smoothness: float
    factor: str | None = None
    minimal: bool = True


@dataclass(frozen=True)
class Coincident:
    """Behaviour of a kernel at coincident points: per-branch smoothness and any invalidity."""

    branches: tuple[BranchBehaviour, ...]
    problems: tuple[str, ...] = ()
    #: Bases (original inputs) of the factors that are non-analytic where they vanish.
    factors: tuple[sp.Expr, ...] = field(default=())

    @property
    def smoothness(self) -> float:
        return min((b.smoothness for b in self.branches), default=math.inf)

    def worst(self) -> BranchBehaviour | None:
        return min(self.branches, key=lambda b: b.smoothness, default=None)


class _Undecidable(Exception):
    """The local expansion of a factor could not be determined."""


class Analysis:
    """Properties of one kernel expression (hyperparameter values play no part)."""

    def __init__(self, expr: sp.Expr, dim: int) -> None:
        self.dim = dim
        self.orig_x = tuple(sp.Symbol(f"x{i}") for i in range(dim))
        self.orig_y = tuple(sp.Symbol(f"y{i}") for i in range(dim))
        self.x, self.y, self.t = _inputs(dim)
        self.source = expr
        self.real = expr.xreplace({**dict(zip(self.orig_x, self.x)), **dict(zip(self.orig_y, self.y))})
        self.params = tuple(sorted(self.real.free_symbols - set(self.x) - set(self.y), key=lambda s: s.name))
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ inputs
    @cached_property
    def depends_on(self) -> tuple[bool, bool]:
        """Whether the expression involves the first argument, the second."""
        free = self.real.free_symbols
        return bool(free & set(self.x)), bool(free & set(self.y))

    @cached_property
    def shifted(self) -> sp.Expr:
        """``k(Y + T, Y)``."""
        return self.real.xreplace({xi: yi + ti for xi, yi, ti in zip(self.x, self.y, self.t)})

    # ------------------------------------------------------------------ numerical counterexamples
    def _sample(self, seed: int, count: int = 6) -> Iterable[dict[sp.Symbol, sp.Rational]]:
        rng = np.random.default_rng(seed)
        for _ in range(count):
            values = {s: sp.Rational(round(float(rng.uniform(-1.3, 1.3)), 4)) for s in self.x + self.y}
            values.update({p: sp.Rational(round(float(rng.uniform(0.6, 1.7)), 4)) for p in self.params})
            yield values

    @staticmethod
    def _value(e: sp.Expr, values: Mapping[sp.Symbol, sp.Expr]) -> complex | None:
        try:
            v = complex(e.evalf(30, subs=dict(values)))
        except (TypeError, ValueError, ZeroDivisionError, OverflowError):
            return None
        return v if math.isfinite(v.real) and math.isfinite(v.imag) else None

    def _counterexample(self, left: sp.Expr, right: sp.Expr, seed: int,
                        extra: Mapping[sp.Symbol, sp.Expr] | None = None) -> Counterexample | None:
        for values in self._sample(seed):
            if extra:
                values.update(extra)
            a, b = self._value(left, values), self._value(right, values)
            if a is None or b is None:
                continue
            # Both sides carry 30 digits: a difference far above 1e-30 relative is real.
            if abs(a - b) > 1e-20 * max(1.0, abs(a), abs(b)):
                names = {**{v: str(o) for v, o in zip(self.x, self.orig_x)},
                         **{v: str(o) for v, o in zip(self.y, self.orig_y)}}
                point = {names.get(s, str(s)): float(v) for s, v in values.items() if s in names or s in self.params}
                return Counterexample(point, a, b)
        return None

    # ------------------------------------------------------------------ stationarity
    @cached_property
    def stationary(self) -> bool:
        """Translation invariance ``k(x + c, y + c) = k(x, y)``, proven (False if unproven)."""
        shifted = self.shifted
        if not shifted.free_symbols & set(self.y):
            return True
        offset = sp.Symbol("_ac", real=True)
        moved = self.real.xreplace({s: s + offset for s in self.x + self.y})
        if self._counterexample(moved, self.real, seed=11, extra={offset: sp.Rational(37, 50)}):
            return False
        canonical = sp.expand(shifted)
        if not canonical.free_symbols & set(self.y):
            return True
        return all(_is_zero(sp.diff(shifted, yi)) for yi in self.y if shifted.has(yi))

    # ------------------------------------------------------------------ symmetry
    @cached_property
    def symmetry(self) -> tuple[bool | None, Counterexample | None]:
        """``(True, None)`` if proven, ``(False, counterexample)`` if refuted, ``(None, None)`` if neither."""
        swap = {**dict(zip(self.x, self.y)), **dict(zip(self.y, self.x))}
        swapped = self.real.xreplace(swap)
        difference = swapped - self.real
        if difference == 0 or sp.expand(difference) == 0:
            return True, None
        found = self._counterexample(self.real, swapped, seed=7)
        if found is not None:
            return False, found
        if _is_zero(difference):
            return True, None
        if self.stationary:
            flipped = self.shifted.xreplace({ti: -ti for ti in self.t})
            if _is_zero(flipped - self.shifted):
                return True, None
        return None, None

    # ------------------------------------------------------------------ coincident points
    @cached_property
    def coincident(self) -> Coincident:
        with self._lock:
            return _CoincidentAnalysis(self).run()

    @cached_property
    def diagonal_value(self) -> sp.Expr:
        """``lim k(x, y)`` as ``x -> y`` (in the original ``y`` and hyperparameters)."""
        runner = _CoincidentAnalysis(self)
        atoms = runner.atoms()
        every = frozenset(range(self.dim))
        if not atoms:
            value = runner.expr.xreplace({ti: sp.Integer(0) for ti in self.t})
        else:
            expander = _BranchExpander(runner, every, atoms)
            value = sp.series(expander.build(runner.expr), _S, 0, 1).removeO().subs(_S, 0)
        return self.original(value)

    def original(self, e: sp.Expr) -> sp.Expr:
        """Write an expression of the shifted real symbols in the kernel's inputs (for messages)."""
        back = {ti: xi - yi for ti, xi, yi in zip(self.t, self.orig_x, self.orig_y)}
        back.update(dict(zip(self.y, self.orig_y)))
        back.update(dict(zip(self.x, self.orig_x)))
        return e.xreplace(back)


@dataclass
class _Atom:
    """A factor that is not analytic where its argument vanishes."""

    node: sp.Expr
    kind: str  # "abs", "power", "log", "opaque"
    base: sp.Expr
    exponent: sp.Expr | None = None
    #: Minimal sets of coordinates of t whose vanishing makes the base vanish identically.
    vanishing: tuple[frozenset[int], ...] = ()


class _CoincidentAnalysis:
    """One run of the coincident-point expansion (see the module docstring)."""

    def __init__(self, analysis: Analysis) -> None:
        self.a = analysis
        t = analysis.t
        # tan has poles: write it through cos so that a vanishing cos is seen as a division.
        self.expr = analysis.shifted.replace(sp.tan, lambda z: sp.sin(z) / sp.cos(z))
        self.tset = set(t)
        self.problems: list[str] = []

    # ............................................................ atoms
    def atoms(self) -> list[_Atom]:
        seen: dict[sp.Expr, _Atom] = {}
        for node in sp.postorder_traversal(self.expr):
            if node in seen or node.is_Atom or not node.free_symbols & self.tset:
                continue
            atom = None
            if isinstance(node, sp.Abs):
                atom = _Atom(node, "abs", node.args[0])
            elif isinstance(node, sp.Pow):
                if not (node.exp.is_Integer and node.exp >= 0):
                    if node.exp.free_symbols & self.tset:
                        atom = _Atom(node, "opaque", node.base)
                    else:
                        atom = _Atom(node, "power", node.base, node.exp)
            elif isinstance(node, sp.log):
                atom = _Atom(node, "log", node.args[0])
            elif isinstance(node, sp.Function) and not isinstance(node, _ANALYTIC):
                atom = _Atom(node, "opaque", sp.Add(*node.args))
            if atom is None:
                continue
            atom.vanishing = self._vanishing_sets(atom.base)
            if atom.kind == "opaque":
                atom.vanishing = atom.vanishing or (frozenset(self._indices(atom.node)),)
            seen[node] = atom
        return [a for a in seen.values() if a.vanishing]

    def _indices(self, e: sp.Expr) -> set[int]:
        return {i for i, ti in enumerate(self.a.t) if e.has(ti)}

    def _vanishing_sets(self, base: sp.Expr) -> tuple[frozenset[int], ...]:
        indices = sorted(self._indices(base))
        if not indices:
            return ()
        if len(indices) <= 4:
            candidates = [frozenset(c) for n in range(1, len(indices) + 1) for c in itertools.combinations(indices, n)]
        else:
            candidates = [frozenset([i]) for i in indices] + [frozenset(indices)]
        minimal: list[frozenset[int]] = []
        for c in candidates:
            if any(m <= c for m in minimal):
                continue
            if _is_zero(base.xreplace({self.a.t[i]: sp.Integer(0) for i in c})):
                minimal.append(c)
        return tuple(minimal)

    # ............................................................ branches
    def run(self) -> Coincident:
        atoms = self.atoms()
        if not atoms:
            return Coincident((), (), ())
        minimal = {m for a in atoms for m in a.vanishing}
        branches: set[frozenset[int]] = set()
        for n in range(1, len(minimal) + 1):
            for combo in itertools.combinations(sorted(minimal, key=sorted), n):
                branches.add(frozenset().union(*combo))
        out = []
        for indices in sorted(branches, key=lambda b: (-len(b), sorted(b))):
            behaviour = self.branch(indices, atoms)
            if indices not in minimal:
                behaviour = dataclasses.replace(behaviour, minimal=False)
            out.append(behaviour)
        factors = tuple(self.a.original(a.node) for a in atoms)
        return Coincident(tuple(out), tuple(dict.fromkeys(self.problems)), factors)

    def branch(self, indices: frozenset[int], atoms: list[_Atom]) -> BranchBehaviour:
        active = [a for a in atoms if any(m <= indices for m in a.vanishing)]
        outer = [a for a in active if not any(b is not a and b.node.has(a.node) for b in active)]
        label = ", ".join(str(self.a.original(a.node)) for a in outer) or None
        symbolic = [a for a in active if a.kind == "power" and not a.exponent.is_number]
        if any(not a.exponent.is_positive for a in symbolic):
            self.problems.append(f"{label} may be infinite where {self._where(indices)}: an exponent of a "
                                 "quantity vanishing there is not known to be positive")
        if symbolic or any(a.kind == "opaque" for a in active):
            # No series in a symbolic exponent: no derivative claimed, the value checked directly.
            if self._value_unknown(indices):
                self.problems.append(f"kernelgen cannot evaluate {label} where {self._where(indices)}")
            return BranchBehaviour(indices, 0.0, 0.0, label)
        expander = _BranchExpander(self, indices, active)
        try:
            alpha = expander.singular_order()
        except _Undecidable as exc:
            self.problems.extend(expander.problems)
            self.problems.append(f"kernelgen cannot determine the behaviour of {label} where "
                                 f"{self._where(indices)}: {exc}")
            return BranchBehaviour(indices, 0.0, 0.0, label)
        self.problems.extend(expander.problems)
        if math.isinf(alpha):
            smooth = float(SMOOTHNESS_SEARCH_LIMIT)
        else:
            smooth = max(float(math.ceil(alpha) - 1), 0.0)
        return BranchBehaviour(indices, alpha, smooth, label)

    def _value_unknown(self, indices: frozenset[int]) -> bool:
        at = self.expr.xreplace({self.a.t[i]: sp.Integer(0) for i in indices})
        return at.has(sp.zoo, sp.nan, sp.oo, -sp.oo)

    def _where(self, indices: frozenset[int]) -> str:
        return " and ".join(f"x{i} = y{i}" for i in sorted(indices))


class _BranchExpander:
    """The generalised series of the kernel in the scale ``s`` of one branch."""

    def __init__(self, owner: _CoincidentAnalysis, indices: frozenset[int], atoms: list[_Atom]) -> None:
        self.owner = owner
        self.t = owner.a.t
        self.indices = indices
        self.scaled_t = [self.t[i] for i in sorted(indices)]
        self.atoms = {a.node: a for a in atoms}
        self.relations: dict[sp.Symbol, tuple[int, sp.Expr]] = {}  # P -> (q, c): P**q = c
        self.markers: set[sp.Symbol] = {_LOG_S}
        self.problems: list[str] = []
        self._memo: dict[sp.Expr, sp.Expr] = {}
        self._roots: dict[sp.Expr, tuple[sp.Symbol, int, sp.Expr, sp.Expr]] = {}
        self._denominators: dict[sp.Expr, int] = {}
        for a in atoms:
            if a.kind == "power" and a.exponent.is_Rational:
                q = _rational(a.exponent).q
                self._denominators[a.base] = math.lcm(self._denominators.get(a.base, 1), q)

    # ............................................................ rebuilding in s
    def build(self, e: sp.Expr) -> sp.Expr:
        if e in self._memo:
            return self._memo[e]
        if not e.free_symbols & set(self.scaled_t):
            out = e
        elif e.is_Symbol:
            out = _S * e
        elif e in self.atoms:
            out = self._replace(self.atoms[e])
        else:
            out = e.func(*(self.build(a) for a in e.args))
        self._memo[e] = out
        return out

    def _lead(self, b: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
        try:
            c, m = sp.expand(b).leadterm(_S)
        except (ValueError, NotImplementedError, TypeError, PoleError) as exc:
            raise _Undecidable(str(exc)) from None
        if c == 0 or c.has(_S):
            raise _Undecidable(f"no leading term for {b}")
        return sp.factor_terms(c), m

    def _ratio(self, b: sp.Expr, c: sp.Expr, m: sp.Expr) -> sp.Expr:
        """``b / (c s**m)``, which tends to 1 (``cancel`` makes it exactly 1 for monomials)."""
        return sp.cancel(sp.expand(b * _S ** (-m)) / c)

    def _replace(self, atom: _Atom) -> sp.Expr:
        b = self.build(atom.base)
        c, m = self._lead(b)
        label = self.owner.a.original(atom.node)
        if atom.kind == "abs":
            if c.is_nonnegative:
                return b
            if c.is_nonpositive:
                return -b
            p = self._new_symbol(2, c**2)
            return _S**m * p * self._ratio(b, c, m)
        if atom.kind == "log":
            return m * _LOG_S + sp.log(c) + sp.log(self._ratio(b, c, m))
        e = _rational(atom.exponent)
        if e < 0:
            self.problems.append(f"{label} divides by {self.owner.a.original(atom.base)}, which vanishes "
                                 f"where {self.owner._where(self.indices)}")
        if c.is_negative:
            self.problems.append(f"{label} is not real near {self.owner._where(self.indices)}")
        q = self._denominators.get(atom.base, e.q)
        key = atom.base
        if key not in self._roots:
            p = self._new_symbol(q, c)
            self._roots[key] = (p, q, c, m)
        p, q, c0, m0 = self._roots[key]
        return _S ** (m0 * e) * p ** int(e * q) * self._ratio(b, c0, m0) ** e

    def meanings(self) -> dict[sp.Symbol, sp.Expr]:
        """What each positive symbol ``P`` stands for: the positive root ``c**(1/q)``."""
        return {p: sp.Abs(c) ** sp.Rational(1, q) for p, (q, c) in self.relations.items()}

    def _new_symbol(self, q: int, c: sp.Expr) -> sp.Symbol:
        p = sp.Symbol(f"_aP{len(self.relations)}", positive=True)
        self.relations[p] = (q, c)
        self.markers.add(p)
        return p

    # ............................................................ series
    def relevant(self, f: sp.Expr) -> sp.Expr:
        """``f`` without what cannot change its singular terms.

        Terms of the top-level sum without a non-analytic factor are analytic (their series
        coefficients are polynomials) and are dropped; when one term is left, its factors that
        are analytic and non-zero at ``s = 0`` are dropped too (multiplying by them keeps every
        singular order). Inside a sum nothing is dropped: relative weights decide cancellations.
        """
        kept = [term for term in sp.Add.make_args(f) if self._marked(term)]
        if len(kept) != 1:
            return sp.Add(*kept)
        factors = []
        for factor in sp.Mul.make_args(kept[0]):
            if not self._marked(factor):
                at_zero = factor.subs(_S, 0)
                if at_zero.is_zero is False and not at_zero.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
                    continue
            factors.append(factor)
        return sp.Mul(*factors)

    def _marked(self, e: sp.Expr) -> bool:
        if e.free_symbols & self.markers:
            return True
        return any(p.base == _S and not p.exp.is_Integer for p in e.atoms(sp.Pow))

    def reduce(self, coeff: sp.Expr) -> sp.Expr:
        """Replace ``P**k`` by ``c**(k // q) * P**(k % q)`` (repeatedly, for nested roots)."""
        for _ in range(len(self.relations) + 1):
            changed = False

            def fold(e: sp.Expr) -> sp.Expr:
                nonlocal changed
                q, c = self.relations[e.base]
                k = int(e.exp)
                changed = True
                return c ** (k // q) * e.base ** (k % q)

            coeff = sp.expand(coeff.replace(
                lambda e: e.is_Pow and e.base in self.relations and e.exp.is_Integer
                and (int(e.exp) >= self.relations[e.base][0] or int(e.exp) < 0),
                fold))
            if not changed:
                break
        return coeff

    def singular_order(self) -> float:
        f = self.relevant(self.build(self.owner.expr))
        if f == 0:
            return math.inf
        for n in _SERIES_ORDERS:
            try:
                series = sp.series(f, _S, 0, n).removeO()
            except (ValueError, NotImplementedError, TypeError, ZeroDivisionError, PoleError) as exc:
                raise _Undecidable(str(exc)) from None
            alpha = self._first_singular(series)
            if alpha is not None:
                return alpha
        return math.inf

    def _first_singular(self, series: sp.Expr) -> float | None:
        by_order: dict[sp.Expr, sp.Expr] = {}
        for term in sp.Add.make_args(sp.expand(series)):
            coeff, power = term.as_coeff_exponent(_S)
            if coeff.has(_S):
                raise _Undecidable(f"unexpected term {term}")
            by_order[power] = by_order.get(power, sp.Integer(0)) + coeff
        where = self.owner._where(self.indices)
        meanings = self.meanings()
        for power in sorted(by_order, key=float):
            coeff = self.reduce(by_order[power])
            if _is_zero(coeff, meanings):
                continue
            singular = (not power.is_Integer or bool(coeff.free_symbols & self.markers)
                        or not sp.cancel(coeff).is_polynomial(*self.scaled_t))
            if power < 0:
                self.problems.append(f"the kernel is infinite where {where}")
                return float(power)
            if power == 0 and singular:
                if coeff.has(_LOG_S):
                    self.problems.append(f"the kernel is infinite where {where} (logarithmically)")
                else:
                    self.problems.append(f"the kernel has no limit where {where} (its value there depends "
                                         "on the direction of approach)")
                return 0.0
            if singular:
                return float(power)
        return None


def _rational(e: sp.Expr) -> sp.Rational:
    if isinstance(e, sp.Float):
        return sp.Rational(repr(float(e)))
    return sp.Rational(e)


# ---------------------------------------------------------------------- cache
_cache: dict[str, Analysis] = {}
_cache_lock = threading.Lock()


def analysis_of(expr: sp.Expr, dim: int) -> Analysis:
    """The (shared, lazily computed) analysis of one expression in ``dim`` inputs."""
    key = f"{dim}|{sp.srepr(expr)}"
    with _cache_lock:
        found = _cache.get(key)
        if found is None:
            found = _cache[key] = Analysis(expr, dim)
    return found


# ---------------------------------------------------------------------- PSD probe
#: Scales of the random point sets of the positive-semi-definiteness probe.
PSD_SCALES = (0.01, 0.3, 1.0, 3.0, 30.0)


def psd_problem(expr: sp.Expr, dim: int, values: Mapping[str, float], n_points: int = 12,
                seed: int = 0) -> str | None:
    """Describe the first Gram matrix found not positive semi-definite (or not finite), else None.

    Random point sets of ``n_points`` points, uniform in ``[-scale, scale]**dim`` for each of
    :data:`PSD_SCALES`, at the hyperparameter ``values``. A negative eigenvalue counts when it is
    below ``-1e-9`` times the largest one (well above rounding).
    """
    x = [sp.Symbol(f"x{i}") for i in range(dim)]
    y = [sp.Symbol(f"y{i}") for i in range(dim)]
    params = sorted(expr.free_symbols - set(x) - set(y), key=lambda s: s.name)
    f = sp.lambdify([*x, *y, *params], expr, modules="numpy")
    args = [values[p.name] for p in params]
    diagonal = None
    rng = np.random.default_rng(seed)
    for scale in PSD_SCALES:
        pts = rng.uniform(-scale, scale, size=(n_points, dim))
        a = [pts[:, None, i] for i in range(dim)]
        b = [pts[None, :, i] for i in range(dim)]
        with np.errstate(all="ignore"):
            try:
                gram = np.broadcast_to(np.asarray(f(*a, *b, *args)), (n_points, n_points))
            except (TypeError, ValueError, ZeroDivisionError, OverflowError) as exc:
                return f"it cannot be evaluated on random points at scale {scale:g} ({exc})"
        if np.iscomplexobj(gram):
            if np.any(np.abs(gram.imag) > 1e-12 * np.max(np.abs(gram))):
                return f"it takes complex values on random points at scale {scale:g}"
            gram = gram.real
        gram = np.array(gram, dtype=float)
        if not np.all(np.isfinite(np.diag(gram))):
            # k(x, x) may be a limit that the expression as written does not evaluate (r**2 log r).
            if diagonal is None:
                value = analysis_of(expr, dim).diagonal_value
                diagonal = sp.lambdify([*y, *params], value, modules="numpy")
            with np.errstate(all="ignore"):
                values = np.broadcast_to(np.asarray(diagonal(*[pts[:, i] for i in range(dim)], *args)),
                                         (n_points,))
            np.fill_diagonal(gram, np.real(values))
        if not np.all(np.isfinite(gram)):
            return f"it is not finite (or not real) on random points at scale {scale:g}"
        eig = np.linalg.eigvalsh((gram + gram.T) / 2)
        top = max(abs(eig[-1]), abs(eig[0]))
        if eig[0] < -1e-9 * top:
            return (f"a Gram matrix of {n_points} random points at scale {scale:g} has eigenvalue "
                    f"{eig[0]:.3g} (largest {eig[-1]:.3g})")
    return None


def describe_branch(indices: Sequence[int]) -> str:
    return " and ".join(f"x{i} = y{i}" for i in sorted(indices))
