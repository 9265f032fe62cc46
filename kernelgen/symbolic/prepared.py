"""A kernel rewritten for exact differentiation, with coincident points handled exactly.

Pipeline (one object per kernel expression, cached):

1. *Differences.* Every stationary subtree is rewritten in ``t_i = x_i - y_i``; what depends on
   the inputs otherwise keeps bare ``x_i``, ``y_i``. Then ``d/dx_i = d/dx_i|bare + d/dt_i`` and
   ``d/dy_i = d/dy_i|bare - d/dt_i``; a fully stationary kernel never differentiates twice.
2. *Radii.* ``sqrt(Q)`` and ``|u|`` of expressions that vanish at ``t = 0`` (distances) become
   positive symbols ``R_j``; the quadratic form ``Q_j`` also becomes ``R_j**2`` wherever it shows up
   in a sum. ``dR/dt_i = (dQ/dt_i) / (2 R)``. Expanding after every derivative cancels the
   ``1/R`` terms algebraically, so the general branch stays accurate as ``r -> 0``.
   Non-integer powers of other input-dependent sums keep their base as a symbol ``u = 1 + z``,
   and ``exp``, ``sin``, ``cos`` of input-dependent arguments become symbols too
   (:class:`Transcendental`). Every expression is then a sum of monomials in symbols whose
   derivatives are known, so a derivative is taken monomial by monomial with the product rule
   (:meth:`PreparedKernel._derive`): no SymPy ``diff`` of large sums, no re-expansion. The
   functions are written back before CSE (:meth:`PreparedKernel.with_functions`).
3. *Coincident values.* At ``R_j = 0`` the derivative is read off the Taylor polynomial of the
   kernel in a scale ``s`` (``t -> s t``, ``R -> s R``): even powers of ``R`` are polynomials
   (``R**2 = Q``). Which derivatives exist is decided on the ORIGINAL expression by
   :mod:`.analysis` (odd and non-integer powers of distances, logarithms, vanishing bases); a
   request needs the covariance of the derivative process to exist, i.e. smoothness
   ``>= 2 * max(len(dx), len(dy))``, otherwise :class:`NotDifferentiableError` is raised. Only
   requests below the first singular order are expanded, so every Taylor term used is a
   polynomial. A non-analytic factor that is not a power of a radius (``|x0 - y0 + x1 - y1|``,
   ``(1 - exp(-r**2))**0.75``) has no exact coincident branch here: such kernels get no
   derivatives.
4. *Stationarity* is proven on the original expression (:mod:`.analysis`); the ``d/dy = -d/dx``
   shortcut is taken per additive part, only for parts whose every dependency -- through power
   bases and radii included -- is on the differences alone.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import sympy as sp

from .analysis import Analysis, analysis_of
from .errors import NotDifferentiableError
from .memo import PerKernel
from .request import Request

if TYPE_CHECKING:
    from .kernel import Kernel

__all__ = [
    "PREPARATION_VERSION", "Base", "Branch", "Difference", "NotDifferentiableError", "PreparedKernel", "Radius",
    "Transcendental", "hazard_threshold",
]

#: Part of every generated module's identity (its file name): bump it whenever a change here or in
#: :mod:`.analysis` changes what is generated or which requests are accepted, so that modules
#: cached by an older kernelgen are never loaded for the new rules.
PREPARATION_VERSION = "3"


def expand(e: sp.Expr) -> sp.Expr:
    # power_exp=False keeps exp(a + b) whole; products are distributed so 1/R terms cancel.
    return sp.expand(e, deep=True, mul=True, multinomial=True, power_exp=False, power_base=False, log=False)


def difference_symbols(dim: int) -> tuple[sp.Symbol, ...]:
    return tuple(sp.Symbol(f"_d{i}") for i in range(dim))


@dataclass(frozen=True)
class Radius:
    """A distance ``R = sqrt(Q(t))``: the symbol, its quadratic form and the differences it uses."""

    symbol: sp.Symbol
    quadratic: sp.Expr
    indices: frozenset[int]


@dataclass(frozen=True)
class Difference:
    """A difference of warped inputs, ``D = w(x) - w(y)``, that a distance is made of.

    ``|w(x) - w(y)|`` and ``sqrt((w(x) - w(y))**2 / l**2)`` become radii over ``D``; expanding the
    square instead would cancel every digit as ``x -> y``. ``value`` is the accurate form used by
    the generated code (``(x - y) * q`` when the difference is a polynomial divisible by ``x - y``).
    """

    symbol: sp.Symbol
    expr: sp.Expr
    value: sp.Expr
    indices: frozenset[int]


@dataclass(frozen=True)
class Base:
    """A power base ``u = 1 + z`` with a non-integer exponent, kept as a symbol.

    As a symbol ``u`` stays one factor: ``expand`` cannot multiply it into denominators (which made
    rational-quadratic derivatives grow a hundredfold per order), and ``log(u)`` from a derivative
    in the exponent can be rewritten without cancellation (see :class:`log1p_ratio`).
    """

    symbol: sp.Symbol
    shift_symbol: sp.Symbol
    shift: sp.Expr


@dataclass(frozen=True)
class Transcendental:
    """``exp(a)``, ``sin(a)`` or ``cos(a)`` of an input-dependent ``a``, kept as a symbol.

    Derivatives then stay polynomials in these symbols (``d exp(a) = exp(a) da``,
    ``d sin(a) = cos(a) da``, ``d cos(a) = -sin(a) da``): SymPy expands sums of monomials
    instead of carrying (and re-combining) a large ``exp(...)`` in every term, which is what made
    order-4 composites slow. The generated code computes each one once per pair.
    """

    symbol: sp.Symbol
    func: type[sp.Function]
    arg: sp.Expr
    #: ``d symbol / d arg`` in terms of the symbols (``symbol`` itself, the partner, minus it).
    derivative: sp.Expr

    @property
    def value(self) -> sp.Expr:
        return self.func(self.arg)


class log1p_ratio(sp.Function):  # noqa: N801  (printed as a helper of the same name)
    """``log(1 + z) - z / (1 + z)``, about ``z**2 / 2`` near 0; generated code sums its series there.

    A log-hyperparameter derivative through an exponent (rational quadratic's ``alpha``) is
    ``-log(1 + z) + z / (1 + z)`` times smooth factors; written with this function the two parts
    cancel in the algebra instead of in floating point.
    """

    nargs = 1


@dataclass(frozen=True)
class Limit:
    """Derivatives along ``indices`` exist to total ``order`` where those coordinates of x - y vanish.

    ``minimal`` is False for a union of smaller branches (see ``BranchBehaviour.minimal``): it
    lowers the kernel's total smoothness but never limits a request, the smaller branches do.
    """

    indices: frozenset[int]
    order: float
    reason: str | None = None
    minimal: bool = True

    def needed(self, request: Request) -> int:
        """Order the covariance of the request's derivative processes needs here: derivatives along
        other coordinates do not differentiate this branch's non-analytic factor."""
        if not self.minimal:
            return 0
        return 2 * max(sum(i in self.indices for i in request.dx), sum(i in self.indices for i in request.dy))


@dataclass(frozen=True)
class Branch:
    """Where a set of radii vanish (``radii`` indices into ``PreparedKernel.radii``)."""

    radii: tuple[int, ...]
    indices: frozenset[int]


class PreparedKernel(PerKernel):
    """Differentiation engine for one kernel expression (hyperparameter values do not matter)."""

    def __init__(self, kernel: Kernel) -> None:
        self.name = kernel.name
        self.dim = kernel.dim
        self.x = kernel.x
        self.y = kernel.y
        self.t = difference_symbols(self.dim)
        self.params = tuple(sp.Symbol(n, positive=True) for n in kernel.all_hyperparameter_names)
        self.source = kernel.expr
        self.analysis: Analysis = analysis_of(kernel.expr, kernel.dim)
        self._lock = threading.RLock()
        form = _to_differences(kernel.expr, self.x, self.y, self.t)
        form, self.radii, self.differences = _substitute_radii(form, self.t, self.x, self.y)
        variables = (set(self.t) | {r.symbol for r in self.radii} | {d.symbol for d in self.differences}
                     | set(self.x) | set(self.y))
        coincide = {**{xi: yi for xi, yi in zip(self.x, self.y)}, **{ti: sp.Integer(0) for ti in self.t},
                    **{r.symbol: sp.Integer(0) for r in self.radii},
                    **{d.symbol: sp.Integer(0) for d in self.differences}}
        form, self.bases = _substitute_bases(form, variables, coincide)
        self._radial_bases = _radial_bases(self.bases, self.radii)
        self._squares = _squares_of_radii(self.radii, set(self.t) | {d.symbol for d in self.differences})
        form, self.transcendentals = _substitute_transcendentals(form, variables | {b.symbol for b in self.bases})
        self.form = expand(form) if self.radii or self.bases or self.transcendentals else form
        self._inner: dict[tuple[object, ...], sp.Expr] = {}
        self._written: dict[sp.Expr, sp.Expr] = {}
        # Derivatives are linear: the terms proven to depend on the differences alone (d/dy =
        # -d/dx, memoized per multiset) and the rest (e.g. "+ linear") are differentiated apart.
        # A base symbol hides what its base depends on, so dependencies are followed through it.
        bare = set(self.x) | set(self.y)
        terms = sp.Add.make_args(self.form)
        on_differences = [not (self.dependencies(a) & bare) for a in terms]
        stationary_part = sp.Add(*(a for a, ok in zip(terms, on_differences) if ok))
        other_part = sp.Add(*(a for a, ok in zip(terms, on_differences) if not ok))
        self.parts: tuple[tuple[sp.Expr, bool], ...] = tuple(
            (part, flag) for part, flag in ((stationary_part, True), (other_part, False)) if part != 0
        ) or ((self.form, not (self.dependencies(self.form) & bare)),)
        self.branches = _branches(self.radii)
        self._derivatives: dict[tuple[int, tuple[int, ...], tuple[int, ...]], sp.Expr] = {}
        self._outputs: dict[tuple[object, ...], sp.Expr] = {}
        self._taylor: dict[tuple[object, ...], tuple[list[sp.Expr], list[tuple[sp.Expr, sp.Symbol]]]] = {}
        #: Always True: a kernel that is not provably symmetric is refused at construction.
        self.symmetric = True

    def dependencies(self, e: sp.Expr) -> set[sp.Symbol]:
        """Free symbols of ``e`` with every base symbol replaced by what its base depends on."""
        out = set(e.free_symbols)
        for tr in reversed(self.transcendentals):
            if tr.symbol in out:
                out.discard(tr.symbol)
                out |= self.dependencies(tr.arg)
        for base in reversed(self.bases):
            if base.symbol in out:
                out.discard(base.symbol)
                out |= self.dependencies(base.shift)
        for radius in self.radii:
            if radius.symbol in out:
                out |= self.dependencies(radius.quadratic)
        for d in self.differences:
            if d.symbol in out:
                out.discard(d.symbol)
                out |= d.expr.free_symbols
        return out

    @property
    def stationary(self) -> bool:
        """Translation invariance, proven on the original expression (see :mod:`.analysis`)."""
        return self.analysis.stationary

    # ------------------------------------------------------------------ smoothness
    @property
    def smoothness(self) -> float:
        """Highest total order of input derivatives that exists at coincident points (and that
        kernelgen evaluates exactly there), in every direction."""
        return min((limit.order for limit in self._supported), default=math.inf)

    @cached_property
    def _supported(self) -> tuple[Limit, ...]:
        """One :class:`Limit` per coincident branch: the analysis' smoothness, 0 where kernelgen has
        no exact evaluation there."""
        coincident = self.analysis.coincident
        out = [Limit(b.indices, b.smoothness, b.factor, b.minimal) for b in coincident.branches]
        if any(limit.order > 0 for limit in out) and self._radius_differences:
            warped = ", ".join(str(d.expr) for d in self._radius_differences)
            reason = (f"kernelgen has no exact coincident-point evaluation for derivatives through the "
                      f"warped difference(s) {warped}")
            return (Limit(frozenset(range(self.dim)), 0.0, reason),)
        for k, limit in enumerate(out):
            inexact = self._inexact_factors([limit.indices]) if limit.order > 0 else None
            if inexact:
                reason = (f"kernelgen has no exact coincident-point evaluation for derivatives of {inexact} "
                          "(only powers of distances such as |x0 - y0| or sqrt((x0 - y0)**2 + ...) are supported)")
                out[k] = dataclasses.replace(limit, order=0.0, reason=reason)
        return tuple(out)

    @cached_property
    def distance_hazards(self) -> tuple[sp.Expr, ...]:
        """Arguments ``a`` (vanishing with a radius of several coordinates) of the sines and cosines
        the general branch is written in: ``exp_sine_squared`` in d > 1.

        Their derivatives of total order k >= 3 are sums of terms of size ``1/|a|**(k-2)`` that
        cancel to O(1) only in floating point (``F''(r) - F'(r)/r`` with ``F`` even in r): the error
        is about ``eps / |a|**(k-2)`` of the output's scale. 1-D distances, exponentials and powers of
        a radius cancel in the algebra instead; this kind does not (see :func:`hazard_threshold`).
        """
        several = {r.symbol for r in self.radii if len(r.indices) > 1}
        zero = {r.symbol: sp.Integer(0) for r in self.radii} | {t: sp.Integer(0) for t in self.t}
        found = [tr.arg for tr in self.transcendentals
                 if tr.func in (sp.sin, sp.cos) and tr.arg.free_symbols & several
                 and sp.expand(tr.arg.xreplace(zero)) == 0]
        return tuple(dict.fromkeys(found))

    @cached_property
    def _radius_differences(self) -> tuple[Difference, ...]:
        """Differences a radius is made of: a coincident branch scales them (``D -> s D``), which is
        exact for the value there only. Every other difference is spelled out in the inputs."""
        return tuple(d for d in self.differences if any(r.quadratic.has(d.symbol) for r in self.radii))

    def _inexact_factors(self, branches: Sequence[frozenset[int]]) -> str | None:
        """A non-analytic factor vanishing on a branch that is not a power (or log) of a radius."""
        explicit = self.explicit(self.form)
        radius_symbols = {r.symbol for r in self.radii}
        for node in sp.preorder_traversal(explicit):
            if isinstance(node, sp.Abs) or isinstance(node, sp.log):
                arg = node.args[0]
            elif isinstance(node, sp.Pow) and not (node.exp.is_Integer and node.exp >= 0):
                arg = node.base
            else:
                continue
            vanishing = set(self.t) | radius_symbols | {d.symbol for d in self.differences}
            if arg in radius_symbols or not (arg.free_symbols & vanishing):
                continue
            for indices in branches:
                zero = {self.t[i]: sp.Integer(0) for i in indices}
                zero.update({r.symbol: sp.Integer(0) for r in self.radii if r.indices <= indices})
                zero.update({d.symbol: sp.Integer(0) for d in self.differences if d.indices <= indices})
                if sp.expand(arg.xreplace(zero)) == 0:
                    return str(self.to_inputs(node))
        return None

    def check_request(self, request: Request) -> None:
        """Raise :class:`NotDifferentiableError` unless cov(d^dx f, d^dy f) exists everywhere."""
        dx, dy = request.dx, request.dy
        for limit in self._supported:
            if limit.order < limit.needed(request):
                where = " and ".join(f"x{i} = y{i}" for i in sorted(limit.indices))
                along = ", ".join(f"x{i}" for i in sorted(limit.indices))
                cause = f" ({limit.reason})" if limit.reason else ""
                raise NotDifferentiableError(
                    f"kernel {self.name!r} ({self.source}) is not differentiable to order "
                    f"dx={dx}, dy={dy} where {where}{cause}: derivatives along {along} of total order "
                    f"> {int(limit.order)} do not exist there, so at most {int(limit.order // 2)} derivative(s) "
                    f"per argument along {along} are supported (the derivative process must have a covariance)"
                )
        needed = 2 * request.per_argument
        inputs = set(self.x) | set(self.y) | set(self.t)
        if needed and (factor := self._abs_factor(inputs)):
            raise NotDifferentiableError(
                f"kernel {self.name!r}: derivatives dx={dx}, dy={dy} would differentiate {factor}, which is "
                "not differentiable where its argument vanishes; kernelgen differentiates |.| only of a "
                "distance such as |x0 - y0|"
            )

    def _abs_factor(self, symbols: set[sp.Symbol]) -> str | None:
        """An absolute value left in the prepared form (not a distance) that involves ``symbols``
        (also through the difference, base and transcendental symbols inside it)."""
        for node in self._abs_nodes:
            if self.dependencies(node) & symbols:
                return str(self.to_inputs(node))
        return None

    @cached_property
    def _abs_nodes(self) -> tuple[sp.Expr, ...]:
        return tuple(n for n in sp.preorder_traversal(self.explicit(self.form)) if isinstance(n, sp.Abs))

    # ------------------------------------------------------------------ general branch
    def _chain(self, e: sp.Expr, direct: Callable[[sp.Expr], sp.Expr],
               d_quadratic: Callable[[Radius], sp.Expr], key: tuple[object, ...]) -> sp.Expr:
        """Total derivative: ``direct`` on the explicit variables plus the radius, base and
        transcendental terms. ``key`` names the derivative (inner derivatives are memoized by it)."""
        out = direct(e)
        for radius in self.radii:
            if e.has(radius.symbol):
                dq = self._quadratic_derivative(radius, direct, d_quadratic, key)
                if dq != 0:
                    out += e.diff(radius.symbol) * dq / (2 * radius.symbol)
        for d in self.differences:
            if e.has(d.symbol):
                dd = self._inner_derivative(d.symbol, d.expr, direct, d_quadratic, key)
                if dd != 0:
                    out += e.diff(d.symbol) * dd
        for base in self.bases:
            if e.has(base.symbol):
                dz = self._inner_derivative(base.symbol, base.shift, direct, d_quadratic, key)
                if dz != 0:
                    out += e.diff(base.symbol) * dz
        for tr in self.transcendentals:
            if e.has(tr.symbol):
                da = self._inner_derivative(tr.symbol, tr.arg, direct, d_quadratic, key)
                if da != 0:
                    out += e.diff(tr.symbol) * tr.derivative * da
        return out

    def _quadratic_derivative(self, radius: Radius, direct: Callable[[sp.Expr], sp.Expr],
                              d_quadratic: Callable[[Radius], sp.Expr], key: tuple[object, ...]) -> sp.Expr:
        """Total derivative of a radius' quadratic form: through the differences it is written in."""
        out = d_quadratic(radius)
        for d in self.differences:
            if radius.quadratic.has(d.symbol):
                dd = self._inner_derivative(d.symbol, d.expr, direct, d_quadratic, key)
                out += radius.quadratic.diff(d.symbol) * dd
        return expand(out)

    def _inner_derivative(self, symbol: sp.Symbol, inner: sp.Expr, direct: Callable[[sp.Expr], sp.Expr],
                          d_quadratic: Callable[[Radius], sp.Expr], key: tuple[object, ...]) -> sp.Expr:
        with self._lock:
            memo = (symbol, key)
            if memo not in self._inner:
                self._inner[memo] = expand(self._chain(inner, direct, d_quadratic, key))
            return self._inner[memo]

    def _rules(self, key: tuple[object, ...]) -> tuple[Callable[[sp.Expr], sp.Expr], Callable[[Radius], sp.Expr]]:
        """``(direct, d_quadratic)`` of the derivative named ``key`` for :meth:`_chain`."""
        if key[0] == "input":
            _, i, first = key
            sign = 1 if first else -1
            bare = self.x[i] if first else self.y[i]
            return (lambda f: f.diff(bare) + sign * f.diff(self.t[i]),
                    lambda r: sign * r.quadratic.diff(self.t[i]) if i in r.indices else sp.Integer(0))
        param = key[1]
        return (lambda f: f.diff(param)), (lambda r: r.quadratic.diff(param))

    def _generator_derivatives(self, key: tuple[object, ...]) -> dict[sp.Symbol, sp.Expr]:
        """Non-zero derivatives (expanded) of every symbol the prepared forms are built from."""
        with self._lock:
            memo = ("generators", key)
            if memo in self._inner:
                return self._inner[memo]  # type: ignore[return-value]
            direct, d_quadratic = self._rules(key)
            out: dict[sp.Symbol, sp.Expr] = {}
            if key[0] == "input":
                _, i, first = key
                out[self.t[i]] = sp.Integer(1 if first else -1)
                out[self.x[i] if first else self.y[i]] = sp.Integer(1)
            else:
                out[key[1]] = sp.Integer(1)
            for d in self.differences:
                dd = self._inner_derivative(d.symbol, d.expr, direct, d_quadratic, key)
                if dd != 0:
                    out[d.symbol] = dd
            for radius in self.radii:
                dq = self._quadratic_derivative(radius, direct, d_quadratic, key)
                if dq != 0:
                    out[radius.symbol] = expand(dq / (2 * radius.symbol))
            for base in self.bases:
                dz = self._inner_derivative(base.symbol, base.shift, direct, d_quadratic, key)
                if dz != 0:
                    out[base.symbol] = dz
            for tr in self.transcendentals:
                da = self._inner_derivative(tr.symbol, tr.arg, direct, d_quadratic, key)
                if da != 0:
                    out[tr.symbol] = expand(tr.derivative * da)
            self._inner[memo] = out  # type: ignore[assignment]
            return out

    def _derive(self, e: sp.Expr, key: tuple[object, ...]) -> sp.Expr:
        """The derivative ``key`` of an expanded ``e``, term by term through the product rule.

        Every generator symbol (difference, bare input, parameter, radius, base, transcendental)
        has a known expanded derivative, so a monomial's derivative is a sum of monomials: no
        SymPy ``diff`` and no re-expansion of the whole sum. A term with any other dependence (a
        function of a generator, an exponent that depends on the variable) goes through
        :meth:`_chain`.
        """
        rules = self._generator_derivatives(key)
        watched = set(rules)
        out: list[sp.Expr] = []
        slow: list[sp.Expr] = []
        for term in sp.Add.make_args(e):
            if not term.free_symbols & watched:
                continue
            powers = term.as_powers_dict()
            if any((not b.is_Symbol and not b.is_number and b.free_symbols & watched)
                   or (not ex.is_number and ex.free_symbols & watched) for b, ex in powers.items()):
                slow.append(term)
                continue
            for b, ex in powers.items():
                d = rules.get(b) if b.is_Symbol else None
                if d is None:
                    continue
                rest = term * ex / b
                if ex.is_number:
                    out.extend(rest * part for part in sp.Add.make_args(d))
                else:  # a symbolic exponent (u**(-alpha)) is a sum to distribute
                    out.extend(sp.Add.make_args(expand(rest * d)))
        if slow:
            direct, d_quadratic = self._rules(key)
            out.append(expand(self._chain(sp.Add(*slow), direct, d_quadratic, key)))
        terms = [_reduce_squares(a, self._squares) for term in out for a in sp.Add.make_args(term)]
        return _common_base_powers(terms, self._radial_bases)

    def d_input(self, e: sp.Expr, i: int, first: bool) -> sp.Expr:
        """Derivative with respect to input component ``i`` of the first (or second) argument."""
        return self._derive(e, ("input", i, first))

    def d_log(self, e: sp.Expr, param: sp.Symbol) -> sp.Expr:
        """``theta * d/dtheta`` of ``e`` (the derivative with respect to ``log theta``)."""
        factor = self._abs_factor({param})
        if factor:
            raise NotDifferentiableError(
                f"kernel {self.name!r}: the log-gradient with respect to {param} would differentiate {factor}, "
                "which is not differentiable where its argument vanishes"
            )
        return sp.Add(*(param * term for term in sp.Add.make_args(self._derive(e, ("log", param)))))

    def finalize(self, e: sp.Expr) -> sp.Expr:
        """Last rewrite before printing: ``log(u) -> z/u + log1p_ratio(z)`` so the z/u parts cancel."""
        if not self.bases or not e.has(sp.log):
            return e
        subs = {sp.log(b.symbol): b.shift / b.symbol + log1p_ratio(b.shift_symbol) for b in self.bases}
        return expand(e.xreplace(subs))

    def with_functions(self, e: sp.Expr) -> sp.Expr:
        """``e`` with the transcendental symbols written as their functions again (for CSE and printing:
        CSE then groups products exactly as it did before the symbols existed)."""
        if not self.transcendentals:
            return e
        with self._lock:
            found = self._written.get(e)
            if found is None:
                # Outputs repeat (splits of one multiset) and share monomials: each is rewritten once.
                terms = []
                for term in sp.Add.make_args(e):
                    coeff, monomial = term.as_coeff_Mul()
                    rewritten = self._written.get(monomial)
                    if rewritten is None:
                        rewritten = self._written[monomial] = monomial.xreplace(self._functions)
                    terms.append(coeff * rewritten)
                found = self._written[e] = sp.Add(*terms)
            return found

    @cached_property
    def _functions(self) -> dict[sp.Symbol, sp.Expr]:
        """Each transcendental symbol's function, inner symbols resolved (one ``xreplace`` pass)."""
        out: dict[sp.Symbol, sp.Expr] = {}
        for tr in self.transcendentals:  # innermost first
            out[tr.symbol] = tr.func(tr.arg.xreplace(out))
        return out

    def explicit(self, e: sp.Expr) -> sp.Expr:
        """``e`` with every transcendental symbol replaced by its function and every base symbol
        by ``1 + z`` (innermost last)."""
        for tr in reversed(self.transcendentals):
            e = e.xreplace({tr.symbol: tr.value})
        for base in reversed(self.bases):
            e = e.xreplace({base.symbol: 1 + base.shift})
        return e

    def output(self, dx: tuple[int, ...], dy: tuple[int, ...], param: str | None = None,
               branch: Branch | None = None) -> sp.Expr:
        """One generated output: ``d^dx/dx d^dy/dy k`` (times ``theta d/dtheta`` for ``param``).

        ``branch=None`` gives the general expression, otherwise the exact limit where that
        branch's radii vanish. Memoized per part and, for stationary parts, per multiset of
        x-derivatives, so the many (dx, dy) splits of one multiset cost one derivation.
        """
        dx, dy = tuple(sorted(dx)), tuple(sorted(dy))
        return sp.Add(*(self._part_output(k, dx, dy, param, branch) for k in range(len(self.parts))))

    def _part_output(self, k: int, dx: tuple[int, ...], dy: tuple[int, ...], param: str | None,
                     branch: Branch | None) -> sp.Expr:
        sign = 1
        if self.parts[k][1] and dy:
            dx, dy, sign = tuple(sorted(dx + dy)), (), (-1) ** len(dy)
        key = (k, dx, dy, param, None if branch is None else branch.radii)
        with self._lock:
            value = self._outputs.get(key)
            if value is None:
                if param is not None:
                    inner = self._part_output(k, dx, dy, None, branch)
                    value = self.d_log(inner, sp.Symbol(param, positive=True))
                elif branch is None:
                    value = self._derivative(k, dx, dy)
                else:
                    value = self._coincident(k, dx, dy, branch)
                self._outputs[key] = value
        return value if sign == 1 else -value

    def derivative(self, dx: tuple[int, ...], dy: tuple[int, ...]) -> sp.Expr:
        """``d^dx/dx d^dy/dy k`` in the prepared variables (valid where no radius vanishes)."""
        return self.output(dx, dy)

    def _derivative(self, k: int, dx: tuple[int, ...], dy: tuple[int, ...]) -> sp.Expr:
        key = (k, dx, dy)
        if key not in self._derivatives:
            if not dx and not dy:
                value = self.parts[k][0]
            elif dy:
                value = self.d_input(self._part_output(k, dx, dy[:-1], None, None), dy[-1], first=False)
            else:
                value = self.d_input(self._part_output(k, dx[:-1], (), None, None), dx[-1], first=True)
            self._derivatives[key] = value
        return self._derivatives[key]

    # ------------------------------------------------------------------ coincident branches
    def _scaled(self, branch: Branch, form: sp.Expr) -> tuple[sp.Expr, sp.Symbol]:
        s = sp.Symbol("_s", positive=True)
        scale: dict[sp.Expr, sp.Expr] = {self.t[i]: s * self.t[i] for i in branch.indices}
        # A warped difference inside a radius vanishes with its coordinates; only its order-0 term is
        # ever used (derivatives through it are refused, see _supported), for which D -> s D is exact.
        # Any other difference is a function of the bare inputs, which the scale leaves alone.
        inside = self._radius_differences
        scale.update({d.symbol: s * d.symbol for d in inside if d.indices <= branch.indices})
        subs: dict[sp.Expr, sp.Expr] = dict(scale)
        subs.update({d.symbol: d.expr for d in self.differences if d not in inside})
        for j, radius in enumerate(self.radii):
            if j in branch.radii:
                subs[radius.symbol] = s * radius.symbol
            elif radius.indices & branch.indices:
                subs[radius.symbol] = sp.sqrt(radius.quadratic.xreplace(scale))
        scaled = self.explicit(form).xreplace(subs)
        if scaled.has(sp.log):
            scaled = sp.expand_log(scaled)  # log(s R) = log(s) + log(R): s**a log(s) -> 0 below
        return scaled, s

    def _taylor_term(self, branch: Branch, n: int, part: int | None = None) -> tuple[sp.Expr, set[int]]:
        """Order-``n`` Taylor term in the scale ``s``, with ``R**2 -> Q``, and the coordinates of the
        radii left in it with an odd power.

        Along its own branch's coordinates such a radius has no derivative, but a derivative along
        other coordinates leaves it a factor, which vanishes at the branch (``exp(-|x1 - y1|)`` times
        a smooth kernel of x0, differentiated in x0 where both coordinates coincide).
        """
        with self._lock:
            key = (branch.radii, part)
            if key not in self._taylor:
                form = self.form if part is None else self.parts[part][0]
                self._taylor[key] = ([], [self._scaled(branch, form)])
            terms, state = self._taylor[key]
            scaled, s = state[0]
            while len(terms) <= n:
                # d^k/ds^k at s = 0 divided by k!; the running derivative is kept for order k + 1.
                terms.append(expand(_at_zero(scaled, s) / math.factorial(len(terms))))
                scaled = scaled.diff(s)
                state[0] = (scaled, s)
            term = terms[n]
        return _reduce_radii(term, [self.radii[j] for j in branch.radii])

    def coincident(self, dx: tuple[int, ...], dy: tuple[int, ...], branch: Branch) -> sp.Expr:
        """The exact limit of ``d^dx/dx d^dy/dy k`` where the radii of ``branch`` vanish."""
        return self.output(dx, dy, None, branch)

    def _coincident(self, k: int, dx: tuple[int, ...], dy: tuple[int, ...], branch: Branch) -> sp.Expr:
        # Taylor terms of order n are homogeneous of degree n in the branch's coordinates: only as
        # many as there are derivatives along them survive at the branch.
        order = sum(i in branch.indices for i in dx + dy)
        poly = sp.Integer(0)
        for n in range(order + 1):
            term, odd = self._taylor_term(branch, n, k)
            if odd & set(dx + dy):
                raise NotDifferentiableError(
                    f"kernel {self.name!r}: derivative dx={dx}, dy={dy} does not exist at coincident points"
                )
            poly += term
        for i in dx:
            poly = poly.diff(self.x[i]) + self._d_difference(poly, i, branch)
        for i in dy:
            poly = poly.diff(self.y[i]) - self._d_difference(poly, i, branch)
        zero = {self.t[i]: sp.Integer(0) for i in branch.indices}
        zero.update({self.radii[j].symbol: sp.Integer(0) for j in branch.radii})  # the odd ones left
        value = poly.xreplace(zero)
        value = value.xreplace({d.symbol: sp.Integer(0) for d in self.differences if d.indices <= branch.indices})
        # Radii not vanishing here were spelled out as sqrt(Q); give them their symbols back.
        back = {}
        for j, radius in enumerate(self.radii):
            if j not in branch.radii and radius.indices & branch.indices:
                reduced = radius.quadratic.xreplace({self.t[i]: sp.Integer(0) for i in branch.indices})
                reduced = reduced.xreplace({d.symbol: sp.Integer(0) for d in self.differences
                                            if d.indices <= branch.indices})
                back[sp.sqrt(reduced)] = radius.symbol
        return expand(value.subs(back) if back else value)

    def _d_difference(self, e: sp.Expr, i: int, branch: Branch) -> sp.Expr:
        """``d/dt_i`` of a coincident-branch polynomial, through the radii that do not vanish there.

        Those stay symbols in it (``R`` of ``|x0 - y0|`` where only x1 = y1); without the chain rule
        ``dR/dt_i = (dQ/dt_i) / (2 R)`` a derivative along x0 there came out 0.
        """
        out = e.diff(self.t[i])
        for j, radius in enumerate(self.radii):
            if j not in branch.radii and i in radius.indices and e.has(radius.symbol):
                out += e.diff(radius.symbol) * radius.quadratic.diff(self.t[i]) / (2 * radius.symbol)
        return out

    # ------------------------------------------------------------------ display
    def to_inputs(self, e: sp.Expr) -> sp.Expr:
        """Rewrite a prepared expression back in the original inputs (for display)."""
        e = self.explicit(e).xreplace({r.symbol: sp.sqrt(r.quadratic) for r in self.radii})
        e = e.xreplace({d.symbol: d.expr for d in self.differences})
        return e.xreplace({t: xi - yi for t, xi, yi in zip(self.t, self.x, self.y)})

    def display_expr(self, request: Request, wrt: str | None = None) -> sp.Expr:
        self.check_request(request)
        e = self.derivative(request.dx, request.dy)
        if wrt is not None:
            names = [p.name for p in self.params]
            if wrt not in names:
                raise ValueError(f"wrt={wrt!r} is not a hyperparameter of the kernel ({names})")
            e = self.d_log(e, sp.Symbol(wrt, positive=True))
        return sp.simplify(self.to_inputs(sp.factor_terms(e)))


# ---------------------------------------------------------------------- helpers
def hazard_threshold(order: int) -> float:
    """Below this ``|a|`` (see ``PreparedKernel.distance_hazards``) a derivative of total ``order``
    would lose more than ~1e-12 of its scale: ``eps * 10 / |a|**(order - 2)``, the constant measured
    on exp_sine_squared in 2-D. Generated code returns NaN there (an error, never the value)."""
    return 0.0 if order < 3 else 10.0 ** (-3.0 / (order - 2))


def _at_zero(e: sp.Expr, s: sp.Symbol) -> sp.Expr:
    """The limit ``s -> 0+`` of ``e``: ``s**a log(s)**k -> 0`` for ``a > 0`` (``subs`` gives nan)."""
    quick = e.subs(s, 0)
    if not quick.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        return quick
    out = sp.Integer(0)
    for term in sp.Add.make_args(sp.expand(e)):
        power, rest = sp.Integer(0), []
        for factor in sp.Mul.make_args(term):
            base, exponent = factor.as_base_exp()
            if base == s:
                power += exponent
            else:
                rest.append(factor)
        if power.is_positive:
            continue  # s**a times powers of log(s) and factors finite at 0
        value = sp.Mul(*rest).subs(s, 0)
        if power != 0 or value.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
            raise NotDifferentiableError(f"the coincident-point expansion has the singular term {term}")
        out += value
    return out


def _to_differences(expr: sp.Expr, x: Sequence[sp.Symbol], y: Sequence[sp.Symbol],
                    t: Sequence[sp.Symbol]) -> sp.Expr:
    inputs = set(x) | set(y)
    shift = {xi: ti + yi for xi, ti, yi in zip(x, t, y)}
    ys = set(y)

    def rewrite(e: sp.Expr) -> sp.Expr:
        if not (e.free_symbols & inputs):
            return e
        shifted = e.xreplace(shift)
        if not (shifted.free_symbols & ys):
            return shifted
        if e.is_polynomial(*inputs):  # e.g. x0**2 - 2*x0*y0 + y0**2, stationary only once expanded
            expanded = sp.expand(shifted)
            if not (expanded.free_symbols & ys):
                return expanded
        if e.is_Atom:
            return e
        return e.func(*(rewrite(a) for a in e.args))

    return rewrite(expr)


def _polynomial_in(e: sp.Expr, t: Sequence[sp.Symbol]) -> bool:
    return e.is_polynomial(*t) and bool(e.free_symbols & set(t))


def _positive_quadratic(q: sp.Expr, t: Sequence[sp.Symbol], bare: set[sp.Symbol]) -> frozenset[int] | None:
    """Indices of a positive-definite quadratic form ``q = t_I^T A t_I``; None if ``q`` is not one.

    Definiteness is proven (Sylvester: every leading principal minor of ``A`` is positive), so
    ``q`` vanishes exactly where ``t_I = 0``. Coefficients may hold hyperparameters, never bare
    inputs: a radius is differentiated through the differences only.
    """
    poly = sp.Poly(q, *t)
    if not poly.is_homogeneous or poly.total_degree() != 2:
        return None
    indices = sorted({i for monom in poly.monoms() for i, m in enumerate(monom) if m})
    if not indices:
        return None
    matrix = sp.zeros(len(indices))
    for monom, coeff in poly.terms():
        if coeff.free_symbols & bare:
            return None
        where = [indices.index(i) for i, m in enumerate(monom) for _ in range(m)]
        a, b = where
        if a == b:
            matrix[a, a] = coeff
        else:
            matrix[a, b] = matrix[b, a] = coeff / 2
    for n in range(1, len(indices) + 1):
        if not sp.factor_terms(matrix[:n, :n].det()).is_positive:
            return None
    return frozenset(indices)


def _substitute_radii(form: sp.Expr, t: Sequence[sp.Symbol], x: Sequence[sp.Symbol], y: Sequence[sp.Symbol]
                      ) -> tuple[sp.Expr, tuple[Radius, ...], tuple[Difference, ...]]:
    radii: list[Radius] = []
    differences: list[Difference] = []
    bare = set(x) | set(y)
    coincide = {**dict(zip(x, y)), **{ti: sp.Integer(0) for ti in t}}

    def generators() -> list[sp.Symbol]:
        return [*t, *(d.symbol for d in differences)]

    def radius_for(q: sp.Expr) -> tuple[sp.Expr, Radius] | None:
        q = sp.expand(q)
        gens = generators()
        found = _positive_quadratic(q, gens, bare)
        if found is None:
            return None
        indices = frozenset().union(*(frozenset([i]) if i < len(t) else differences[i - len(t)].indices
                                      for i in found))
        for r in radii:
            ratio = sp.cancel(q / r.quadratic)
            if not (ratio.free_symbols & set(gens)):
                return ratio, r
        r = Radius(sp.Symbol(f"_r{len(radii)}", positive=True), q, indices)
        radii.append(r)
        return sp.Integer(1), r

    def vanishing_polynomial(b: sp.Expr) -> bool:
        gens = generators()
        return _polynomial_in(b, gens) and sp.expand(b.xreplace({g: 0 for g in gens})) == 0

    def vanishes(e: sp.Expr) -> bool:
        return bool(e.free_symbols & (bare | set(t))) and sp.expand(e.xreplace(coincide)) == 0

    def with_differences(b: sp.Expr) -> sp.Expr:
        """``b`` with every sum of bare inputs that vanishes at x = y replaced by a symbol."""
        if b.is_Atom or not (b.free_symbols & bare):
            return b
        if isinstance(b, sp.Add) and vanishes(b) and not (b.free_symbols & set(t)):
            for d in differences:
                if sp.expand(d.expr - b) == 0:
                    return d.symbol
                if sp.expand(d.expr + b) == 0:
                    return -d.symbol
            d = _difference(b, len(differences), t, x, y)
            differences.append(d)
            return d.symbol
        return b.func(*(with_differences(a) for a in b.args))

    def as_radius(e: sp.Expr) -> sp.Expr | None:
        if isinstance(e, sp.Abs) and vanishing_polynomial(e.args[0]):
            found = radius_for(e.args[0] ** 2)
            if found is not None:
                ratio, r = found
                return sp.sqrt(ratio) * r.symbol
        if isinstance(e, sp.Pow) and not e.exp.is_Integer and not (e.exp.free_symbols & (set(t) | bare)) \
                and vanishing_polynomial(e.base):
            found = radius_for(e.base)
            if found is not None:
                ratio, r = found
                return (sp.sqrt(ratio) * r.symbol) ** (2 * e.exp)
        return None

    def rewrite(e: sp.Expr) -> sp.Expr:
        if e.is_Atom or not (e.free_symbols & (set(generators()) | bare)):
            return e
        found = as_radius(e)
        if found is not None:
            return found
        if isinstance(e, (sp.Abs, sp.Pow)) and not (isinstance(e, sp.Pow) and e.exp.is_Integer):
            inner = e.args[0]
            if vanishes(inner) and not vanishing_polynomial(inner):
                mark = len(differences), len(radii)
                candidate = e.func(with_differences(inner), *e.args[1:])
                new = {d.symbol for d in differences[mark[0]:]}
                if new:
                    # SymPy may reshape it (sqrt(D**2/l**2) -> |D|/l): rewrite what it became.
                    result = rewrite(candidate)
                    if len(radii) > mark[1] and not (result.free_symbols & new):
                        return result
                del differences[mark[0]:], radii[mark[1]:]
        return e.func(*(rewrite(a) for a in e.args))

    form = rewrite(form)
    # Every other vanishing sum of bare inputs becomes a difference symbol too, wherever it is:
    # expanded, (exp(x0/a) - exp(y0/a))**2 leaves rounding noise at x = y (a derivative 6e-15
    # where it is exactly 0); as D it is exactly 0 there and D**2 stays one factor.
    form = with_differences(form)
    if radii:
        form = _quadratics_to_radii(form, radii, t)
    return form, tuple(radii), tuple(differences)


def _difference(expr: sp.Expr, k: int, t: Sequence[sp.Symbol], x: Sequence[sp.Symbol],
                y: Sequence[sp.Symbol]) -> Difference:
    """A :class:`Difference` for ``expr`` (a sum of bare inputs vanishing at x = y)."""
    indices = frozenset(i for i in range(len(t)) if expr.has(x[i]) or expr.has(y[i]))
    value = expr
    if len(indices) == 1:
        (i,) = indices
        if expr.is_polynomial(x[i], y[i]):
            quotient, remainder = sp.div(sp.expand(expr), x[i] - y[i], x[i], y[i])
            if remainder == 0:
                value = t[i] * sp.factor_terms(quotient)
    return Difference(sp.Symbol(f"_w{k}", real=True), expr, value, indices)


def _substitute_bases(form: sp.Expr, variables: set[sp.Symbol],
                      coincide: dict[sp.Symbol, sp.Expr]) -> tuple[sp.Expr, tuple[Base, ...]]:
    """Replace each base ``B`` of a non-integer power that depends on ``variables`` by a symbol.

    Not a base that vanishes at coincident points (``coincide`` maps there): written ``1 + z`` it
    would be computed as ``1 + (B - 1)``, all digits lost (or negative) as ``x -> y``.
    """
    bases: list[Base] = []

    def rewrite(e: sp.Expr) -> sp.Expr:
        if e.is_Atom or not (e.free_symbols & variables):
            return e
        e = e.func(*(rewrite(a) for a in e.args))
        if isinstance(e, sp.Pow) and not e.exp.is_Integer and isinstance(e.base, sp.Add) \
                and e.base.free_symbols & variables and sp.expand(e.base.xreplace(coincide)) != 0:
            shift = sp.expand(e.base - 1)
            for b in bases:
                if sp.expand(b.shift - shift) == 0:
                    return b.symbol**e.exp
            k = len(bases)
            base = Base(sp.Symbol(f"_u{k}", positive=True), sp.Symbol(f"_z{k}"), shift)
            bases.append(base)
            return base.symbol**e.exp
        return e

    return rewrite(form), tuple(bases)


def _squares_of_radii(radii: Sequence[Radius], differences: set[sp.Symbol]) -> dict[sp.Symbol, sp.Expr]:
    """``{s: R**2 / c}`` for each radius of one difference ``s``, ``Q = c * s**2`` (the first such radius)."""
    out: dict[sp.Symbol, sp.Expr] = {}
    for radius in radii:
        (s, *others) = sorted(radius.quadratic.free_symbols & differences, key=str) or [None]
        if s is None or others:
            continue
        c = sp.cancel(radius.quadratic / s**2)
        if not c.has(s):
            out.setdefault(s, radius.symbol**2 / c)
    return out


def _reduce_squares(term: sp.Expr, squares: dict[sp.Symbol, sp.Expr]) -> sp.Expr:
    """``s**n`` as ``s**(n mod 2) * (R**2 / c)**(n // 2)`` where the radius ``R = sqrt(c s**2)`` is of
    ``s`` alone: ``s**3 / R**4`` and ``s / R**2`` are then one term, and their difference cancels in the
    algebra instead of leaving ``eps / r**3``-sized rounding (d3/dy3 of ``sin(|x - y|)**2`` was 0.0
    for -1.06e-9 at |x - y| = 1.3e-10)."""
    if not squares:
        return term
    powers = term.as_powers_dict()
    for s, r2 in squares.items():
        n = powers.get(s, sp.Integer(0))
        if n.is_Integer and abs(n) >= 2:
            half = int(n) // 2 if n > 0 else -(-int(n) // 2)
            term = term / s ** (2 * half) * r2**half
    return term


def _radial_bases(bases: Sequence[Base], radii: Sequence[Radius]) -> dict[sp.Symbol, sp.Expr]:
    """``{u: 1 + z}`` for the bases that are polynomials in the prepared symbols, odd in a radius.

    Only an odd power of a radius brings the ``1/r`` factors that turn rounding into large errors
    (see :func:`_common_base_powers`); a base in ``r**2`` (the rational quadratic) would only grow.
    A function in ``z`` would be written in other symbols than the derivatives (transcendentals
    are substituted after the bases), so ``(1 + z)**n`` could not be expanded into their terms.
    """
    functions = (sp.exp, sp.sin, sp.cos, sp.log)
    symbols = [r.symbol for r in radii]

    def odd_in_a_radius(shift: sp.Expr) -> bool:
        powers = [term.as_powers_dict() for term in sp.Add.make_args(sp.expand(shift))]
        return any(p.get(r, 0) % 2 != 0 for p in powers for r in symbols)

    return {b.symbol: 1 + b.shift for b in bases if not b.shift.has(*functions) and odd_in_a_radius(b.shift)}


def _common_base_powers(terms: Sequence[sp.Expr], bases: dict[sp.Symbol, sp.Expr]) -> sp.Expr:
    """The sum of ``terms`` with the powers of each base ``u`` brought to one exponent per class.

    Exponents that differ by an integer (``u**(1/2)``, ``u**(-1/2)``, ``u**(p - 1)``, ``u**p``) are
    written as the lowest of them times ``(1 + z)**n``, expanded. Parts that are equal where the
    derivative vanishes then cancel in the algebra (``u**(1/2) z' - u**(-1/2) z'`` is
    ``z z' u**(-1/2)``); left as separate powers they cancel in floating point, and a ``1/r``
    factor (a radial derivative) turns that rounding into an error of ``eps / r`` (1e-5 at
    r = 1e-11 for a non-integer power of a Matérn 3/2). Kept as it was when no two terms combine,
    so that expressions do not grow for nothing.
    """
    total = sp.Add(*terms)
    present = [u for u in bases if total.has(u)]
    if not present:
        return total
    pieces = list(sp.Add.make_args(total))
    for u in present:
        pieces = _lower_powers(pieces, u, bases[u])
    lowered = sp.Add(*pieces)
    return lowered if len(sp.Add.make_args(lowered)) < len(pieces) else total


def _lower_powers(pieces: list[sp.Expr], u: sp.Symbol, one_plus_z: sp.Expr) -> list[sp.Expr]:
    exponents = [term.as_powers_dict().get(u, sp.Integer(0)) for term in pieces]
    lowest: list[sp.Expr] = []  # one representative per class of exponents (differences integer)
    classes: list[int | None] = []
    for e in exponents:
        k = None if e == 0 else next((j for j, m in enumerate(lowest) if sp.expand(e - m).is_Integer), None)
        if e != 0 and k is None:
            k, _ = len(lowest), lowest.append(e)
        elif k is not None and sp.expand(e - lowest[k]) < 0:
            lowest[k] = e
        classes.append(k)
    out: list[sp.Expr] = []
    for term, e, k in zip(pieces, exponents, classes):
        gap = sp.Integer(0) if k is None else sp.expand(e - lowest[k])
        if gap > 0:
            out.extend(sp.Add.make_args(sp.expand(term / u**gap * one_plus_z**gap)))
        else:
            out.append(term)
    return out


def _substitute_transcendentals(form: sp.Expr, variables: set[sp.Symbol]
                                ) -> tuple[sp.Expr, tuple[Transcendental, ...]]:
    """Replace ``exp``, ``sin``, ``cos`` of arguments depending on ``variables`` by symbols
    (innermost first; ``sin(a)`` and ``cos(a)`` share one argument and refer to each other)."""
    found: list[Transcendental] = []
    by_arg: dict[tuple[str, sp.Expr], Transcendental] = {}
    known = set(variables)

    def make(kind: str, arg: sp.Expr) -> Transcendental:
        if (kind, arg) not in by_arg:
            k = len(found)
            if kind == "exp":
                symbol = sp.Symbol(f"_exp{k}", positive=True)
                items = [Transcendental(symbol, sp.exp, arg, symbol)]
            else:
                s, c = sp.Symbol(f"_sin{k}", real=True), sp.Symbol(f"_cos{k}", real=True)
                items = [Transcendental(s, sp.sin, arg, c), Transcendental(c, sp.cos, arg, -s)]
            for item in items:
                found.append(item)
                by_arg[(item.func.__name__, arg)] = item
                known.add(item.symbol)
        return by_arg[(kind, arg)]

    def rewrite(e: sp.Expr) -> sp.Expr:
        if e.is_Atom or not (e.free_symbols & known):
            return e
        e = e.func(*(rewrite(a) for a in e.args))
        if isinstance(e, (sp.exp, sp.sin, sp.cos)) and e.args[0].free_symbols & known:
            return make(type(e).__name__, e.args[0]).symbol
        return e

    return rewrite(form), tuple(found)


def _quadratics_to_radii(form: sp.Expr, radii: list[Radius], t: Sequence[sp.Symbol]) -> sp.Expr:
    """Write every multiple of a quadratic form ``Q_j`` inside a polynomial as ``c * R_j**2``.

    Without this, ``Q / R**3`` and ``1 / R`` would be different terms that only cancel in floating
    point; with it they cancel in the algebra.
    """
    tset = set(t)

    def rewrite(e: sp.Expr) -> sp.Expr:
        if e.is_Atom or not (e.free_symbols & tset):
            return e
        e = e.func(*(rewrite(a) for a in e.args))
        if e.is_polynomial(*t):
            return _reduce_polynomial(e, radii, t)
        if isinstance(e, sp.Add):
            polynomial = [a for a in e.args if a.is_polynomial(*t)]
            if polynomial:
                rest = [a for a in e.args if not a.is_polynomial(*t)]
                return sp.Add(_reduce_polynomial(sp.Add(*polynomial), radii, t), *rest)
        return e

    return rewrite(form)


def _reduce_polynomial(p: sp.Expr, radii: list[Radius], t: Sequence[sp.Symbol]) -> sp.Expr:
    expanded = sp.expand(p)
    if not (expanded.free_symbols & set(t)):
        return p
    terms = sp.Add.make_args(expanded)
    quadratic = [a for a in terms if sp.Poly(a, *t).is_homogeneous and sp.Poly(a, *t).total_degree() == 2]
    if not quadratic:
        return p
    h = sp.Add(*quadratic)
    for r in radii:
        ratio = sp.cancel(h / r.quadratic)
        if not (ratio.free_symbols & set(t)):
            rest = sp.Add(*(a for a in terms if a not in quadratic))
            return rest + ratio * r.symbol**2
    return p


def _reduce_radii(term: sp.Expr, radii: Sequence[Radius]) -> tuple[sp.Expr, set[int]]:
    """Replace ``R**(2m)`` by ``Q**m``; also return the coordinates of the radii left with an odd power."""
    if not radii:
        return term, set()
    symbols = [r.symbol for r in radii]
    if not (term.free_symbols & set(symbols)):
        return term, set()
    poly = sp.Poly(term, *symbols)
    out = sp.Integer(0)
    odd: set[int] = set()
    for monom, coeff in poly.terms():
        factor = sp.Integer(1)
        for r, m in zip(radii, monom):
            factor *= r.quadratic ** (m // 2) * r.symbol ** (m % 2)
            if m % 2 and sp.expand(coeff) != 0:
                odd |= r.indices
        out += coeff * factor
    return expand(out), odd


def _branches(radii: Sequence[Radius]) -> tuple[Branch, ...]:
    """Distinct closed sets of radii that can vanish together, most specific first."""
    found: dict[tuple[int, ...], Branch] = {}
    n = len(radii)
    for size in range(1, n + 1):
        for subset in itertools.combinations(range(n), size):
            indices = frozenset().union(*(radii[j].indices for j in subset))
            closed = tuple(j for j in range(n) if radii[j].indices <= indices)
            found.setdefault(closed, Branch(closed, indices))
    return tuple(sorted(found.values(), key=lambda b: (-len(b.indices), b.radii)))
