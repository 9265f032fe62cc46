"""Immutable symbolic kernels k(x, y; theta) with named positive hyperparameters."""

from __future__ import annotations

import math
import os
import re
import sys
import warnings
from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from numbers import Real
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import sympy as sp

from .analysis import analysis_of, psd_problem
from .errors import InvalidKernelError, KernelParseError, NotPositiveDefiniteWarning
from .evaluation import Evaluable
from .hyperparameters import Hyperparameter
from .limits import check_expression
from .names import check_spellings, normalize_keys, normalize_name, unique_name
from .parsing import parse_kernel_string
from .request import Request

if TYPE_CHECKING:
    from .prepared import PreparedKernel

V = TypeVar("V")


def x_symbols(dim: int) -> tuple[sp.Symbol, ...]:
    return tuple(sp.Symbol(f"x{i}") for i in range(dim))


def y_symbols(dim: int) -> tuple[sp.Symbol, ...]:
    return tuple(sp.Symbol(f"y{i}") for i in range(dim))


class Kernel(Evaluable):
    """A covariance function k(x, y; theta) as a SymPy expression.

    Inputs are ``x0..x{d-1}`` (first argument) and ``y0..y{d-1}`` (second); every other free
    symbol is a strictly positive hyperparameter.

    Parameters
    ----------
    expr : sympy.Expr
        The kernel expression.
    x, y : sequence of sympy.Symbol
        Symbols of the first and second input, same length ``d``. They are renamed to the
        canonical ``x0..``, ``y0..``.
    hyperparameters : mapping or sequence, optional
        ``{name: value}``, ``{name: Hyperparameter}`` or a sequence of :class:`Hyperparameter`.
        Every other free symbol of ``expr`` is an error. When omitted, all other free symbols
        are hyperparameters with value 1.0, in alphabetical order.
    name : str, optional
        Short label used in generated file names and ``repr``.

    Raises
    ------
    InvalidKernelError
        When ``expr`` is not a covariance function: a hyperparameter named like an input (``x``,
        ``y``, ``x_0``, ``X0``, ...), dependence on one argument only, symmetry
        ``k(x, y) = k(y, x)`` not provable symbolically, or a value at coincident points
        ``x = y`` that is infinite, has no limit or divides by zero. Every property is decided on
        ``expr`` itself (:mod:`kernelgen.symbolic.analysis`).

    Warns
    -----
    NotPositiveDefiniteWarning
        When a Gram matrix of random points at several scales, at the given hyperparameter
        values, is not positive semi-definite (a numerical probe; it never blocks). Built-in
        kernels and sums, products, positive multiples and positive integer powers of
        such kernels are positive semi-definite by construction and are not probed.

    Notes
    -----
    Algebra: ``k1 + k2``, ``k1 * k2``, ``c * k``, ``k + c`` and ``k ** p`` build new kernels.
    Operands are independent: a hyperparameter name used by both keeps its name on the left and
    is renamed ``<name>_2`` (or ``_3``, ... the first free suffix) on the right. To *share* a
    hyperparameter, write the composite as one expression (string or SymPy).
    """

    def __init__(
        self,
        expr: sp.Expr | str,
        x: Sequence[sp.Symbol] | None = None,
        y: Sequence[sp.Symbol] | None = None,
        hyperparameters: Mapping[str, float | Hyperparameter] | Sequence[Hyperparameter] | None = None,
        *,
        name: str | None = None,
    ) -> None:
        self._setup(expr, x, y, hyperparameters, name)
        self._known_psd = False
        self._validate()
        self._probe_psd()

    def _setup(self, expr: sp.Expr, x: Sequence[sp.Symbol] | None, y: Sequence[sp.Symbol] | None,
               hyperparameters: Mapping[str, float | Hyperparameter] | Sequence[Hyperparameter] | None,
               name: str | None) -> None:
        """Canonical symbols and hyperparameter specs (cheap; no analysis)."""
        if isinstance(expr, str):
            raise TypeError("Kernel(expr) takes a SymPy expression; use Kernel.from_string(text, dim)")
        expr = sp.sympify(expr)
        if x is None or y is None:
            raise TypeError("Kernel(expr, x=..., y=...) needs the input symbols of both arguments")
        x, y = tuple(x), tuple(y)
        if len(x) != len(y) or not x:
            raise ValueError(f"x and y must be non-empty and of equal length, got {len(x)} and {len(y)}")
        if len(set(x + y)) != 2 * len(x) or not all(isinstance(s, sp.Symbol) for s in x + y):
            raise ValueError("x and y must be distinct SymPy Symbols")
        dim = len(x)
        inputs = set(x) | set(y)
        others = sorted((s for s in expr.free_symbols if s not in inputs), key=lambda s: s.name)
        # One spelling per name (NFKC, as Python reads identifiers): 'ﬁ' and 'fi' may not be two.
        check_spellings(s.name for s in others)
        names = {s: normalize_name(s.name) for s in others}
        specs = _read_hyperparameters(hyperparameters, sorted(names.values()))
        unknown = [n for n in names.values() if n not in specs]
        if unknown:
            raise ValueError(
                f"expr has symbols {unknown} that are neither inputs nor listed hyperparameters"
            )
        missing = [n for n in specs if n not in set(names.values())]
        if missing:
            raise ValueError(f"hyperparameters {missing} do not appear in the kernel expression")
        canon = {old: new for old, new in zip(x, x_symbols(dim))}
        canon.update({old: new for old, new in zip(y, y_symbols(dim))})
        canon.update({s: sp.Symbol(names[s], positive=True) for s in others})
        expr = expr.xreplace(canon)
        check_expression(expr)  # resource limits (KernelParseError) before any symbolic work
        if expr.has(sp.I) or expr.has(sp.zoo) or expr.has(sp.nan) or expr.has(sp.oo) or expr.has(-sp.oo):
            # InvalidKernelError is a ValueError: code catching the old type still does.
            raise InvalidKernelError(f"kernel expression {expr} is not real and finite (it contains I, zoo, nan or oo)")
        self._expr: sp.Expr = expr
        self._dim = dim
        self._hyperparameters: tuple[Hyperparameter, ...] = tuple(specs.values())
        self._name = name or "kernel"
        if not self._name.replace("_", "").isalnum():
            raise ValueError(f"name must be alphanumeric with underscores, got {self._name!r}")

    def _validate(self) -> None:
        """Refuse an expression that is not a covariance function (see ``Raises``)."""
        _check_input_like_names(self.all_hyperparameter_names, self._dim)
        analysis = analysis_of(self._expr, self._dim)
        on_x, on_y = analysis.depends_on
        if on_x != on_y:
            has, lacks = ("x", "y") if on_x else ("y", "x")
            raise InvalidKernelError(
                f"kernel {self._expr} depends on {has} but not on {lacks}: a covariance k(x, y) depends on "
                f"both arguments (inputs are x0..x{self._dim - 1}, y0..y{self._dim - 1})"
            )
        proven, counterexample = analysis.symmetry
        if proven is False:
            assert counterexample is not None
            raise InvalidKernelError(
                f"kernel {self._expr} is not symmetric: k(x, y) != k(y, x) {counterexample.describe()}"
            )
        if proven is None:
            raise InvalidKernelError(
                f"kernelgen cannot prove that kernel {self._expr} is symmetric, k(x, y) = k(y, x): write it "
                "so that swapping every x_i with y_i gives the same expression after expansion"
            )
        if on_x:
            problems = analysis.coincident.problems
            if problems:
                raise InvalidKernelError(
                    f"kernel {self._expr} is not a covariance function at coincident points: {problems[0]}"
                )

    def _probe_psd(self) -> None:
        """Warn (never raise) when a random Gram matrix is not positive semi-definite."""
        try:
            problem = psd_problem(self._expr, self._dim, self.values)
        except (TypeError, ValueError, NameError, KeyError, SyntaxError):
            return  # not evaluable by NumPy: no probe, no claim
        if problem is not None:
            warnings.warn(
                f"kernel {self._name!r} ({_shortened(self._expr)}) may not be positive semi-definite: {problem}; "
                "a Gaussian process with it can fail or give negative variances",
                NotPositiveDefiniteWarning,
                stacklevel=_stacklevel(),
            )

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_string(cls, text: str, dim: int, name: str | None = None, **values: Any) -> Kernel:
        """Parse ``text`` (no Python is executed) into a kernel over ``dim`` inputs.

        ``x0..x{dim-1}`` and ``y0..y{dim-1}`` are the inputs; every other name is a positive
        hyperparameter in order of first appearance, with value 1.0 unless given in ``values``
        (a number or a :class:`Hyperparameter`). ``^`` means power.

        Examples
        --------
        >>> k = Kernel.from_string("s * exp(-(x0 - y0)**2 / (2 * l**2))", dim=1, l=0.3)
        >>> k.hyperparameter_names
        ('s', 'l')
        """
        expr, x, y, names = parse_kernel_string(text, dim)
        values = normalize_keys(values, "hyperparameter values")
        unknown = [n for n in values if n not in names]
        if unknown:
            raise ValueError(f"values given for {unknown}, which are not symbols of {text!r}")
        specs = {n: values.get(n, 1.0) for n in names}
        try:
            return cls(expr, x, y, specs, name=name)
        except RecursionError:  # the limits make this unlikely; a user still gets a parse error, not a crash
            raise KernelParseError(f"kernel string {text[:80]!r} is nested too deeply for SymPy; see "
                                   "kernelgen.symbolic.limits") from None

    def _replace(self, expr: sp.Expr | None = None, hyperparameters: Iterable[Hyperparameter] | None = None,
                 name: str | None = None, known_psd: bool | None = None) -> Kernel:
        """A kernel built from this (valid) one without re-validation: the caller vouches for it."""
        new = object.__new__(Kernel)
        new._expr = self._expr if expr is None else expr
        new._dim = self._dim
        new._hyperparameters = self._hyperparameters if hyperparameters is None else tuple(hyperparameters)
        new._name = name or self._name
        new._known_psd = self._known_psd if known_psd is None else known_psd
        return new

    # ------------------------------------------------------------------ properties
    @property
    def expr(self) -> sp.Expr:
        """The SymPy expression in canonical symbols ``x0.., y0..`` and hyperparameters."""
        return self._expr

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def name(self) -> str:
        return self._name

    @property
    def x(self) -> tuple[sp.Symbol, ...]:
        return x_symbols(self._dim)

    @property
    def y(self) -> tuple[sp.Symbol, ...]:
        return y_symbols(self._dim)

    @property
    def hyperparameters(self) -> tuple[Hyperparameter, ...]:
        """All hyperparameters (free and fixed) in the kernel's canonical order."""
        return self._hyperparameters

    @property
    def all_hyperparameter_names(self) -> tuple[str, ...]:
        """Names of all hyperparameters, fixed ones included (the order of generated code)."""
        return tuple(h.name for h in self._hyperparameters)

    @property
    def hyperparameter_names(self) -> tuple[str, ...]:
        """Names of the free hyperparameters: the order of ``theta``, ``bounds`` and gradients."""
        return tuple(h.name for h in self._hyperparameters if not h.fixed)

    @property
    def values(self) -> dict[str, float]:
        """``{name: value}`` for all hyperparameters."""
        return {h.name: h.value for h in self._hyperparameters}

    @property
    def parameter_vector(self) -> np.ndarray:
        """Values of all hyperparameters as float64, in ``all_hyperparameter_names`` order."""
        return np.array([h.value for h in self._hyperparameters], dtype=np.float64)

    @property
    def theta(self) -> np.ndarray:
        """Log of the free hyperparameters, in ``hyperparameter_names`` order."""
        return np.log([h.value for h in self._hyperparameters if not h.fixed]).astype(np.float64)

    @property
    def bounds(self) -> np.ndarray:
        """Log-bounds of the free hyperparameters, shape ``(p, 2)``."""
        rows = [h.bounds for h in self._hyperparameters if not h.fixed]
        return np.log(np.array(rows, dtype=np.float64).reshape(-1, 2))

    @property
    def free_mask(self) -> np.ndarray:
        """Boolean mask over ``all_hyperparameter_names`` selecting the free ones."""
        return np.array([not h.fixed for h in self._hyperparameters], dtype=bool)

    def hyperparameter(self, name: str) -> Hyperparameter:
        name = normalize_name(name)
        for h in self._hyperparameters:
            if h.name == name:
                return h
        raise KeyError(f"no hyperparameter {name!r}; the kernel has {self.all_hyperparameter_names}")

    def symbol(self, name: str) -> sp.Symbol:
        """The positive SymPy symbol of hyperparameter ``name``."""
        return sp.Symbol(self.hyperparameter(name).name, positive=True)

    # ------------------------------------------------------------------ functional updates
    def with_values(self, **values: float) -> Kernel:
        """A copy with some hyperparameter values replaced."""
        values = self._check_names(values)
        return self._replace(hyperparameters=[
            h.with_value(values[h.name]) if h.name in values else h for h in self._hyperparameters
        ])

    def with_theta(self, theta: Sequence[float]) -> Kernel:
        """A copy whose free hyperparameters are ``exp(theta)``."""
        theta = np.asarray(theta, dtype=np.float64)
        names = self.hyperparameter_names
        if theta.shape != (len(names),):
            raise ValueError(f"theta must have shape ({len(names)},), got {theta.shape}")
        if not np.all(np.isfinite(theta)):
            raise ValueError("theta must be finite")
        return self.with_values(**dict(zip(names, np.exp(theta).tolist())))

    def with_bounds(self, **bounds: object) -> Kernel:
        """A copy with new bounds: ``(low, high)`` frees a hyperparameter, ``"fixed"`` fixes it."""
        bounds = self._check_names(bounds)
        updated = []
        for h in self._hyperparameters:
            updated.append(h.with_bounds(bounds[h.name]) if h.name in bounds else h)
        return self._replace(hyperparameters=updated)

    def fix(self, *names: str) -> Kernel:
        """A copy with the named hyperparameters fixed at their current values."""
        return self.with_bounds(**{n: "fixed" for n in names})

    def rename(self, **mapping: str) -> Kernel:
        """A copy with hyperparameters renamed, ``old=new`` (new names are NFKC-normalised)."""
        mapping = {old: normalize_name(new) for old, new in self._check_names(mapping).items()}
        targets = [mapping.get(n, n) for n in self.all_hyperparameter_names]
        if len(set(targets)) != len(targets):
            raise ValueError(f"renaming {mapping} makes two hyperparameters share a name")
        subs = {sp.Symbol(o, positive=True): sp.Symbol(n, positive=True) for o, n in mapping.items()}
        return self._replace(
            expr=self._expr.xreplace(subs),
            hyperparameters=[h.renamed(mapping.get(h.name, h.name)) for h in self._hyperparameters],
        )

    def _check_names(self, given: Mapping[str, V]) -> dict[str, V]:
        """``given`` with NFKC-normalised keys, all of them hyperparameters of this kernel."""
        given = normalize_keys(given)
        unknown = [n for n in given if n not in self.all_hyperparameter_names]
        if unknown:
            raise ValueError(f"unknown hyperparameters {unknown}; the kernel has {self.all_hyperparameter_names}")
        return given

    # ------------------------------------------------------------------ algebra
    def _combine(self, other: Kernel, op: Any, name: str) -> Kernel:
        if other.dim != self.dim:
            raise ValueError(f"cannot combine kernels of dimension {self.dim} and {other.dim}")
        taken = set(self.all_hyperparameter_names)
        renames = {}
        for n in other.all_hyperparameter_names:
            if n in taken:
                renames[n] = unique_name(n, taken, avoid=other.all_hyperparameter_names)
                taken.add(renames[n])
        other = other.rename(**renames) if renames else other
        # Sums and products of symmetric kernels are symmetric, of PSD kernels PSD (Schur).
        return self._replace(
            expr=op(self._expr, other._expr),
            hyperparameters=self._hyperparameters + other._hyperparameters,
            name=name,
            known_psd=self._known_psd and other._known_psd,
        )

    def __add__(self, other: object) -> Kernel:
        if isinstance(other, Kernel):
            return self._combine(other, sp.Add, "sum")
        if isinstance(other, Real):
            if other == 0:
                return self
            _check_scalar(other, "added")
            return self._replace(expr=self._expr + _exact(other))
        return NotImplemented

    __radd__ = __add__

    def __mul__(self, other: object) -> Kernel:
        if isinstance(other, Kernel):
            return self._combine(other, sp.Mul, "product")
        if isinstance(other, Real):
            _check_scalar(other, "a factor", strictly_positive=True)
            return self._replace(expr=_exact(other) * self._expr)
        return NotImplemented

    __rmul__ = __mul__

    def __pow__(self, power: object) -> Kernel:
        if not isinstance(power, Real) or not math.isfinite(float(power)) or float(power) <= 0:
            raise ValueError(f"kernel ** p needs a positive finite number p, got {power!r}")
        integer = float(power).is_integer()
        result = self._replace(expr=self._expr ** _exact(power), known_psd=self._known_psd and integer)
        if not integer:
            # A non-integer power keeps symmetry, but neither positive semi-definiteness nor (where the
            # kernel vanishes) finiteness of its value or its smoothness: check like a new kernel.
            problems = analysis_of(result._expr, self._dim).coincident.problems
            if problems:
                raise InvalidKernelError(f"kernel {result._expr} is not a covariance function at coincident "
                                         f"points: {problems[0]}")
            result._probe_psd()
        return result

    # ------------------------------------------------------------------ identity
    @cached_property
    def signature(self) -> str:
        """Canonical text of expression, dimension and hyperparameter order (hash input)."""
        return f"dim={self._dim};params={self.all_hyperparameter_names};expr={sp.srepr(self._expr)}"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Kernel)
            and self.signature == other.signature
            and self._hyperparameters == other._hyperparameters
        )

    def __hash__(self) -> int:
        return hash((self.signature, self._hyperparameters))

    def __repr__(self) -> str:
        values = ", ".join(f"{h.name}={h.value:.4g}{' (fixed)' if h.fixed else ''}" for h in self._hyperparameters)
        return f"Kernel({self._name}, dim={self._dim}: {self._expr}; {values})"

    def __copy__(self) -> Kernel:
        return self  # immutable: scikit-learn's clone deep-copies parameters, which need not rebuild us

    def __deepcopy__(self, memo: dict[int, Any]) -> Kernel:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self._expr, self._dim, self._hyperparameters, self._name, self._known_psd))

    def latex(self) -> str:
        return sp.latex(self._expr)

    # ------------------------------------------------------------------ derivatives (evaluation: Evaluable)
    @cached_property
    def prepared(self) -> PreparedKernel:
        """The kernel rewritten for differentiation (differences, radii); cached per object."""
        from .prepared import PreparedKernel

        return PreparedKernel.of(self)

    @property
    def is_stationary(self) -> bool:
        """``k(x + c, y + c) = k(x, y)`` for every shift ``c``, proven on the expression (False if unproven)."""
        return analysis_of(self._expr, self._dim).stationary

    @property
    def smoothness(self) -> float:
        """Highest total input-derivative order that exists at coincident points (inf if smooth)."""
        return self.prepared.smoothness

    def derivative_expr(self, dx: Sequence[int] = (), dy: Sequence[int] = (), wrt: str | None = None) -> sp.Expr:
        """The derivative as a SymPy expression of the original inputs (for display and checks).

        ``wrt`` names a hyperparameter: the result is then ``theta * d/dtheta`` of it.
        """
        return self.prepared.display_expr(Request.make(dx, dy, self._dim), wrt)


