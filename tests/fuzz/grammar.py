"""Seeded generator of random kernel expressions, rendered twice: for kernelgen and for the reference.

A case is a small tree. Its leaves are library kernels (``kernels.*``), strings for
``Kernel.from_string`` and SymPy objects for ``Kernel(expr, x, y, hyperparameters)``; its inner nodes
are kernelgen's own algebra (``+``, ``*``, positive scalars, powers). String and SymPy leaves hold an
expression tree :data:`E` built by typed productions (stationary families of warped distances,
products of 1-D kernels over different dimensions, separable and dot-product factors, exp / log /
trig of polynomials, ``|x - y|**g``, square roots of quadratic forms, hyperparameters in exponents,
warps and offsets).

Every case renders

* :meth:`Case.code`: the Python text that builds the kernel (what a user would type; the test
  evaluates exactly this text, so a printed reproducer is what was run), and
* :meth:`Case.reference`: the same kernel as a SymPy expression written from this tree alone, in
  real input symbols ``x_i``, ``y_i`` and positive hyperparameters under the names kernelgen gives
  them. The library formulas are restated here from their documented definitions, not taken from
  ``kernel.expr``.

The invalid stream (:func:`invalid_case`) makes kernels that must be refused at construction:
asymmetric, one-argument, singular or without a limit at ``x = y``, and input-like names
(``x``, ``y``, ``x_0``, ``X0``).
"""

from __future__ import annotations

import itertools
import math
import random
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace

import sympy as sp

#: An expression tree: ``("n", "1.5")`` number text, ``("x", i)`` / ``("y", i)`` input components,
#: ``("h", name)`` hyperparameter, ``("+", a, b, ...)``, ``("*", a, b, ...)``, ``("-", a, b)``,
#: ``("/", a, b)``, ``("neg", a)``, ``("^", base, exponent)``, ``("f", function, a)``.
E = tuple

FUNCTIONS: dict[str, Callable[[sp.Expr], sp.Expr]] = {
    "exp": sp.exp, "log": sp.log, "sqrt": sp.sqrt, "sin": sp.sin, "cos": sp.cos, "sinh": sp.sinh,
    "cosh": sp.cosh, "tanh": sp.tanh, "atan": sp.atan, "abs": sp.Abs,
}

#: Names a string leaf may give its hyperparameters (none looks like an input, a function or a keyword).
STEMS = ("l", "s", "a", "b", "c", "p", "g", "ell", "sigma", "alpha", "rho", "w", "q", "amp", "tau", "kappa")

#: Unicode names that NFKC maps onto an ASCII or Greek one (issue 7, item 3).
NFKC_PAIRS = (("ℓ", "l"), ("ﬁ", "fi"), ("µ", "μ"))


# ============================================================================ expression trees
def num(value: float | int | str) -> E:
    """A non-negative number literal, kept as its decimal text (kernelgen reads it exactly)."""
    text = value if isinstance(value, str) else repr(value)
    return ("n", text)


def X(i: int) -> E:  # noqa: N802  (the input's name)
    return ("x", i)


def Y(i: int) -> E:  # noqa: N802
    return ("y", i)


def H(name: str) -> E:  # noqa: N802
    return ("h", name)


def add(*terms: E) -> E:
    return terms[0] if len(terms) == 1 else ("+", *terms)


def mul(*factors: E) -> E:
    return factors[0] if len(factors) == 1 else ("*", *factors)


def sub(a: E, b: E) -> E:
    return ("-", a, b)


def div(a: E, b: E) -> E:
    return ("/", a, b)


def neg(a: E) -> E:
    return ("neg", a)


def pw(base: E, exponent: E | float | int | str) -> E:
    return ("^", base, exponent if isinstance(exponent, tuple) else num(exponent))


def fn(name: str, arg: E) -> E:
    return ("f", name, arg)


_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3, "^": 4}


def render(e: E, names: Callable[[E], str]) -> str:
    """Text of ``e`` with as few parentheses as Python's grammar allows; ``names`` spells the atoms."""
    return _render(e, names)[0]


def _render(e: E, names: Callable[[E], str]) -> tuple[str, int]:
    op = e[0]
    if op in ("n", "x", "y", "h"):
        return names(e), 5
    if op == "f":
        return f"{e[1]}({render(e[2], names)})", 5
    if op == "neg":
        text, p = _render(e[1], names)
        return "-" + (text if p >= 2 else f"({text})"), 3
    if op == "^":
        base, pb = _render(e[1], names)
        expo, pe = _render(e[2], names)
        base = base if pb > 4 else f"({base})"
        expo = expo if pe > 4 else f"({expo})"
        return f"{base}^{expo}", 4
    prec = _PRECEDENCE[op]
    parts = []
    for k, child in enumerate(e[1:]):
        text, p = _render(child, names)
        tight = k > 0 and op in ("-", "/")  # a - (b - c), a / (b * c)
        parts.append(text if p > prec or (p == prec and not tight) else f"({text})")
    joiner = {"+": " + ", "-": " - ", "*": "*", "/": "/"}[op]
    return joiner.join(parts), prec


def to_sympy(e: E, atoms: Callable[[E], sp.Expr]) -> sp.Expr:
    """``e`` as a SymPy expression; ``atoms`` gives the symbol of each input / hyperparameter."""
    op = e[0]
    if op == "n":
        return sp.pi if e[1] == "pi" else sp.Rational(e[1])
    if op in ("x", "y", "h"):
        return atoms(e)
    if op == "f":
        return FUNCTIONS[e[1]](to_sympy(e[2], atoms))
    args = [to_sympy(a, atoms) for a in e[1:]]
    if op == "+":
        return sp.Add(*args)
    if op == "*":
        return sp.Mul(*args)
    if op == "-":
        return args[0] - args[1]
    if op == "/":
        return args[0] / args[1]
    if op == "neg":
        return -args[0]
    return args[0] ** args[1]


def hyperparameters_in_order(e: E) -> list[str]:
    """Hyperparameter names in order of first appearance in the rendered text (kernelgen's order)."""
    seen: dict[str, None] = {}

    def walk(node: E) -> None:
        if node[0] == "h":
            seen.setdefault(node[1], None)
        elif node[0] == "f":
            walk(node[2])
        elif node[0] not in ("n", "x", "y"):
            for child in node[1:]:
                walk(child)

    walk(e)
    return list(seen)


