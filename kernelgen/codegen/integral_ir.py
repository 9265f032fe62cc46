"""Integral requests -> printed statements for ``templates/integrals.py.jinja`` (no logic in templates).

An :class:`IntegralSpec` names a kernel and the functional pairs compiled together. Every request
is *canonical*: the first argument is integrated (``ix`` non-empty); the second is a point
functional (a derivative, ``iy == ()``) or an integral too. ``cov(P f, I f)`` is the transpose of
``cov(I f, P f)`` for a symmetric kernel, so the posterior never needs the other orientation.

What is generated (everything else is the fixed code of ``integrals_core.py.jinja``):

* ``_D(f, n, a, p, grad, w)``: ``D_n`` of the one-component stationary factor ``f`` at ``a >= 0``
  with the magnitude of its terms (the rounding scale) and its log-hyperparameter derivatives;
* ``_kap(g, kid, u, p, grad, out)``: a derivative of a several-component stationary group at ``u``;
* ``_r<k>(r1, r2, p, grad, res, buf, w)``: request ``k`` as the sum over the kernel's terms of a
  coefficient times the per-group factors (polynomial factors printed inline), with the product
  rule for the gradient.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

import sympy as sp
from sympy.codegen.cfunctions import log1p

from ..symbolic.integration import HIGHEST_ORDER, IntegralForm, Part, T, magnitude, moment, unit_moment
from ..symbolic.kernel import Kernel
from ..symbolic.request import Request
from .printing import print_expr

__all__ = ["IntegralModule", "IntegralSpec", "build_integrals"]


@dataclass(frozen=True)
class IntegralSpec:
    """A kernel plus the canonical integral requests compiled together (order kept, duplicates dropped).

    Identity (the file name) needs no SymPy work: the kernel's signature text and the requests.
    """

    kernel: Kernel
    requests: tuple[Request, ...]
    gradient: bool = False

    @classmethod
    def make(cls, kernel: Kernel, requests: Iterable[Request], gradient: bool = False) -> IntegralSpec:
        """Typed requests from a lower layer (trusted, but their shape is checked: no silent misuse)."""
        unique = tuple(dict.fromkeys(requests))
        if not unique:
            raise ValueError("an integral batch needs at least one request")
        d = kernel.dim
        for r in unique:
            if len(r.ix) != d or r.dx or (r.iy and (len(r.iy) != d or r.dy)) or not r.fits(d):
                raise ValueError(f"{r} is not a canonical integral request for dim={d} "
                                 "(integrate the first argument; no derivative on an integrated argument)")
        return cls(kernel, unique, bool(gradient))

    def describe(self) -> str:
        return ", ".join(map(str, self.requests)) + (" + log-hyperparameter gradients" if self.gradient else "")

    def key(self, versions: str) -> str:
        from .integral_render import integral_template_version

        rows = tuple((r.dx, r.dy, r.ix, r.iy) for r in self.requests)
        text = f"integrals|{self.kernel.signature}|{rows}|{self.gradient}|{versions}|{integral_template_version()}"
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Statements:
    """CSE temporaries then one value per output, printed."""

    temporaries: tuple[tuple[str, str], ...]
    values: tuple[str, ...]


@dataclass(frozen=True)
class FactorBlock:
    """``D_n`` of factor ``factor``: values ``[D_n, magnitude]``, gradient ``[d_g..., magnitude_g...]``."""

    factor: int
    n: int
    value: Statements
    gradient: Statements


@dataclass(frozen=True)
class GroupBlock:
    """A derivative ``kid`` of group ``group``: value and gradient, plus the limit at ``u = 0`` if needed."""

    group: int
    kid: int
    dims: int
    value: Statements
    gradient: Statements
    zero: tuple[Statements, Statements] | None


@dataclass(frozen=True)
class RequestBody:
    """Calls filling ``buf`` slots, then the value and its gradient in terms of them."""

    rows: tuple[tuple[str, str], ...]
    calls: tuple[str, ...]
    value: Statements
    gradient: Statements


@dataclass(frozen=True)
class IntegralModule:
    """Everything ``integrals.py.jinja`` renders, as strings."""

    dim: int
    parameters: tuple[str, ...]
    parameter_locals: tuple[str, ...]
    requests: tuple[Request, ...]
    gradient: bool
    factor_blocks: tuple[FactorBlock, ...]
    closed_max: tuple[int, ...]
    group_blocks: tuple[GroupBlock, ...]
    call_sites: tuple[tuple[str, str], ...]
    bodies: tuple[RequestBody, ...]
    n_slots: int
    n_ops: int
    kernel_text: str
    request_text: str


# ---------------------------------------------------------------------- printing helpers
def _log1p(e: sp.Expr) -> sp.Expr:
    """``log(1 + z) -> log1p(z)``: the rounding of ``1 + z`` would cost ``log`` every digit for small z."""
    def rewrite(node: sp.Expr) -> sp.Expr:
        if isinstance(node, sp.log) and isinstance(node.args[0], sp.Add) and 1 in node.args[0].args:
            return log1p(node.args[0] - 1)
        return node

    return e.replace(lambda n: isinstance(n, sp.log), rewrite)


def _statements(exprs: list[sp.Expr], names: dict[sp.Symbol, str], prefix: str) -> tuple[Statements, int]:
    exprs = [_log1p(e) for e in exprs]
    temps, reduced = sp.cse(exprs, symbols=sp.numbered_symbols(prefix), order="canonical")
    local = dict(names)
    for sym, _ in temps:
        local[sym] = sym.name
    printed = tuple((sym.name, print_expr(v, local)) for sym, v in temps)
    values = tuple(print_expr(e, local) for e in reduced)
    n_ops = sum(sp.count_ops(v) for _, v in temps) + sum(sp.count_ops(e) for e in reduced)
    return Statements(printed, values), int(n_ops)


def _log_derivative(e: sp.Expr, param: sp.Symbol) -> sp.Expr:
    return sp.expand(param * sp.diff(e, param)) if e.has(param) else sp.Integer(0)


# ---------------------------------------------------------------------- per-dimension kinds
def _kinds(request: Request, dim: int) -> list[tuple[int, int, int, int]]:
    """Per input ``(kind1, k1, kind2, k2)``: kind 0 is a point with ``k`` derivatives, 1 / 2 integrals."""
    out = []
    for j in range(dim):
        kind1 = request.ix[j] if request.ix else 0
        kind2 = request.iy[j] if request.iy else 0
        out.append((kind1, request.dx.count(j), kind2, request.dy.count(j)))
    return out


def _side_orders(kind: int, k: int) -> tuple[int, ...]:
    return (-k,) if kind == 0 else (1,) if kind == 1 else (1, 2)


def _factor_orders(kind1: int, k1: int, kind2: int, k2: int) -> set[int]:
    """Every ``n`` of ``D_n`` one pair of one-component functionals can use (closed form or quadrature)."""
    if kind1 == 0 and kind2 == 0:
        return {-(k1 + k2)}
    closed = {a + b for a in _side_orders(kind1, k1) for b in _side_orders(kind2, k2)}
    point = k1 if kind1 == 0 else k2 if kind2 == 0 else 0
    return closed | {-point}


def _group_orders(kinds: list[tuple[int, int, int, int]], dims: tuple[int, ...]) -> tuple[int, ...]:
    """Derivative orders of a group's ``k(u)`` under the integral (the point sides' derivatives)."""
    out = []
    for j in dims:
        kind1, k1, kind2, k2 = kinds[j]
        out.append(k1 + k2 if kind1 == 0 and kind2 == 0 else k1 if kind1 == 0 else k2 if kind2 == 0 else 0)
    return tuple(out)


# ---------------------------------------------------------------------- build
class _Builder:
    def __init__(self, spec: IntegralSpec) -> None:
        self.spec = spec
        self.kernel = spec.kernel
        self.dim = spec.kernel.dim
        self.form = IntegralForm.of(spec.kernel)
        self.params = self.form.params
        self.names: dict[sp.Symbol, str] = {p: f"_p{i}" for i, p in enumerate(self.params)}
        self.names[T] = "_a"
        self.rows = {(side, part, j): sp.Symbol(f"_{part}{side}_{j}")
                     for side in (1, 2) for part in ("a", "b") for j in range(self.dim)}
        for s in self.rows.values():
            self.names[s] = s.name
        self.factor_orders: dict[int, set[int]] = {}
        self.group_kids: dict[int, list[tuple[int, ...]]] = {}
        self.group_zero: set[tuple[int, int]] = set()
        self.call_sites: list[tuple[str, str]] = []
        self.n_ops = 0

    def _check(self, request: Request) -> None:
        """Derivative sides need the derivative process to exist (as for derivative requests)."""
        if request.dy:
            self.kernel.prepared.check_request(Request(request.dy, request.dy))

    def body(self, request: Request) -> tuple[RequestBody, int]:
        self._check(request)
        kinds = _kinds(request, self.dim)
        calls: dict[str, int] = {}
        slots: list[sp.Symbol] = []
        total = sp.Integer(0)
        for term in self.form.terms:
            product = term.coefficient
            pending: list[tuple[str, Part]] = []
            for j in range(self.dim):
                if term.part_for(j) is None:
                    product *= self._unit(kinds[j], j)
            for part in term.parts:
                if part.kind == "polynomial":
                    product *= self._polynomial(part, kinds[part.dims[0]], part.dims[0])
                else:
                    call = self._call(part, kinds)
                    pending.append((call, part))
                    product *= sp.Symbol(f"_V{call}")  # placeholder, renamed to its slot below
            if product == 0:
                continue
            for call, part in pending:
                self._register(part, kinds)
                if call not in calls:
                    calls[call] = len(calls)
                    slots.append(sp.Symbol(f"_V{call}"))
            total += product
        slot_of = {sym: k for k, sym in enumerate(slots)}
        value_names = dict(self.names)
        values = {sym: sp.Symbol(f"_S{k}") for sym, k in slot_of.items()}
        for sym, k in slot_of.items():
            value_names[values[sym]] = f"buf[{k}, 0]"
        total = total.xreplace(values)
        value, n1 = _statements([total], value_names, "_c")
        gradient_exprs = []
        for g, param in enumerate(self.params):
            e = _log_derivative(total, param)
            for k in range(len(slots)):
                d = sp.Symbol(f"_dS{k}_{g}")
                value_names[d] = f"buf[{k}, {1 + g}]"
                e += sp.diff(total, sp.Symbol(f"_S{k}")) * d
            gradient_exprs.append(e)
        gradient, n2 = _statements(gradient_exprs, value_names, "_g") if self.spec.gradient else (Statements((), ()), 0)
        rows = tuple((s.name, f"r{side}[{j if part == 'a' else self.dim + j}]")
                     for (side, part, j), s in self.rows.items())
        body_calls = tuple(c.replace("@SLOT@", str(calls[c])) for c in calls)
        return RequestBody(rows, body_calls, value, gradient), n1 + n2

    def _unit(self, kind: tuple[int, int, int, int], j: int) -> sp.Expr:
        kind1, k1, kind2, k2 = kind
        r = self.rows
        return (unit_moment(kind1, k1, r[1, "a", j], r[1, "b", j])
                * unit_moment(kind2, k2, r[2, "a", j], r[2, "b", j]))

    def _polynomial(self, part: Part, kind: tuple[int, int, int, int], j: int) -> sp.Expr:
        assert part.polynomial is not None
        kind1, k1, kind2, k2 = kind
        r = self.rows
        return sp.Add(*(c * moment(px, kind1, k1, r[1, "a", j], r[1, "b", j])
                        * moment(py, kind2, k2, r[2, "a", j], r[2, "b", j])
                        for px, py, c in part.polynomial.monomials))

    def _call(self, part: Part, kinds: list[tuple[int, int, int, int]]) -> str:
        if part.kind == "stationary1d":
            j = part.dims[0]
            kind1, k1, kind2, k2 = kinds[j]
            return (f"_stat1d({part.index}, {kind1}, {k1}, _a1_{j}, _b1_{j}, {kind2}, {k2}, _a2_{j}, _b2_{j}, "
                    "p, grad, buf[@SLOT@], w)")
        rows = ", ".join(f"({j}, {kinds[j][0]}, {kinds[j][1]}, {kinds[j][2]}, {kinds[j][3]})" for j in part.dims)
        text = f"np.array([{rows}], dtype=np.int64)"
        names = [name for name, value in self.call_sites if value == text]
        if names:
            site = names[0]
        else:
            site = f"_CS{len(self.call_sites)}"
            self.call_sites.append((site, text))
        kid = self._kid(part, kinds)
        return f"_cubature({part.index}, {kid}, {site}, r1, r2, p, grad, buf[@SLOT@])"

    def _kid(self, part: Part, kinds: list[tuple[int, int, int, int]]) -> int:
        orders = _group_orders(kinds, part.dims)
        kids = self.group_kids.setdefault(part.index, [])
        if orders not in kids:
            kids.append(orders)
        return kids.index(orders)

    def _register(self, part: Part, kinds: list[tuple[int, int, int, int]]) -> None:
        if part.kind == "stationary1d":
            self.factor_orders.setdefault(part.index, set()).update(_factor_orders(*kinds[part.dims[0]]))
        elif all(kinds[j][0] == 0 and kinds[j][2] == 0 for j in part.dims):
            self.group_zero.add((part.index, self._kid(part, kinds)))

    def factor_blocks(self) -> tuple[tuple[FactorBlock, ...], tuple[int, ...]]:
        blocks = []
        closed = []
        for f, factor in enumerate(self.form.factors):
            orders = self.factor_orders.get(f, set())
            top = factor.closed_max(min(HIGHEST_ORDER, max(orders, default=0)))
            closed.append(top)
            for n in sorted(o for o in orders if o <= top):
                expr = factor.value(n)
                assert expr is not None
                value, n1 = _statements([expr, magnitude(expr)], self.names, "_c")
                gradient, n2 = Statements((), ()), 0
                if self.spec.gradient:
                    grads = [_log_derivative(expr, p) for p in self.params]
                    gradient, n2 = _statements(grads + [magnitude(g) for g in grads], self.names, "_g")
                self.n_ops += n1 + n2
                blocks.append(FactorBlock(f, n, value, gradient))
        return tuple(blocks), tuple(closed)

    def group_blocks(self) -> tuple[GroupBlock, ...]:
        blocks = []
        for g, group in enumerate(self.form.groups):
            names = dict(self.names)
            for u in group.symbols:
                names[u] = u.name
            for kid, orders in enumerate(self.group_kids.get(g, [])):
                expr = group.derivative(orders)
                grads = [_log_derivative(expr, p) for p in self.params] if self.spec.gradient else []
                value, n1 = _statements([expr, magnitude(expr)], names, "_c")
                gradient, n2 = (_statements(grads + [magnitude(e) for e in grads], names, "_g") if grads
                                else (Statements((), ()), 0))
                zero = None
                if (g, kid) in self.group_zero:
                    zero = (_statements([group.at_zero(expr)], names, "_c")[0],
                            _statements([group.at_zero(e) for e in grads], names, "_g")[0])
                self.n_ops += n1 + n2
                blocks.append(GroupBlock(g, kid, len(group.dims), value, gradient, zero))
        return tuple(blocks)


def build_integrals(spec: IntegralSpec) -> IntegralModule:
    """Decompose, integrate in closed form where possible, CSE and print one integral batch."""
    builder = _Builder(spec)
    bodies = []
    n_ops = 0
    for request in spec.requests:
        body, n = builder.body(request)
        bodies.append(body)
        n_ops += n
    factor_blocks, closed = builder.factor_blocks()
    group_blocks = builder.group_blocks()
    n_slots = max([len(b.calls) for b in bodies] + [1])
    return IntegralModule(
        dim=builder.dim,
        parameters=tuple(p.name for p in builder.params),
        parameter_locals=tuple(builder.names[p] for p in builder.params),
        requests=spec.requests,
        gradient=spec.gradient,
        factor_blocks=factor_blocks,
        closed_max=closed,
        group_blocks=group_blocks,
        call_sites=tuple(builder.call_sites),
        bodies=tuple(bodies),
        n_slots=n_slots,
        n_ops=n_ops + builder.n_ops,
        kernel_text=str(spec.kernel.expr),
        request_text=spec.describe(),
    )
