"""Derivative requests -> CSE'd, printed statements: the data a template renders, nothing else.

A :class:`BatchSpec` names one kernel and the outputs wanted from one compiled module; a
:class:`GeneratedModule` holds every line as strings so templates need no logic.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import sympy as sp

from ..symbolic.kernel import Kernel
from ..symbolic.prepared import PREPARATION_VERSION, Branch, PreparedKernel, hazard_threshold
from ..symbolic.request import Output, Request, as_requests
from .printing import Growth, print_expr

__all__ = ["BatchSpec", "Block", "GeneratedModule", "build"]


@dataclass(frozen=True)
class BatchSpec:
    """A kernel plus the derivative requests compiled together (order kept, duplicates dropped).

    Identity (the file name) needs no SymPy work: the kernel's signature text and the requests.
    """

    kernel: Kernel
    requests: tuple[Request, ...]
    gradient: bool = False

    @classmethod
    def make(cls, kernel: Kernel, requests: Iterable[Request | Sequence[object]], gradient: bool = False) -> BatchSpec:
        """``requests``: :class:`Request` objects (trusted) or ``(dx, dy)`` pairs (validated); duplicates dropped."""
        unique = tuple(dict.fromkeys(as_requests(requests, kernel.dim)))
        if not unique:
            raise ValueError("a batch needs at least one derivative request")
        return cls(kernel, unique, bool(gradient))

    @property
    def outputs(self) -> tuple[Output, ...]:
        names = self.kernel.all_hyperparameter_names
        out = []
        for request in self.requests:
            out.append(Output(request))
            if self.gradient:
                out.extend(Output(request, n) for n in names)
        return tuple(out)

    def describe(self) -> str:
        return ", ".join(map(str, self.requests)) + (" + log-hyperparameter gradients" if self.gradient else "")

    def key(self, versions: str) -> str:
        pairs = tuple((r.dx, r.dy) for r in self.requests)
        text = f"{self.kernel.signature}|{pairs}|{self.gradient}|{versions}|prepared={PREPARATION_VERSION}"
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Block:
    """Statements of one branch: CSE temporaries then one value per output.

    ``radii`` are the indices (into ``GeneratedModule.quadratics``) of the radii that vanish in
    this branch, for templates that spell the condition themselves; ``condition`` is numba's.
    """

    condition: str | None
    temporaries: tuple[tuple[str, str], ...]
    values: tuple[str, ...]
    radii: tuple[int, ...] = ()


@dataclass(frozen=True)
class GeneratedModule:
    """Everything the template renders, as strings."""

    dim: int
    parameters: tuple[str, ...]
    parameter_locals: tuple[str, ...]
    outputs: tuple[Output, ...]
    symmetric: bool
    symmetric_kernel: bool
    radii: tuple[tuple[str, str], ...]
    bases: tuple[tuple[str, str], ...]
    blocks: tuple[Block, ...]
    n_ops: int
    kernel_text: str
    request_text: str
    extra: dict[str, str] = field(default_factory=dict)
    #: ``(radius name, quadratic form)``: array backends take a safe square root of these.
    quadratics: tuple[tuple[str, str], ...] = ()
    #: Input-derivative orders returned as NaN where they would be inaccurate (``_hazard_guards``).
    guarded_orders: tuple[int, ...] = ()


def _names(prepared: PreparedKernel) -> dict[sp.Symbol, str]:
    names: dict[sp.Symbol, str] = {}
    for i in range(prepared.dim):
        names[prepared.x[i]] = f"_x{i}"
        names[prepared.y[i]] = f"_y{i}"
        names[prepared.t[i]] = f"_d{i}"
    for d in prepared.differences:
        names[d.symbol] = d.symbol.name
    for r in prepared.radii:
        names[r.symbol] = r.symbol.name
    for b in prepared.bases:
        names[b.symbol] = b.symbol.name
        names[b.shift_symbol] = b.shift_symbol.name
    # Parameters by position: generated identifiers are ASCII and never depend on user names (two
    # spellings Python reads as one identifier, 'ﬁ' and 'fi', would otherwise overwrite each other).
    # The real names are the module's PARAMETERS.
    for i, p in enumerate(prepared.params):
        names[p] = f"_p{i}"
    return names


def _growth(prepared: PreparedKernel, general: bool) -> Growth:
    """What bounds products (printing.py): hyperparameters, and in the general branch radii, are non-zero."""
    held = getattr(prepared, "transcendentals", ())  # exp(a) kept as a symbol, where preparation does that
    exponentials = {t.symbol: t.arg for t in held if t.func is sp.exp}
    nonzero = set(prepared.params) | ({r.symbol for r in prepared.radii} if general else set())
    return Growth(nonzero=frozenset(nonzero), exponentials=exponentials)


#: ``printer(expr, names, growth=None) -> str``: one backend's spelling of an expression; ``growth``
#: turns on damped products where the backend prints them (numba).
Printer = Callable[..., str]


def _block(exprs: list[sp.Expr], names: dict[sp.Symbol, str], condition: str | None, printer: Printer,
           growth: Growth, radii: tuple[int, ...] = ()) -> tuple[Block, int]:
    temps, reduced = sp.cse(exprs, symbols=sp.numbered_symbols("_c"), order="canonical")
    temps, reduced = _split_long_sums(temps, reduced)
    local = dict(names)
    for sym, _ in temps:
        local[sym] = sym.name
    # Products of a polynomial and an underflowing exponential are printed damped (printing.py).
    growth = growth.with_temporaries(temps)
    temporaries = tuple((sym.name, printer(value, local, growth)) for sym, value in temps)
    values = tuple(printer(e, local, growth) for e in reduced)
    n_ops = sum(sp.count_ops(v) for _, v in temps) + sum(sp.count_ops(e) for e in reduced)
    return Block(condition, temporaries, values, radii), int(n_ops)


#: Most terms of one printed sum: longer ones are summed in parts. numba's parallel-loop analysis
#: recurses once per operation of a statement, and a 1-D kernel's order-3 module with gradients can
#: print a sum of thousands of terms (RecursionError while compiling, wide fuzz case 80).
SUM_TERMS = 100


def _split_long_sums(temps: list[tuple[sp.Symbol, sp.Expr]], values: list[sp.Expr]
                     ) -> tuple[list[tuple[sp.Symbol, sp.Expr]], list[sp.Expr]]:
    """Every sum of more than :data:`SUM_TERMS` terms as a sum of temporaries of at most that many."""
    out: list[tuple[sp.Symbol, sp.Expr]] = []

    def split(e: sp.Expr, name: str) -> sp.Expr:
        terms = sp.Add.make_args(e)
        if len(terms) <= SUM_TERMS:
            return e
        parts = []
        for j in range(0, len(terms), SUM_TERMS):
            symbol = sp.Symbol(f"{name}_{j // SUM_TERMS}")
            out.append((symbol, sp.Add(*terms[j:j + SUM_TERMS], evaluate=False)))
            parts.append(symbol)
        return sp.Add(*parts, evaluate=False)

    for symbol, value in temps:
        out.append((symbol, split(value, symbol.name)))
    new_values = []
    for k, value in enumerate(values):
        new_values.append(split(value, f"_v{k}"))
    return out, new_values


def build(spec: BatchSpec, printer: Printer = print_expr) -> GeneratedModule:
    """Differentiate, check existence at coincident points, CSE and print one batch.

    ``printer`` spells expressions for one backend (numba's by default); the statements, their
    order and the CSE are the same for every backend.
    """
    prepared = spec.kernel.prepared
    for request in spec.requests:
        prepared.check_request(request)
        if printer is not print_expr:
            check_engine_request(prepared, request)
    names = _names(prepared)

    def expressions(branch: Branch | None) -> list[sp.Expr]:
        return [prepared.with_functions(prepared.output(o.dx, o.dy, o.param, branch)) for o in spec.outputs]

    blocks = []
    total = 0
    for branch in prepared.branches:
        block, n = _block(expressions(branch), names, _condition(prepared, branch), printer,
                          _growth(prepared, False), branch.radii)
        blocks.append(block)
        total += n
    general = [prepared.with_functions(prepared.finalize(prepared.output(o.dx, o.dy, o.param, None)))
               for o in spec.outputs]
    guards = _hazard_guards(prepared, spec, printer, names)
    general = [e * guards[o.request.order][0] if o.request.order in guards else e
               for e, o in zip(general, spec.outputs)]
    block, n = _block(general, names, None, printer, _growth(prepared, True))
    blocks.append(block)
    total += n

    # Warped differences are written out inside the radii (computed before them) and again as locals.
    inline = {d.symbol: d.value for d in prepared.differences}
    radii = tuple((r.symbol.name, printer(sp.sqrt(r.quadratic.xreplace(inline)), names)) for r in prepared.radii)
    quadratics = tuple((r.symbol.name, printer(r.quadratic.xreplace(inline), names)) for r in prepared.radii)
    bases: list[tuple[str, str]] = [(d.symbol.name, printer(d.value, names)) for d in prepared.differences]
    for b in prepared.bases:
        bases += [(b.shift_symbol.name, printer(b.shift, names)), (b.symbol.name, f"1.0 + {b.shift_symbol.name}")]
    bases += [(symbol.name, line) for symbol, line in guards.values()]
    return GeneratedModule(
        dim=prepared.dim,
        parameters=tuple(p.name for p in prepared.params),
        parameter_locals=tuple(names[p] for p in prepared.params),
        outputs=spec.outputs,
        # fill_symmetric needs every output symmetric; contract_selected only k(x, y) = k(y, x).
        symmetric=prepared.symmetric and all(r.dx == r.dy for r in spec.requests),
        symmetric_kernel=prepared.symmetric,
        radii=radii,
        bases=tuple(bases),
        blocks=tuple(blocks),
        n_ops=total,
        kernel_text=str(spec.kernel.expr),
        request_text=spec.describe(),
        quadratics=quadratics,
        guarded_orders=tuple(sorted(guards)),
    )


def _hazard_guards(prepared: PreparedKernel, spec: BatchSpec, printer: Printer,
                   names: dict[sp.Symbol, str]) -> dict[int, tuple[sp.Symbol, str]]:
    """Per input-derivative order, a factor of the general branch: 1.0, or NaN where a sine or cosine
    of a distance of several coordinates is too small for that order to be accurate (see
    ``PreparedKernel.distance_hazards``); the fill's finiteness report then raises. numba only:
    the engines refuse such requests (:func:`check_engine_request`)."""
    hazards = prepared.distance_hazards
    orders = sorted({o.request.order for o in spec.outputs if hazard_threshold(o.request.order) > 0})
    if not hazards or not orders or printer is not print_expr:
        return {}
    # Only the general branch uses the factor: there no radius vanishes (x = y is exact elsewhere).
    smallest = " and ".join(f"abs({printer(a, names)}) < {{t!r}}" for a in hazards)
    out = {}
    for k in orders:
        symbol = sp.Symbol(f"_guard{k}")
        names[symbol] = symbol.name
        out[k] = (symbol, f"math.nan if {smallest.format(t=hazard_threshold(k))} else 1.0")
    return out


def check_engine_request(prepared: PreparedKernel, request: Request) -> None:
    """Refuse what an engine cannot evaluate accurately near x = y (numba returns NaN there instead)."""
    if prepared.distance_hazards and hazard_threshold(request.order) > 0:
        raise NotImplementedError(
            f"kernel {prepared.name!r}: derivatives of total order {request.order} (dx={request.dx}, "
            f"dy={request.dy}) of a sine or cosine of a distance of several inputs are computed only by the "
            "numba backend, which refuses them where they would be inaccurate (x close to y); the engines "
            "support total order <= 2 for this kernel"
        )


def _condition(prepared: PreparedKernel, branch: Branch) -> str:
    return " and ".join(f"{prepared.radii[j].symbol.name} == 0.0" for j in branch.radii)