def subtrees(e: E, path: tuple[int, ...] = ()) -> Iterator[tuple[tuple[int, ...], E]]:
    """Every node of ``e`` with its path (child positions), outermost first."""
    yield path, e
    if e[0] == "f":
        yield from subtrees(e[2], (*path, 2))
    elif e[0] not in ("n", "x", "y", "h"):
        for k, child in enumerate(e[1:], start=1):
            yield from subtrees(child, (*path, k))


def replace_at(e: E, path: tuple[int, ...], new: E) -> E:
    if not path:
        return new
    k = path[0]
    return (*e[:k], replace_at(e[k], path[1:], new), *e[k + 1:])


# ============================================================================ reference symbols
def input_symbols(dim: int) -> tuple[tuple[sp.Symbol, ...], tuple[sp.Symbol, ...]]:
    """The reference's inputs: real symbols ``x0..``, ``y0..`` (real, as every input is)."""
    return (tuple(sp.Symbol(f"x{i}", real=True) for i in range(dim)),
            tuple(sp.Symbol(f"y{i}", real=True) for i in range(dim)))


def hp_symbol(name: str) -> sp.Symbol:
    return sp.Symbol(name, positive=True)


def _atoms(dim: int) -> Callable[[E], sp.Expr]:
    xs, ys = input_symbols(dim)

    def atom(e: E) -> sp.Expr:
        if e[0] == "x":
            return xs[e[1]]
        if e[0] == "y":
            return ys[e[1]]
        return hp_symbol(e[1])

    return atom


# ============================================================================ kernel-level tree
@dataclass(frozen=True)
class Built:
    """A node's reference: expression, hyperparameter names in kernelgen's order, their values."""

    expr: sp.Expr
    names: tuple[str, ...]
    values: dict[str, float]


@dataclass(frozen=True)
class Lib:
    """``kernels.<name>(dim, **kwargs)``, optionally ``.rename(...)``."""

    name: str
    kwargs: tuple[tuple[str, object], ...]
    rename: tuple[tuple[str, str], ...] = ()

    def code(self, dim: int) -> str:
        args = "".join(f", {k}={v!r}" for k, v in self.kwargs)
        text = f"kernels.{self.name}({dim}{args})"
        if self.rename:
            text += ".rename(" + ", ".join(f"{o}={n!r}" for o, n in self.rename) + ")"
        return text

    def build(self, dim: int) -> Built:
        expr, names, values = library_reference(self.name, dim, dict(self.kwargs))
        mapping = dict(self.rename)
        expr = expr.xreplace({hp_symbol(o): hp_symbol(n) for o, n in mapping.items()})
        names = tuple(mapping.get(n, n) for n in names)
        values = {mapping.get(n, n): v for n, v in values.items()}
        return Built(expr, names, values)

    @property
    def positive(self) -> bool:
        return self.name != "linear"


@dataclass(frozen=True)
class Text:
    """``Kernel.from_string(text, dim, **values)``; ``inputs`` renames inputs (the invalid stream)."""

    expr: E
    values: tuple[tuple[str, float], ...]
    positive: bool = True
    inputs: tuple[tuple[str, str], ...] = ()

    def text(self) -> str:
        spelled = dict(self.inputs)

        def names(atom: E) -> str:
            if atom[0] == "n":
                return atom[1]
            if atom[0] == "h":
                return atom[1]
            key = f"{atom[0]}{atom[1]}"
            return spelled.get(key, key)

        return render(self.expr, names)

    def code(self, dim: int) -> str:
        kwargs = "".join(f", {n}={v!r}" for n, v in self.values)
        return f"Kernel.from_string({self.text()!r}, dim={dim}{kwargs})"

    def build(self, dim: int) -> Built:
        values = dict(self.values)
        names = tuple(hyperparameters_in_order(self.expr))
        return Built(to_sympy(self.expr, _atoms(dim)), names, {n: values[n] for n in names})


@dataclass(frozen=True)
class Sym:
    """``Kernel(expr, x=a0.., y=b0.., hyperparameters={...})`` built from SymPy objects.

    Hyperparameter names may be any string (Unicode included): the text uses placeholders
    ``h0, h1, ..`` that are replaced by ``sp.Symbol(name)``, because Python would NFKC-normalize
    them in source text.
    """

    expr: E
    values: tuple[tuple[str, float], ...]
    positive: bool = True

    def code(self, dim: int) -> str:
        order = hyperparameters_in_order(self.expr)
        holders = {n: f"h{k}" for k, n in enumerate(order)}

        def names(atom: E) -> str:
            if atom[0] == "n":
                return atom[1]
            if atom[0] == "h":
                return holders[atom[1]]
            return f"{'a' if atom[0] == 'x' else 'b'}{atom[1]}"

        text = render(self.expr, names)
        subs = ", ".join(f"sp.Symbol({h!r}): sp.Symbol({n!r})" for n, h in holders.items())
        values = dict(self.values)
        hps = ", ".join(f"{n!r}: {values[n]!r}" for n in order)
        return (f"Kernel(sp.sympify({text!r}).xreplace({{{subs}}}), x=sp.symbols('a0:{dim}'), "
                f"y=sp.symbols('b0:{dim}'), hyperparameters={{{hps}}})")

    def build(self, dim: int) -> Built:
        values = dict(self.values)
        names = tuple(hyperparameters_in_order(self.expr))
        # kernelgen reads names as Python reads identifiers (NFKC, README "Names"): 'ﬁ' is 'fi',
        # and a clash with another leaf's 'fi' is then renamed by the documented rule (Op.build).
        nfkc = {n: unicodedata.normalize("NFKC", n) for n in names}
        expr = to_sympy(self.expr, _atoms(dim)).xreplace({hp_symbol(n): hp_symbol(m) for n, m in nfkc.items()})
        return Built(expr, tuple(nfkc[n] for n in names), {nfkc[n]: values[n] for n in names})


