"""Shared cases for the derivative-accuracy tests (``test_derivatives*.py``).

Kernels, derivative requests, evaluation points, the accuracy criterion and a cached
``sympy.diff`` reference.  Nothing here imports the code under test except to *build*
kernels and to call the generated code; the references use only ``kernel.expr`` (the
original SymPy expression), never ``kernel.derivative_expr`` or the prepared forms.

Accuracy criterion (:func:`check`)
----------------------------------
A generated value ``v`` is compared with a reference ``ref`` that is accurate to far
more than float64 precision (mpmath at >= 30 digits).  The requirement is

* at coincident points and at distances ``r <= 1e-3`` (the issue's "full float64
  accuracy near r = 0"): ``|v - ref| <= RTOL * |ref|``, strictly relative;
* at random pairs and at ``r = 1``: ``|v - ref| <= RTOL * max(|ref|, COND * scale)``,
  ``COND = 1e-2``.  Away from ``r = 0`` an output can pass close to zero at an isolated
  point (a polynomial kernel where ``sigma_0**2 + x.y ~ 0``, an oscillating periodic
  derivative); there the float64 rounding of the *inputs' combinations* (``pi d / p``,
  ``sigma_0**2``) is amplified by the conditioning, not by the generated code, so only
  accuracy relative to the output's size is meaningful;
* at those near points an output smaller than ``TINY * scale`` (``TINY = 1e-8``) is held to
  ``|v - ref| <= RTOL * TINY * scale``: an absolute error ``1e-20`` of the output's scale. A
  log-hyperparameter derivative of a fourth derivative can be ``O(t_j**2 / r)`` in the
  direction of another coordinate (``5e-20`` at ``r = 1e-15`` for the ARD Matern 5/2), the
  sum of several terms of that size, and its last digits are then set by their rounding;
* where ``|ref| <= 10**(5 - dps) * scale`` (an exact zero within the reference's noise, e.g.
  an odd derivative of a stationary kernel at coincident points, or an order above a
  polynomial kernel's degree): ``|v| <= RTOL * scale``.

``scale`` is the largest ``|ref|`` of the same output over the evaluation points (or the
kernel value if larger).  The reference works at ``dps = 30 + 4 * log10(1 / r)`` digits, so
that ``O(r**4)`` values (e.g. the ``alpha`` log-derivative of the rational quadratic,
``~1e-61`` at ``r = 1e-15``) are still resolved relatively, not mistaken for zeros.

Why ``1e-12``: float64 has ``eps = 1.1e-16``; a generated derivative of total order 4 with
a log-hyperparameter gradient is a few hundred floating-point operations on well-conditioned
quantities, so a correct implementation stays within ``~1e2 - 1e3 eps``.  ``1e-12`` leaves
that headroom but fails any formula that loses digits to cancellation near ``r = 0`` (a
naive ``sqrt``-based Matern derivative loses all digits at ``r = 1e-8``).  It is applied
*relatively* down to ``r = 1e-15``, which is the issue's requirement.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import mpmath
import numpy as np
import sympy

from kernelgen import Kernel
from kernelgen import kernels as K

RTOL = 1e-12
COND = 1e-2
TINY = 1e-8
MAX_ORDER = 4
#: Distances of the near-coincident points (along a random unit direction).
DISTANCES = (1.0, 1e-3, 1e-8, 1e-15)

Request = tuple[tuple[int, ...], tuple[int, ...]]


# ----------------------------------------------------------------------------- kernels
def kernels_1d() -> dict[str, Callable[[], Kernel]]:
    """Every built-in kernel in one dimension plus two composites, with non-round values."""
    return {
        "matern12": lambda: K.matern(1, 0.5, length_scale=0.7, variance=1.3),
        "matern32": lambda: K.matern(1, 1.5, length_scale=0.7, variance=1.3),
        "matern52": lambda: K.matern(1, 2.5, length_scale=0.7, variance=1.3),
        "rbf": lambda: K.rbf(1, length_scale=0.7, variance=1.3),
        "rq": lambda: K.rational_quadratic(1, length_scale=0.9, alpha=1.7, variance=1.3),
        "periodic": lambda: K.periodic(1, length_scale=0.8, period=1.9, variance=1.3),
        "linear": lambda: K.linear(1, variance=1.3),
        "dot_product": lambda: K.dot_product(1, sigma_0=0.6),
        "polynomial": lambda: K.polynomial(1, degree=3, sigma_0=0.6, variance=1.3),
        "constant": lambda: K.constant(1, value=1.3),
        "rbf*periodic+linear": lambda: composite_periodic(1),
        "matern52*rbf+rq": lambda: composite_matern(1),
    }


def composite_periodic(dim: int) -> Kernel:
    """``rbf * periodic + linear`` (locally periodic plus trend)."""
    return (K.rbf(dim, length_scale=1.1, variance=1.3) * K.periodic(dim, length_scale=0.8, period=1.9, variance=0.9)
            + K.linear(dim, variance=0.4))


def composite_matern(dim: int) -> Kernel:
    """``matern52 * rbf + rational_quadratic`` (finitely smooth product plus smooth sum)."""
    return (K.matern(dim, 2.5, length_scale=0.7, variance=1.3) * K.rbf(dim, length_scale=1.6, variance=0.8)
            + K.rational_quadratic(dim, length_scale=0.9, alpha=1.7, variance=0.5))


ARD = [0.7, 1.3, 2.1]


def kernels_3d() -> dict[str, Callable[[], Kernel]]:
    """Every built-in kernel in three dimensions (plus ARD variants) and the composites."""
    return {
        "matern12": lambda: K.matern(3, 0.5, length_scale=0.7, variance=1.3),
        "matern12_ard": lambda: K.matern(3, 0.5, length_scale=ARD, variance=1.3, ard=True),
        "matern32": lambda: K.matern(3, 1.5, length_scale=0.7, variance=1.3),
        "matern32_ard": lambda: K.matern(3, 1.5, length_scale=ARD, variance=1.3, ard=True),
        "matern52": lambda: K.matern(3, 2.5, length_scale=0.7, variance=1.3),
        "matern52_ard": lambda: K.matern(3, 2.5, length_scale=ARD, variance=1.3, ard=True),
        "rbf": lambda: K.rbf(3, length_scale=0.7, variance=1.3),
        "rbf_ard": lambda: K.rbf(3, length_scale=ARD, variance=1.3, ard=True),
        "rq": lambda: K.rational_quadratic(3, length_scale=0.9, alpha=1.7, variance=1.3),
        "periodic": lambda: K.periodic(3, length_scale=0.8, period=1.9, variance=1.3),
        "linear": lambda: K.linear(3, variance=1.3),
        "dot_product": lambda: K.dot_product(3, sigma_0=0.6),
        "polynomial": lambda: K.polynomial(3, degree=3, sigma_0=0.6, variance=1.3),
        "constant": lambda: K.constant(3, value=1.3),
        "rbf*periodic+linear": lambda: composite_periodic(3),
        "matern52*rbf+rq": lambda: composite_matern(3),
    }


# ---------------------------------------------------------------------------- requests
def multisets(dim: int, n: int) -> list[tuple[int, ...]]:
    """Sorted index tuples of length ``n`` (SymPy ``diff`` convention)."""
    return list(itertools.combinations_with_replacement(range(dim), n))


def supported_requests(kernel: Kernel, max_order: int = MAX_ORDER) -> list[Request]:
    """All ``(dx, dy)`` with ``len(dx) + len(dy) <= max_order`` that the kernel supports.

    Supported means ``2 * max(len(dx), len(dy)) <= kernel.smoothness``.
    """
    per_arg = max_order if math.isinf(kernel.smoothness) else int(kernel.smoothness) // 2
    out = []
    for a in range(min(per_arg, max_order) + 1):
        for b in range(min(per_arg, max_order - a) + 1):
            out.extend((dx, dy) for dx in multisets(kernel.dim, a) for dy in multisets(kernel.dim, b))
    return out


def request_id(req: Request) -> str:
    """Readable id: ``dx01-dy2`` for dx=(0, 1), dy=(2,); ``k`` for the kernel itself."""
    dx, dy = req
    parts = []
    if dx:
        parts.append("dx" + "".join(map(str, dx)))
    if dy:
        parts.append("dy" + "".join(map(str, dy)))
    return "-".join(parts) or "k"


# ------------------------------------------------------------------------------ points
@dataclass
class Points:
    """Evaluation pairs ``(X1[i], X2[i])`` with a label each."""

    X1: np.ndarray
    X2: np.ndarray
    labels: list[str] = field(default_factory=list)
    #: True where the check is strictly relative (coincident and r <= 1e-3).
    strict: list[bool] = field(default_factory=list)
    #: Reference digits per pair: enough to resolve O(r**4) values relative to O(1) ones.
    dps: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.labels)


def make_points(dim: int, seed: int, n_random: int = 2, distances: Sequence[float] = DISTANCES,
                coincident: bool = True) -> Points:
    """Random pairs, an exactly coincident pair and pairs at the given distances.

    Near pairs are ``y = x - r * u`` with ``u`` a random unit vector, computed in float64;
    references are evaluated at exactly these floats, so the realised distance (which
    differs from ``r`` by rounding) does not matter.
    """
    rng = np.random.default_rng(seed)
    x1, x2, labels, strict, dps = [], [], [], [], []
    for i in range(n_random):
        x1.append(rng.uniform(-1.5, 1.5, dim))
        x2.append(rng.uniform(-1.5, 1.5, dim))
        labels.append(f"random{i}")
        strict.append(False)
        dps.append(30)
    if coincident:
        x = rng.uniform(-1.0, 1.0, dim)
        x1.append(x)
        x2.append(x.copy())
        labels.append("r=0")
        strict.append(True)
        dps.append(30)
    for r in distances:
        x = rng.uniform(-1.0, 1.0, dim)
        u = rng.normal(size=dim)
        u /= np.linalg.norm(u)
        x1.append(x)
        x2.append(x - r * u)
        labels.append(f"r={r:g}")
        strict.append(r <= 1e-3)
        dps.append(30 + 4 * max(0, round(-math.log10(r))))
    return Points(np.array(x1), np.array(x2), labels, strict, dps)


# --------------------------------------------------------------------------- criterion
@dataclass
class Report:
    """Accumulated comparison of one kernel/request: failures and the worst relative error."""

    failures: list[str] = field(default_factory=list)
    worst_rel: float = 0.0
    worst_zero: float = 0.0
    n_checked: int = 0

    def merge(self, other: Report) -> None:
        self.failures += other.failures
        self.worst_rel = max(self.worst_rel, other.worst_rel)
        self.worst_zero = max(self.worst_zero, other.worst_zero)
        self.n_checked += other.n_checked


def check(values: Sequence[float], refs: Sequence[float], points: Points, what: str,
          scale_floor: float = 0.0, index: Sequence[int] | None = None) -> Report:
    """Compare generated ``values`` with ``refs`` point by point (criterion in the module doc).

    ``index`` selects the pairs of ``points`` that ``values``/``refs`` belong to (default all).
    """
    index = range(len(points)) if index is None else index
    refs = [float(r) for r in refs]
    scale = max([abs(r) for r in refs] + [scale_floor])
    rep = Report()
    for v, ref, i in zip(values, refs, index, strict=True):
        label = points.labels[i]
        rep.n_checked += 1
        if not math.isfinite(v):
            rep.failures.append(f"{what} at {label}: got {v!r}, expected {ref!r}")
            continue
        if abs(ref) > 10.0 ** (5 - points.dps[i]) * scale:
            denom = max(abs(ref), TINY * scale) if points.strict[i] else max(abs(ref), COND * scale)
            err = abs(v - ref) / denom
            rep.worst_rel = max(rep.worst_rel, err)
            if err > RTOL:
                rep.failures.append(f"{what} at {label}: got {v!r}, expected {ref!r} (relative error {err:.2e})")
        else:
            err = abs(v) / scale if scale > 0 else abs(v)
            rep.worst_zero = max(rep.worst_zero, err)
            if err > RTOL:
                rep.failures.append(f"{what} at {label}: got {v!r}, expected 0 (|v| / scale = {err:.2e})")
    return rep


# ------------------------------------------------------------------- sympy reference
class SympyReference:
    """``sympy.diff`` of the ORIGINAL kernel expression, evaluated in mpmath.

    Independent of the code under test, which rewrites the expression in difference and
    radius symbols, differentiates that, and treats coincident points by Taylor
    expansion.  Here hyperparameter log-derivatives ``theta * d/dtheta`` are taken first,
    then the hyperparameters are replaced by their exact binary values
    (``sympy.Rational(float)``), and the input derivatives are taken by plain repeated
    ``sympy.diff`` (memoised on the multiset of indices).  Valid only where the expression
    is differentiable as written, i.e. at non-coincident points for stationary kernels with
    ``sqrt``; evaluation uses ``dps`` digits (enough to absorb the cancellation of the
    product-rule terms at ``r = 1e-15``, which is about ``4 * 15`` digits at order 4).
    """

    def __init__(self, kernel: Kernel, dps: int = 110) -> None:
        self.kernel = kernel
        self.dps = dps
        self.inputs = tuple(kernel.x) + tuple(kernel.y)
        syms = {str(s): s for s in kernel.expr.free_symbols}
        exact = {syms[n]: sympy.Rational(v) for n, v in kernel.values.items() if n in syms}
        self.bases: dict[str | None, sympy.Expr] = {None: kernel.expr.xreplace(exact)}
        for name in kernel.hyperparameter_names:
            if name in syms:
                g = syms[name] * sympy.diff(kernel.expr, syms[name])
                self.bases[name] = g.xreplace(exact)
            else:
                self.bases[name] = sympy.Integer(0)
        self._memo: dict[tuple[str | None, tuple[int, ...]], sympy.Expr] = {}

    def expr(self, dx: tuple[int, ...], dy: tuple[int, ...], param: str | None) -> sympy.Expr:
        key = tuple(sorted(dx)) + tuple(sorted(self.kernel.dim + j for j in dy))
        return self._expr(param, key)

    def _expr(self, param: str | None, key: tuple[int, ...]) -> sympy.Expr:
        if (param, key) not in self._memo:
            if not key:
                value = self.bases[param]
            else:
                value = sympy.diff(self._expr(param, key[:-1]), self.inputs[key[-1]])
            self._memo[(param, key)] = value
        return self._memo[(param, key)]

    def evaluate(self, exprs: Sequence[sympy.Expr], points: Points) -> np.ndarray:
        """``out[j, i]``: ``exprs[j]`` at point pair ``i`` (float64 of a ``dps``-digit value)."""
        func = sympy.lambdify(self.inputs, list(exprs), modules="mpmath", cse=True)
        out = np.empty((len(exprs), len(points)))
        with mpmath.workdps(self.dps):
            for i in range(len(points)):
                args = [mpmath.mpf(float(v)) for v in (*points.X1[i], *points.X2[i])]
                out[:, i] = [float(v) for v in func(*args)]
        return out
