"""Derivative requests -> CSE'd, printed statements: the data a template renders, nothing else.

A :class:`BatchSpec` names one kernel and the outputs wanted from one compiled module; a
:class:`GeneratedModule` holds every line as strings so templates need no logic.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import sympy as sp

from ..symbolic.kernel import Kernel
from ..symbolic.prepared import PREPARATION_VERSION, Branch, PreparedKernel, normalize_request
from .printing import print_expr

Request = tuple[tuple[int, ...], tuple[int, ...]]


@dataclass(frozen=True)
class Output:
    """One generated output: a derivative of k, or the log-hyperparameter derivative of one."""

    dx: tuple[int, ...]
    dy: tuple[int, ...]
    param: str | None = None

    @property
    def label(self) -> str:
        text = "k"
        if self.dx:
            text += "_dx" + "".join(map(str, self.dx))
        if self.dy:
            text += "_dy" + "".join(map(str, self.dy))
        if self.param:
            text += "_dlog_" + self.param
        return text


@dataclass(frozen=True)
class BatchSpec:
    """A kernel plus the derivative requests compiled together (order kept, duplicates dropped)."""

    kernel: Kernel
    requests: tuple[Request, ...]
    gradient: bool = False

    @classmethod
    def make(cls, kernel: Kernel, requests: Sequence[tuple[Sequence[int], Sequence[int]]],
             gradient: bool = False) -> BatchSpec:
        seen: dict[Request, None] = {}
        for dx, dy in requests:
            seen.setdefault(normalize_request(dx, dy, kernel.dim), None)
        if not seen:
            raise ValueError("a batch needs at least one derivative request")
        return cls(kernel, tuple(seen), bool(gradient))

    @property
    def outputs(self) -> tuple[Output, ...]:
        names = self.kernel.all_hyperparameter_names
        out = []
        for dx, dy in self.requests:
            out.append(Output(dx, dy))
            if self.gradient:
                out.extend(Output(dx, dy, n) for n in names)
        return tuple(out)

    @property
    def symmetric(self) -> bool:
        """True when every output is symmetric under swapping the two inputs."""
        return self.kernel.prepared.symmetric and all(dx == dy for dx, dy in self.requests)

    def describe(self) -> str:
        parts = [f"(dx={dx}, dy={dy})" for dx, dy in self.requests]
        return ", ".join(parts) + (" + log-hyperparameter gradients" if self.gradient else "")

    def key(self, versions: str) -> str:
        text = f"{self.kernel.signature}|{self.requests}|{self.gradient}|{versions}|prepared={PREPARATION_VERSION}"
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Block:
    """Statements of one branch: CSE temporaries then one value per output."""

    condition: str | None
    temporaries: tuple[tuple[str, str], ...]
    values: tuple[str, ...]


@dataclass(frozen=True)
class GeneratedModule:
    """Everything the template renders, as strings."""

    dim: int
    parameters: tuple[str, ...]
    parameter_locals: tuple[str, ...]
    outputs: tuple[Output, ...]
    symmetric: bool
    radii: tuple[tuple[str, str], ...]
    bases: tuple[tuple[str, str], ...]
    blocks: tuple[Block, ...]
    n_ops: int
    kernel_text: str
    request_text: str
    extra: dict[str, str] = field(default_factory=dict)


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
    # Positional, ASCII: Python NFKC-normalises identifiers, so names built from user names
    # (``_p_ﬁ`` and ``_p_fi``) could be one local in the generated source.
    for k, p in enumerate(prepared.params):
        names[p] = f"_p{k}"
    return names


def _block(exprs: list[sp.Expr], names: dict[sp.Symbol, str], condition: str | None) -> tuple[Block, int]:
    temps, reduced = sp.cse(exprs, symbols=sp.numbered_symbols("_c"), order="canonical")
    local = dict(names)
    for sym, _ in temps:
        local[sym] = sym.name
    temporaries = tuple((sym.name, print_expr(value, local)) for sym, value in temps)
    values = tuple(print_expr(e, local) for e in reduced)
    n_ops = sum(sp.count_ops(v) for _, v in temps) + sum(sp.count_ops(e) for e in reduced)
    return Block(condition, temporaries, values), int(n_ops)


def build(spec: BatchSpec) -> GeneratedModule:
    """Differentiate, check existence at coincident points, CSE and print one batch."""
    prepared = spec.kernel.prepared
    for dx, dy in spec.requests:
        prepared.check_request(dx, dy)
    names = _names(prepared)

    def expressions(branch: Branch | None) -> list[sp.Expr]:
        return [prepared.with_functions(prepared.output(o.dx, o.dy, o.param, branch)) for o in spec.outputs]

    blocks = []
    total = 0
    for branch in prepared.branches:
        block, n = _block(expressions(branch), names, _condition(prepared, branch))
        blocks.append(block)
        total += n
    general = [prepared.with_functions(prepared.finalize(prepared.output(o.dx, o.dy, o.param, None)))
               for o in spec.outputs]
    block, n = _block(general, names, None)
    blocks.append(block)
    total += n

    # Warped differences are written out inside the radii (computed before them) and again as locals.
    inline = {d.symbol: d.value for d in prepared.differences}
    radii = tuple((r.symbol.name, print_expr(sp.sqrt(r.quadratic.xreplace(inline)), names)) for r in prepared.radii)
    bases: list[tuple[str, str]] = [(d.symbol.name, print_expr(d.value, names)) for d in prepared.differences]
    for b in prepared.bases:
        bases += [(b.shift_symbol.name, print_expr(b.shift, names)), (b.symbol.name, f"1.0 + {b.shift_symbol.name}")]
    return GeneratedModule(
        dim=prepared.dim,
        parameters=tuple(p.name for p in prepared.params),
        parameter_locals=tuple(names[p] for p in prepared.params),
        outputs=spec.outputs,
        symmetric=spec.symmetric,
        radii=radii,
        bases=tuple(bases),
        blocks=tuple(blocks),
        n_ops=total,
        kernel_text=str(spec.kernel.expr),
        request_text=spec.describe(),
    )


def _condition(prepared: PreparedKernel, branch: Branch) -> str:
    return " and ".join(f"{prepared.radii[j].symbol.name} == 0.0" for j in branch.radii)