@dataclass(frozen=True)
class Op:
    """``left + right`` or ``left * right`` (kernelgen's algebra: clashing names renamed on the right)."""

    op: str
    left: object
    right: object

    def code(self, dim: int) -> str:
        return f"({self.left.code(dim)}) {self.op} ({self.right.code(dim)})"

    def build(self, dim: int) -> Built:
        a, b = self.left.build(dim), self.right.build(dim)
        mapping = clash_renames(a.names, b.names)
        right = b.expr.xreplace({hp_symbol(o): hp_symbol(n) for o, n in mapping.items()})
        expr = a.expr + right if self.op == "+" else a.expr * right
        names = a.names + tuple(mapping.get(n, n) for n in b.names)
        values = {**a.values, **{mapping.get(n, n): v for n, v in b.values.items()}}
        return Built(expr, names, values)

    @property
    def positive(self) -> bool:
        return self.left.positive and self.right.positive


@dataclass(frozen=True)
class Scale:
    """``c * kernel`` with a positive number ``c`` (kernelgen reads it as the exact decimal)."""

    c: str
    kernel: object

    def code(self, dim: int) -> str:
        return f"{self.c} * ({self.kernel.code(dim)})"

    def build(self, dim: int) -> Built:
        inner = self.kernel.build(dim)
        return Built(sp.Rational(self.c) * inner.expr, inner.names, inner.values)

    @property
    def positive(self) -> bool:
        return self.kernel.positive


@dataclass(frozen=True)
class Power:
    """``kernel ** p`` (non-integer ``p`` only over kernels positive on the sampled box)."""

    kernel: object
    p: str

    def code(self, dim: int) -> str:
        return f"({self.kernel.code(dim)}) ** {self.p}"

    def build(self, dim: int) -> Built:
        inner = self.kernel.build(dim)
        return Built(inner.expr ** sp.Rational(self.p), inner.names, inner.values)

    @property
    def positive(self) -> bool:
        return self.kernel.positive


Node = Lib | Text | Sym | Op | Scale | Power


def clash_renames(left: Sequence[str], right: Sequence[str]) -> dict[str, str]:
    """kernelgen's documented rule: a right-hand name used on the left gets the first free ``_k``."""
    taken = set(left)
    mapping = {}
    for n in right:
        if n in taken:
            k = 2
            while f"{n}_{k}" in taken or f"{n}_{k}" in right:
                k += 1
            mapping[n] = f"{n}_{k}"
            taken.add(mapping[n])
    return mapping


# ============================================================================ library formulas
def library_reference(name: str, dim: int, kw: dict[str, object]) -> tuple[sp.Expr, tuple[str, ...], dict[str, float]]:
    """The documented formula of ``kernels.<name>`` (README / kernels docstring), written anew."""
    xs, ys = input_symbols(dim)
    t = [xs[i] - ys[i] for i in range(dim)]
    dot = sp.Add(*(xs[i] * ys[i] for i in range(dim)))
    names: list[str] = []
    values: dict[str, float] = {}

    def hp(n: str, value: object = None) -> sp.Symbol:
        names.append(n)
        given = kw.get(n) if value is None else value
        values[n] = 1.0 if given is None else float(given)  # library defaults are 1.0
        return hp_symbol(n)

    variance = kw.get("variance", 1.0)
    amp = sp.Integer(1)
    if name in ("rbf", "matern", "rational_quadratic", "periodic", "exp_sine_squared", "polynomial") \
            and variance is not None:
        amp = hp("variance")
    if name in ("rbf", "matern", "rational_quadratic"):
        ls = kw.get("length_scale", 1.0)
        if isinstance(ls, list) or kw.get("ard"):
            scales = ls if isinstance(ls, list) else [ls] * dim
            r2 = sp.Integer(0)
            for i in range(dim):
                r2 += t[i] ** 2 / hp(f"length_scale_{i}", scales[i]) ** 2
        else:
            r2 = sp.Add(*(ti**2 for ti in t)) / hp("length_scale") ** 2
        r = sp.sqrt(r2)
        if name == "rbf":
            body = sp.exp(-r2 / 2)
        elif name == "rational_quadratic":
            alpha = hp("alpha")
            body = (1 + r2 / (2 * alpha)) ** (-alpha)
        else:
            nu = kw.get("nu", 1.5)
            body = {0.5: sp.exp(-r),
                    1.5: (1 + sp.sqrt(3) * r) * sp.exp(-sp.sqrt(3) * r),
                    2.5: (1 + sp.sqrt(5) * r + sp.Rational(5, 3) * r2) * sp.exp(-sp.sqrt(5) * r)}[nu]
        return amp * body, tuple(names), values
    if name in ("periodic", "exp_sine_squared"):
        ell, period = hp("length_scale"), hp("period")
        if name == "periodic" or dim == 1:
            total = sp.Add(*(sp.sin(sp.pi * ti / period) ** 2 for ti in t))
        else:
            total = sp.sin(sp.pi * sp.sqrt(sp.Add(*(ti**2 for ti in t))) / period) ** 2
        return amp * sp.exp(-2 * total / ell**2), tuple(names), values
    if name == "linear":
        return hp("variance") * dot, tuple(names), values
    if name == "dot_product":
        return hp("sigma_0") ** 2 + dot, tuple(names), values
    if name == "polynomial":
        return amp * (hp("sigma_0") ** 2 + dot) ** int(kw.get("degree", 2)), tuple(names), values
    if name == "constant":
        return hp("constant_value", kw.get("value")), tuple(names), values
    raise ValueError(f"unknown library kernel {name!r}")


# ============================================================================ cases
@dataclass(frozen=True)
class Case:
    """One generated kernel: its tree, dimension, expected outcome and the productions used.

    ``expect`` is ``"valid"`` (must be accepted and evaluated correctly), ``"nfkc"`` (valid, but two
    names are equal after NFKC: refused or computed correctly), or the reason an invalid kernel must
    be refused: ``"asymmetric"``, ``"one-argument"``, ``"singular"``, ``"input-name"``.
    """

    seed: int
    dim: int
    kernel: Node
    expect: str = "valid"
    tags: frozenset[str] = field(default_factory=frozenset)

    def code(self) -> str:
        return self.kernel.code(self.dim)

    def reference(self) -> Built:
        return self.kernel.build(self.dim)

    def with_kernel(self, kernel: Node) -> Case:
        return replace(self, kernel=kernel)

    def describe(self) -> str:
        return f"dim={self.dim}, expect={self.expect}, tags={sorted(self.tags)}\n    {self.code()}"