def _rebuild(expr: sp.Expr, dim: int, hyperparameters: tuple[Hyperparameter, ...], name: str,
             known_psd: bool = False) -> Kernel:
    kernel = object.__new__(Kernel)
    kernel._expr = expr
    kernel._dim = dim
    kernel._hyperparameters = hyperparameters
    kernel._name = name
    kernel._known_psd = known_psd
    return kernel


def library_kernel(expr: sp.Expr, dim: int, hyperparameters: Sequence[Hyperparameter], name: str) -> Kernel:
    """A built-in kernel: symmetric, finite and positive semi-definite by construction.

    Nothing is analysed or evaluated here (the constructor of a built-in kernel stays cheap: no
    simplification, no lambdify); stationarity and smoothness are computed when first asked for.
    """
    kernel = object.__new__(Kernel)
    kernel._setup(expr, x_symbols(dim), y_symbols(dim), hyperparameters, name)
    kernel._known_psd = True
    return kernel


#: Hyperparameter names that look like an input: x, y, X, x_0, X0, y12, ...
_INPUT_LIKE = re.compile(r"^([xy])_?(\d*)$", re.IGNORECASE)


def _check_input_like_names(names: Sequence[str], dim: int) -> None:
    for name in names:
        match = _INPUT_LIKE.match(name)
        if match:
            letter, digits = match.group(1).lower(), match.group(2)
            index = int(digits) if digits and int(digits) < dim else 0
            raise InvalidKernelError(
                f"{name!r} would be a hyperparameter, but it looks like an input: inputs are "
                f"x0..x{dim - 1}, y0..y{dim - 1}: did you mean {letter}{index}?"
            )