# ============================================================================ the generator
class Gen:
    """Random productions for one case (``rng`` seeded by the case seed)."""

    def __init__(self, rng: random.Random, dim: int) -> None:
        self.rng = rng
        self.dim = dim
        self.tags: set[str] = set()
        self.values: dict[str, float] = {}

    # -------------------------------------------------------------- values and names
    def value(self, low: float = 0.3, high: float = 3.0) -> float:
        """Log-uniform in [low, high], three significant digits, never within 25% of 1."""
        while True:
            v = float(f"{math.exp(self.rng.uniform(math.log(low), math.log(high))):.3g}")
            if abs(math.log(v)) > math.log(1.25) or low > 1.25 or high < 0.8:
                return v

    def param(self, stem: str | None = None, low: float = 0.3, high: float = 3.0) -> E:
        """A hyperparameter; now and then an existing one is reused (shared between two places)."""
        same_range = [n for n, v in self.values.items() if low <= v <= high]
        if same_range and self.rng.random() < 0.1:
            self.tags.add("shared-hyperparameter")
            return H(self.rng.choice(same_range))
        stem = stem or self.rng.choice(STEMS)
        name = stem
        k = 1
        while name in self.values:
            name = f"{stem}{k}"
            k += 1
        self.values[name] = self.value(low, high)
        return H(name)

    def pick(self, weighted: Sequence[tuple[float, object]]) -> object:
        total = sum(w for w, _ in weighted)
        u = self.rng.uniform(0, total)
        for w, item in weighted:
            u -= w
            if u <= 0:
                return item
        return weighted[-1][1]

    def dims(self, at_least: int = 1) -> list[int]:
        size = self.rng.randint(at_least, self.dim)
        return sorted(self.rng.sample(range(self.dim), size))

    # -------------------------------------------------------------- distances
    def warp(self, v: E) -> tuple[E, str]:
        """``w(v)`` for one input component and the warp's tag."""
        kind = self.pick([(14, "identity"), (1, "scale"), (1, "cube"), (1, "sinh"), (1, "exp"),
                          (1, "atan"), (1, "cubic")])
        if kind == "identity":
            return v, kind
        if kind == "scale":
            return mul(self.param(low=0.5, high=2.5), v), kind
        if kind == "cube":
            return pw(v, 3), kind
        if kind == "sinh":
            return fn("sinh", v), kind
        if kind == "exp":
            return fn("exp", div(v, self.param(low=0.7, high=2.5))), kind
        if kind == "atan":
            return fn("atan", v), kind
        return add(v, mul(num("0.3"), pw(v, 3))), kind

    def difference(self, i: int, warp: bool) -> E:
        if not warp:
            return sub(X(i), Y(i))
        wx, kind = self.warp(X(i))
        if kind != "identity":
            self.tags.add(f"warp:{kind}")
            wy = _swap_inputs(wx)
            return sub(wx, wy)
        return sub(X(i), Y(i))

    def squared_distance(self, dims: list[int], warp: bool) -> E:
        """A scaled squared distance over ``dims``: isotropic, ARD, unscaled or a non-diagonal form."""
        diffs = [self.difference(i, warp) for i in dims]
        style = self.pick([(3, "iso"), (2, "ard"), (1, "unscaled"), (1, "inside"),
                           (1 if len(dims) > 1 else 0, "cross")])
        if style == "iso":
            return div(add(*(pw(d, 2) for d in diffs)), pw(self.param("l"), 2))
        if style == "ard":
            self.tags.add("ard")
            return add(*(div(pw(d, 2), pw(self.param("l"), 2)) for d in diffs))
        if style == "inside":
            return add(*(pw(div(d, self.param("l")), 2) for d in diffs))
        if style == "cross":
            self.tags.add("quadratic-form-cross-terms")
            c = num(self.rng.choice(["0.5", "1", "0.3"]))
            return add(*(pw(d, 2) for d in diffs), mul(c, diffs[0], diffs[1]))
        return add(*(pw(d, 2) for d in diffs))

    # -------------------------------------------------------------- stationary families
    def stationary(self) -> tuple[E, bool]:
        """A stationary kernel (or one of warped inputs): ``(expr, positive)``."""
        if self.dim > 1 and self.rng.random() < 0.35:
            self.tags.add("product-of-1d")
            factors, positive = [], True
            for i in self.dims(at_least=2):
                f, pos = self.family_1d(i)
                factors.append(f)
                positive &= pos
            return mul(*factors), positive
        if self.rng.random() < 0.3:
            return self.family_1d(self.rng.randrange(self.dim))
        return self.family_nd(self.dims(), warp=self.rng.random() < 0.3)

    def family_nd(self, dims: list[int], warp: bool) -> tuple[E, bool]:
        d2 = self.squared_distance(dims, warp)
        r = fn("sqrt", d2)
        kind = self.pick([(3, "se"), (2, "m12"), (2, "m32"), (2, "m52"), (2, "gexp"), (2, "rq"),
                          (1, "cauchy"), (1, "log"), (0.5, "sine-euclid")])
        self.tags.add(f"family:{kind}")
        if kind in ("m12", "m32", "m52", "sine-euclid"):
            self.tags.add("sqrt-of-quadratic-form")
        if kind == "se":
            return fn("exp", neg(div(d2, num(2)))), True
        if kind == "m12":
            return fn("exp", neg(r)), True
        if kind == "m32":
            s3 = fn("sqrt", num(3))
            return mul(add(num(1), mul(s3, r)), fn("exp", neg(mul(s3, r)))), True
        if kind == "m52":
            s5 = fn("sqrt", num(5))
            return mul(add(num(1), mul(s5, r), mul(div(num(5), num(3)), d2)), fn("exp", neg(mul(s5, r)))), True
        if kind == "gexp":
            return fn("exp", neg(self.fractional_power(d2, squared=True))), True
        if kind == "rq":
            alpha = self.param("alpha")
            self.tags.add("hyperparameter-exponent")
            return pw(add(num(1), div(d2, mul(num(2), alpha))), neg(alpha)), True
        if kind == "cauchy":
            return div(num(1), add(num(1), d2)), True
        if kind == "log":
            self.tags.add("log-of-polynomial")
            return div(num(1), add(num(1), fn("log", add(num(1), d2)))), True
        period = self.param("p", 0.7, 3.0)
        return fn("exp", neg(mul(num(2), pw(fn("sin", div(mul(("n", "pi"), r), period)), 2)))), True

    def fractional_power(self, base: E, squared: bool) -> E:
        """``|t|**g`` as the user writes it: ``(t^2)^(g/2)``, ``sqrt(t^2)^g`` or ``abs(t)^g``."""
        gamma = self.pick([(3, "number"), (1, "hyperparameter")])
        if gamma == "hyperparameter":
            self.tags.add("hyperparameter-exponent")
            g = self.param("g", 0.3, 1.9)
            return pw(base, div(g, num(2))) if squared else pw(base, g)
        g = self.rng.choice(["0.5", "1", "1.5", "1.99", "2", "0.75", "1.25"])
        self.tags.add(f"abs-power:{g}")
        if squared:
            half = sp.Rational(g) / 2
            return pw(base, num(str(half) if half.q == 1 else str(float(half))))
        return pw(base, num(g))

    def family_1d(self, i: int) -> tuple[E, bool]:
        """A 1-D stationary kernel in component ``i``."""
        d = self.difference(i, warp=self.rng.random() < 0.25)
        kind = self.pick([(2, "se"), (2, "abs-exp"), (2, "abs-gexp"), (1, "square-power"),
                          (1, "matern32"), (1, "matern52"), (1, "periodic"), (1, "cos"), (0.5, "sinc")])
        self.tags.add(f"family1d:{kind}")
        ell = self.param("l")
        if kind == "se":
            return fn("exp", neg(div(pw(d, 2), mul(num(2), pw(ell, 2))))), True
        if kind == "abs-exp":
            self.tags.add("abs-of-distance")
            return fn("exp", neg(div(fn("abs", d), ell))), True
        if kind == "abs-gexp":
            self.tags.add("abs-of-distance")
            return fn("exp", neg(div(self.fractional_power(fn("abs", d), squared=False), ell))), True
        if kind == "square-power":
            return fn("exp", neg(div(self.fractional_power(pw(d, 2), squared=True), ell))), True
        if kind == "matern32":
            self.tags.add("abs-of-distance")
            s3 = fn("sqrt", num(3))
            a = div(mul(s3, fn("abs", d)), ell)
            return mul(add(num(1), a), fn("exp", neg(a))), True
        if kind == "matern52":  # twice differentiable: with another coordinate, the partial branches
            self.tags.add("abs-of-distance")
            a = div(mul(fn("sqrt", num(5)), fn("abs", d)), ell)
            return mul(add(num(1), a, div(pw(a, 2), num(3))), fn("exp", neg(a))), True
        if kind == "periodic":
            p = self.param("p", 0.7, 3.0)
            return fn("exp", neg(div(mul(num(2), pw(fn("sin", div(mul(("n", "pi"), d), p)), 2)), pw(ell, 2)))), True
        if kind == "cos":
            self.tags.add("trig-of-polynomial")
            return fn("cos", div(d, ell)), False
        self.tags.add("removable-singularity")
        u = div(d, ell)
        return div(fn("sin", u), u), False

    # -------------------------------------------------------------- non-stationary factors
    def nonstationary(self) -> tuple[E, bool]:
        kind = self.pick([(3, "separable"), (3, "dot"), (1, "exp-dot"), (1, "hidden-stationary"),
                          (1, "cos-square"), (1, "log-dot"), (1, "poly")])
        self.tags.add(f"factor:{kind}")
        if kind == "separable":
            return self.separable()
        if kind == "dot":
            return self.dot_factor()
        i = self.rng.randrange(self.dim)
        if kind == "exp-dot":
            self.tags.add("exp-of-polynomial")
            return fn("exp", div(mul(X(i), Y(i)), self.param("a", 0.7, 3.0))), True
        if kind == "hidden-stationary":
            self.tags.add("trig-of-polynomial")
            return add(mul(fn("cos", X(i)), fn("cos", Y(i))), mul(fn("sin", X(i)), fn("sin", Y(i)))), False
        if kind == "cos-square":
            self.tags.add("trig-of-polynomial")
            return fn("cos", sub(pw(X(i), 2), pw(Y(i), 2))), False
        if kind == "log-dot":
            self.tags.add("log-of-polynomial")
            c = num(self.dim + 1.5)
            return fn("log", add(c, self.dot(self.dims()))), True
        u = mul(X(i), Y(i))
        return add(num(1), u, div(pw(u, 2), num(2))), True

    def dot(self, dims: list[int]) -> E:
        return add(*(mul(X(i), Y(i)) for i in dims))

    def dot_factor(self) -> tuple[E, bool]:
        """``(c + x.y)**n``: integer, non-integer or hyperparameter exponent (base kept positive)."""
        dims = self.dims()
        kind = self.pick([(2, "integer"), (2, "non-integer"), (1, "hyperparameter")])
        if kind == "integer":
            c = pw(self.param("s", 0.4, 2.0), 2)
            n = self.rng.choice([1, 2, 3])
            base = add(c, self.dot(dims))
            return (base if n == 1 else pw(base, n)), False
        # A positive base on [-1, 1]^d: c > number of dims in the dot product.
        s = self.param("s", math.sqrt(len(dims)) + 0.2, math.sqrt(len(dims)) + 1.5)
        base = add(pw(s, 2), self.dot(dims))
        self.tags.add("non-integer-power-of-factor")
        if kind == "hyperparameter":
            self.tags.add("hyperparameter-exponent")
            return pw(base, self.param("q", 0.3, 2.5)), True
        return pw(base, num(self.rng.choice(["0.5", "1.5", "2.5", "0.7"]))), True

    def separable(self) -> tuple[E, bool]:
        """``f(x) f(y)`` for a random ``f`` of one component."""
        i = self.rng.randrange(self.dim)
        kind = self.pick([(2, "gauss"), (2, "sqrt"), (2, "power"), (1, "cos"), (1, "log"), (1, "tanh"),
                          (1, "cosh"), (1, "affine")])
        self.tags.add(f"separable:{kind}")
        positive = kind not in ("cos", "tanh", "affine")

        def f(v: E) -> E:
            if kind == "gauss":
                return fn("exp", neg(div(pw(v, 2), a)))
            if kind == "sqrt":
                return fn("sqrt", add(pw(v, 2), c))
            if kind == "power":
                self.tags.add("non-integer-power-of-factor")
                return pw(add(num(1), pw(v, 2)), p)
            if kind == "cos":
                return fn("cos", div(v, a))
            if kind == "log":
                return fn("log", add(num(2), pw(v, 2)))
            if kind == "tanh":
                return fn("tanh", v)
            if kind == "cosh":
                return fn("cosh", div(v, a))
            return add(v, c)

        a = self.param("a", 0.5, 3.0)
        c = self.rng.choice([num(1), pw(self.param("c", 0.4, 2.0), 2)])
        p = self.rng.choice([num("0.5"), num("1.5"), num("0.3"), self.param("p", 0.3, 2.0)])
        body = mul(f(X(i)), f(Y(i)))
        return body, positive

    # -------------------------------------------------------------- leaves and algebra
    def term(self) -> tuple[E, bool]:
        kind = self.pick([(5, "stationary"), (2, "mixed"), (2, "nonstationary")])
        if kind == "stationary":
            return self.stationary()
        if kind == "nonstationary":
            return self.nonstationary()
        a, pa = self.stationary()
        b, pb = self.nonstationary()
        return mul(a, b), pa and pb

    def leaf_expr(self) -> tuple[E, bool]:
        """A string leaf: a term, with maybe an amplitude, a power, a second term or factor."""
        e, positive = self.term()
        shape = self.pick([(7, "plain"), (2, "amplitude"), (1, "power"), (1, "sum"), (1, "product")])
        if shape == "amplitude":
            self.tags.add("amplitude")
            amp = self.param("s")
            e = mul(pw(amp, 2) if self.rng.random() < 0.5 else amp, e)
        elif shape == "power" and positive:
            p = self.rng.choice(["1.5", "0.5", "2", "3", "0.7"])
            self.tags.add("power-of-factor" + ("" if float(p).is_integer() else ":non-integer"))
            e = pw(e, num(p))
        elif shape in ("sum", "product"):
            f, pf = self.term()
            e = add(e, f) if shape == "sum" else mul(e, f)
            positive = positive and pf
        return e, positive

    def text_leaf(self) -> Text:
        self.values = {}
        e, positive = self.leaf_expr()
        names = hyperparameters_in_order(e)
        return Text(e, tuple((n, self.values[n]) for n in names), positive)

    def library(self) -> Lib:
        d = self.dim
        name = self.pick([(3, "rbf"), (3, "matern"), (2, "rational_quadratic"), (1, "periodic"),
                          (1, "exp_sine_squared"), (1, "linear"), (1.5, "dot_product"), (1, "polynomial"),
                          (0.5, "constant")])
        self.tags.add(f"library:{name}")
        kw: list[tuple[str, object]] = []
        if name == "matern":
            kw.append(("nu", self.rng.choice([0.5, 1.5, 2.5])))
        if name in ("rbf", "matern"):
            if d > 1 and self.rng.random() < 0.4:
                kw += [("length_scale", [self.value() for _ in range(d)]), ("ard", True)]
            else:
                kw.append(("length_scale", self.value()))
        if name == "rational_quadratic":
            kw += [("length_scale", self.value()), ("alpha", self.value())]
        if name in ("periodic", "exp_sine_squared"):
            kw += [("length_scale", self.value()), ("period", self.value(0.7, 3.0))]
        if name in ("dot_product", "polynomial"):
            if name == "polynomial":
                kw.append(("degree", self.rng.choice([1, 2, 3])))
            kw.append(("sigma_0", self.value(math.sqrt(d) + 0.2, math.sqrt(d) + 1.5)))
        if name == "constant":
            kw.append(("value", self.value()))
        elif name not in ("dot_product",):
            kw.append(("variance", None if (name in ("rbf", "matern") and self.rng.random() < 0.2)
                       else self.value()))
        rename: tuple[tuple[str, str], ...] = ()
        if self.rng.random() < 0.4:
            built = Lib(name, tuple(kw)).build(d)
            stem = self.rng.choice(["v", "h", "k", "z"])
            rename = tuple((n, f"{stem}{k}") for k, n in enumerate(built.names))
        return Lib(name, tuple(kw), rename)

    def sympy_leaf(self) -> Sym:
        leaf = self.text_leaf()
        self.tags.add("sympy-objects")
        return Sym(leaf.expr, leaf.values, leaf.positive)

    def leaf(self) -> Node:
        kind = self.pick([(4, "library"), (5, "text"), (1, "sympy")])
        if kind == "library":
            return self.library()
        if kind == "sympy":
            return self.sympy_leaf()
        self.tags.add("string")
        return self.text_leaf()

    def kernel(self, leaves: int) -> Node:
        """A kernel of ``leaves`` leaves joined by kernelgen's algebra, maybe scaled or powered."""
        if leaves == 1:
            node: Node = self.leaf()
        else:
            split = self.rng.randint(1, leaves - 1)
            op = self.rng.choice(["+", "*"])
            self.tags.add("kernel-sum" if op == "+" else "kernel-product")
            node = Op(op, self.kernel(split), self.kernel(leaves - split))
        u = self.rng.random()
        if u < 0.12:
            self.tags.add("scalar-multiple")
            node = Scale(self.rng.choice(["0.5", "2.5", "0.3", "1.7", "3"]), node)
        elif u < 0.24:
            p = self.rng.choice(["2", "3", "0.5", "1.5", "2.5", "0.7"])
            if float(p).is_integer() or node.positive:
                self.tags.add("kernel-power" + ("" if float(p).is_integer() else ":non-integer"))
                node = Power(node, p)
        return node


def _swap_inputs(e: E) -> E:
    """``e`` with every ``x_i`` replaced by ``y_i`` and vice versa."""
    if e[0] == "x":
        return ("y", e[1])
    if e[0] == "y":
        return ("x", e[1])
    if e[0] == "f":
        return ("f", e[1], _swap_inputs(e[2]))
    if e[0] in ("n", "h"):
        return e
    return (e[0], *(_swap_inputs(c) for c in e[1:]))


def _rng(stream: str, index: int, base_seed: int) -> random.Random:
    return random.Random(f"kernelgen-fuzz/{stream}/{base_seed}/{index}")


#: Distribution of the input dimension and of the number of leaves.
DIMS = ((0.5, 1), (0.3, 2), (0.2, 3))
LEAVES = ((0.6, 1), (0.3, 2), (0.1, 3))


#: The CI profile keeps expressions whose size (:func:`size`) is at most this: kernelgen's
#: generation time grows steeply with size (seconds for a third derivative of a 40-node
#: non-stationary expression), the wide profile (``KERNELGEN_FUZZ``) has no bound.
CI_SIZE = 40


def size(node: Node) -> int:
    """Expression nodes of the kernel, a library kernel counting 10 and a power ``p`` as ``p`` copies."""
    if isinstance(node, Lib):
        return 10
    if isinstance(node, (Text, Sym)):
        return sum(1 for _ in subtrees(node.expr))
    if isinstance(node, Op):
        return size(node.left) + size(node.right)
    if isinstance(node, Power):
        p = float(node.p)
        return size(node.kernel) * (int(p) if p.is_integer() else 2)
    return size(node.kernel)