def _shortened(expr: sp.Expr, limit: int = 200) -> str:
    """``str(expr)`` cut to ``limit`` characters (a warning about a 300-term sum stays readable)."""
    text = str(expr)
    return text if len(text) <= limit else text[:limit] + " ..."


def _stacklevel() -> int:
    """Stack level of the first frame outside kernelgen (for warnings about the caller's kernel)."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def _exact(value: Real) -> sp.Expr:
    return sp.Integer(int(value)) if float(value).is_integer() else sp.Rational(repr(float(value)))


def _check_scalar(value: Real, role: str, strictly_positive: bool = False) -> None:
    v = float(value)
    if not math.isfinite(v) or v < 0 or (strictly_positive and v == 0):
        sign = "positive" if strictly_positive else "non-negative"
        raise ValueError(f"a scalar {role} to a kernel must be {sign} and finite, got {value!r}")


def _read_hyperparameters(
    given: Mapping[str, float | Hyperparameter] | Sequence[Hyperparameter] | None, default_names: list[str]
) -> dict[str, Hyperparameter]:
    if given is None:
        return {n: Hyperparameter(n) for n in default_names}
    specs: dict[str, Hyperparameter] = {}
    if isinstance(given, Mapping):
        items = list(normalize_keys(given).items())
    else:
        items = [(h.name, h) for h in given]  # Hyperparameter names are normalised already
    for name, spec in items:
        if isinstance(spec, Hyperparameter):
            if spec.name != name:
                spec = spec.renamed(name)
        else:
            spec = Hyperparameter(name, float(spec))
        if name in specs:
            raise ValueError(f"hyperparameter {name!r} listed twice")
        specs[name] = spec
    return specs