def valid_case(index: int, base_seed: int = 0, profile: str = "ci") -> Case:
    """The ``index``-th case of the valid stream (deterministic in ``index``, ``base_seed``, ``profile``).

    ``profile="ci"`` redraws (from the same seed) until the case has at most two leaves and size
    :data:`CI_SIZE`; ``"wide"`` takes the first draw, up to three leaves.
    """
    rng = _rng(f"valid-{profile}", index, base_seed)
    while True:
        g = Gen(rng, 1)
        g.dim = g.pick([(w, d) for w, d in DIMS])
        if rng.random() < 0.03:
            case = nfkc_case(rng, index, g.dim)
            if profile != "ci" or size(case.kernel) <= CI_SIZE:
                return case
            continue
        leaves = g.pick([(w, n) for w, n in LEAVES if profile != "ci" or n <= 2])
        kernel = g.kernel(leaves)
        if profile != "ci" or size(kernel) <= CI_SIZE:
            return Case(index, g.dim, kernel, "valid", frozenset(g.tags))


def nfkc_case(rng: random.Random, index: int, dim: int) -> Case:
    """Two leaves whose hyperparameter names are equal after NFKC (``ℓ`` and ``l``, ...)."""
    odd, plain = rng.choice(NFKC_PAIRS)
    g = Gen(rng, dim)
    left = Sym(*_rename_first(_stationary_leaf(g), odd))
    right = Sym(*_rename_first(_stationary_leaf(g), plain))
    tags = frozenset(g.tags | {"nfkc-clash", "sympy-objects"})
    return Case(index, dim, Op(rng.choice(["+", "*"]), left, right), "nfkc", tags)


def _stationary_leaf(g: Gen) -> Text:
    """A one-term stationary string leaf with at least one hyperparameter."""
    while True:
        g.values = {}
        e, positive = g.stationary()
        names = hyperparameters_in_order(e)
        if names:
            return Text(e, tuple((n, g.values[n]) for n in names), positive)


def _rename_first(leaf: Text, name: str) -> tuple[E, tuple[tuple[str, float], ...], bool]:
    old = leaf.values[0][0]
    expr = _rename_hp(leaf.expr, old, name)
    values = tuple((name if n == old else n, v) for n, v in leaf.values)
    return expr, values, leaf.positive


def _rename_hp(e: E, old: str, new: str) -> E:
    if e[0] == "h":
        return H(new) if e[1] == old else e
    if e[0] in ("n", "x", "y"):
        return e
    if e[0] == "f":
        return ("f", e[1], _rename_hp(e[2], old, new))
    return (e[0], *(_rename_hp(c, old, new) for c in e[1:]))


# ============================================================================ the invalid stream
#: The invalid stream cycles through these (reason, variant) pairs.
INVALID_VARIANTS = (
    ("asymmetric", "plus-x"), ("singular", "inverse-square"), ("input-name", "x"), ("asymmetric", "issue"),
    ("one-argument", "gauss"), ("singular", "log-abs"), ("asymmetric", "one-sided-factor"),
    ("input-name", "x_"), ("singular", "negative-power"), ("asymmetric", "antisymmetric"),
    ("one-argument", "poly"), ("singular", "oscillating"), ("asymmetric", "shifted"), ("input-name", "X"),
    ("singular", "over-radius"), ("asymmetric", "tiny"), ("one-argument", "cos"), ("singular", "plus-log"),
)


def invalid_case(index: int, base_seed: int = 0) -> Case:
    """The ``index``-th kernel that must be refused at construction."""
    rng = _rng("invalid", index, base_seed)
    g = Gen(rng, 1)
    g.dim = g.pick([(0.6, 1), (0.25, 2), (0.15, 3)])
    kind, variant = INVALID_VARIANTS[index % len(INVALID_VARIANTS)]
    g.values = {}
    base, _ = g.stationary() if rng.random() < 0.7 else g.term()
    i = rng.randrange(g.dim)
    d = sub(X(i), Y(i))
    inputs: tuple[tuple[str, str], ...] = ()
    if kind == "asymmetric":
        g.tags.add(f"invalid:{variant}")
        expr = {
            "plus-x": lambda: add(base, mul(num("0.3"), X(i))),
            "one-sided-factor": lambda: mul(base, add(num(1), pw(X(i), 2))),
            "antisymmetric": lambda: rng.choice([fn("sin", d), mul(d, base), mul(fn("tanh", X(i)), Y(i)),
                                                 fn("atan", d)]),
            "shifted": lambda: fn("exp", neg(pw(sub(X(i), mul(num(2), Y(i))), 2))),
            "issue": lambda: add(mul(X(0), Y(0)), fn("abs", sub(X(0), num(1))), X(0)),
            "tiny": lambda: add(base, mul(num("1e-12"), X(i), pw(Y(i), 2))),
        }[variant]()
    elif kind == "one-argument":
        g.tags.add(f"invalid:one-argument:{variant}")
        expr = {"gauss": fn("exp", neg(pw(X(i), 2))), "poly": add(num(1), pw(X(i), 2)),
                "cos": fn("cos", div(X(i), num(2)))}[variant]
    elif kind == "singular":
        g.tags.add(f"invalid:singular:{variant}")
        d2 = add(*(pw(sub(X(j), Y(j)), 2) for j in range(g.dim)))
        expr = {
            "inverse-square": lambda: div(num(1), pw(d, 2)),
            "log-abs": lambda: fn("log", fn("abs", d)),
            "negative-power": lambda: pw(fn("abs", d), neg(num("0.5"))),
            "oscillating": lambda: mul(base, fn("cos", div(num(1), d))),
            "over-radius": lambda: div(base, fn("sqrt", d2)),
            "plus-log": lambda: add(base, fn("log", d2)),
        }[variant]()
    else:
        expr = base
        sx, sy = {"x": ("x", "y"), "x_": ("x_", "y_"), "X": ("X", "Y")}[variant]
        if sx == "x":
            g.dim = 1  # bare x and y name one input only
            expr, _ = g.stationary()
            names = hyperparameters_in_order(expr)
            inputs = (("x0", "x"), ("y0", "y"))
            g.tags.add("invalid:input-name:x")
            return Case(index, 1, Text(expr, tuple((n, g.values[n]) for n in names), False, inputs), kind,
                        frozenset(g.tags))
        g.tags.add(f"invalid:input-name:{sx}")
        inputs = tuple(itertools.chain.from_iterable(
            ((f"x{j}", sx if sx == "x" else f"{sx}{j}"), (f"y{j}", sy if sy == "y" else f"{sy}{j}"))
            for j in range(g.dim)))
        if not any(node[0] in ("x", "y") for _, node in subtrees(expr)):
            expr = mul(expr, fn("exp", neg(pw(sub(X(0), Y(0)), 2))))
    names = hyperparameters_in_order(expr)
    leaf = Text(expr, tuple((n, g.values[n]) for n in names), False, inputs)
    return Case(index, g.dim, leaf, kind, frozenset(g.tags))


# ============================================================================ shrinking
def shrink_candidates(case: Case) -> Iterator[Case]:
    """Smaller variants of ``case``, simplest first: sub-kernels, sub-expressions, rounder values."""
    for node in _shrink_node(case.kernel):
        yield case.with_kernel(node)


def _shrink_node(node: Node) -> Iterator[Node]:
    if isinstance(node, Op):
        yield node.left
        yield node.right
        for left in _shrink_node(node.left):
            yield Op(node.op, left, node.right)
        for right in _shrink_node(node.right):
            yield Op(node.op, node.left, right)
    elif isinstance(node, (Scale, Power)):
        yield node.kernel
        if isinstance(node, Power) and node.p not in ("2", "0.5"):
            yield Power(node.kernel, "2" if float(node.p).is_integer() else "0.5")
        for inner in _shrink_node(node.kernel):
            yield replace(node, kernel=inner)
    elif isinstance(node, Lib):
        yield from _shrink_library(node)
    else:
        yield from _shrink_leaf(node)


def _shrink_library(node: Lib) -> Iterator[Lib]:
    if node.rename:
        yield replace(node, rename=())
    kw = dict(node.kwargs)
    if kw.get("ard"):
        ls = kw["length_scale"]
        yield replace(node, kwargs=tuple((k, v) for k, v in {**kw, "length_scale": ls[0]}.items() if k != "ard"))
    for k, v in node.kwargs:
        simple = _simpler_value(v) if isinstance(v, float) and k != "nu" else None
        if simple is not None:
            yield replace(node, kwargs=tuple((kk, simple if kk == k else vv) for kk, vv in node.kwargs))


def _shrink_leaf(leaf: Text | Sym) -> Iterator[Text | Sym]:
    values = dict(leaf.values)
    nodes = list(subtrees(leaf.expr))
    # 1. the whole expression replaced by one of its sub-expressions (outermost first);
    for _, sub_e in nodes[1:]:
        if sub_e[0] not in ("n", "x", "y", "h") and _has_inputs(sub_e):
            yield _leaf_with(leaf, sub_e, values)
    # 2. one node replaced by one of its operands; 3. a hyperparameter by a round number.
    for path, sub_e in nodes:
        for child in _operands(sub_e):
            if _has_inputs(child):
                yield _leaf_with(leaf, replace_at(leaf.expr, path, child), values)
        if sub_e[0] == "h":
            yield _leaf_with(leaf, replace_at(leaf.expr, path, num(_simple_number(values[sub_e[1]]))), values)
    for n, v in leaf.values:
        simple = _simpler_value(v)
        if simple is not None:
            yield replace(leaf, values=tuple((nn, simple if nn == n else vv) for nn, vv in leaf.values))


def _operands(e: E) -> list[E]:
    if e[0] == "f":
        return [e[2]]
    return [] if e[0] in ("n", "x", "y", "h") else list(e[1:])


def _leaf_with(leaf: Text | Sym, expr: E, values: dict[str, float]) -> Text | Sym:
    names = hyperparameters_in_order(expr)
    return replace(leaf, expr=expr, values=tuple((n, values[n]) for n in names))


def _has_inputs(e: E) -> bool:
    return any(node[0] in ("x", "y") for _, node in subtrees(e))


def _simpler_value(v: float) -> float | None:
    """A rounder value away from 1 (0.5 or 2 by side), or None if ``v`` is already that."""
    target = 0.5 if v < 1 else 2.0
    return None if v == target or v > 4 else target


def _simple_number(v: float) -> str:
    return "0.5" if v < 1 else "2"
