"""The fuzz test's reference: SymPy ``diff`` of the original expression, evaluated in mpmath.

Nothing here imports kernelgen. The expression is the one :mod:`.grammar` writes from its own tree
(real inputs ``x_i``, ``y_i``, positive hyperparameters), never kernelgen's prepared form.

* Input derivatives: ``sympy.diff`` of the original expression, memoised so that each request is one
  ``diff`` of its parent (``d/dy`` last, then ``d/dx``). ``diff`` of ``Abs`` gives ``sign`` and then
  ``DiracDelta``; the reference is never evaluated where a distance is exactly 0, so the deltas are
  dropped.
* Log-hyperparameter gradients: ``theta * d/dtheta`` of the lambdified derivative, by a central
  difference in ``log theta`` with step ``h = 10**-(dps/2 + 5)`` at ``dps + dps/2 + 15`` digits: the
  truncation error is ``O(h**2)``, far below the working precision, and the cancellation of the
  difference is covered by the extra digits. (Symbolic ``diff`` in each hyperparameter was the
  first version; it cost seconds per expression, ten times the rest of the reference.)
* Evaluation: all requested derivatives of one expression are lambdified together with common
  subexpressions (``lambdify(..., cse=True)``) for ``mpmath``, at 50 digits at random points and more
  where distances are small (:func:`dps_near`, :func:`dps_coincident`). Float inputs are converted
  exactly (``mpf(float)``), so kernelgen and the reference see the same numbers.
* Coincident points: the limit ``r -> 0`` from the values at distances ``1e-20, 1e-30, 1e-40`` along a
  random direction ``u``, and at ``1e-40`` along ``-u`` and along a second direction. It exists when the
  values settle (difference below a tiny tolerance, or decreasing at least 20-fold per step, then
  extrapolated by Aitken's delta-squared) and the other directions agree; otherwise the derivative
  has no limit there (it diverges, oscillates or depends on the direction).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp

Request = tuple[tuple[int, ...], tuple[int, ...]]
#: One output: a request and ``None`` (its value) or a hyperparameter name (its log-gradient).
Output = tuple[tuple[int, ...], tuple[int, ...], str | None]

#: Distances at which coincident limits are read off, largest first.
LIMIT_DISTANCES = (mpmath.mpf("1e-20"), mpmath.mpf("1e-30"), mpmath.mpf("1e-40"))
#: A value counts as converged when successive differences fall at least this much per step.
CONVERGENCE_RATIO = 0.05


def dps_random() -> int:
    return 50


def dps_near(order: int, distance: float) -> int:
    """Digits for a derivative of total ``order`` at ``distance``: ``1/r`` terms cancel ``order + 1`` times."""
    return 40 + (order + 1) * (int(math.log10(1.0 / distance)) + 2)


def dps_coincident(order: int) -> int:
    return 40 + (order + 1) * 42


def _drop_deltas(e: sp.Expr) -> sp.Expr:
    return e.replace(sp.DiracDelta, lambda *args: sp.Integer(0)) if e.has(sp.DiracDelta) else e


class Reference:
    """Derivatives of one kernel expression ``k(x, y; theta)`` in the reference's symbols.

    Parameters
    ----------
    expr : sympy.Expr
        The kernel as written (inputs ``x_i``, ``y_i`` real; hyperparameters positive).
    dim : int
        Input dimension.
    values : mapping of str to float
        The value of every hyperparameter, by name.
    """

    def __init__(self, expr: sp.Expr, dim: int, values: Mapping[str, float]) -> None:
        self.dim = dim
        self.x = tuple(sp.Symbol(f"x{i}", real=True) for i in range(dim))
        self.y = tuple(sp.Symbol(f"y{i}", real=True) for i in range(dim))
        others = sorted(expr.free_symbols - set(self.x) - set(self.y), key=lambda s: s.name)
        missing = [s.name for s in others if s.name not in values]
        if missing:
            raise ValueError(f"no values for hyperparameters {missing}")
        self.names = tuple(s.name for s in others)
        self.values = {n: float(values[n]) for n in self.names}
        # Positional stand-ins: lambdify needs identifiers, and two names may be equal after NFKC.
        self.params = tuple(sp.Symbol(f"theta{k}", positive=True) for k in range(len(others)))
        self.expr = expr.xreplace(dict(zip(others, self.params)))
        self._derivatives: dict[Request, sp.Expr] = {((), ()): self.expr}

    def derivative(self, dx: Sequence[int], dy: Sequence[int]) -> sp.Expr:
        """``d^dx/dx d^dy/dy k`` by ``sympy.diff``, one ``diff`` from a memoised parent."""
        key = (tuple(sorted(dx)), tuple(sorted(dy)))
        found = self._derivatives.get(key)
        if found is None:
            kx, ky = key
            if ky:
                parent, var = self.derivative(kx, ky[:-1]), self.y[ky[-1]]
            else:
                parent, var = self.derivative(kx[:-1], ky), self.x[kx[-1]]
            found = _drop_deltas(sp.diff(parent, var))
            if found.has(sp.Derivative):
                raise ValueError(f"sympy left an unevaluated derivative in d{key} of {self.expr}")
            self._derivatives[key] = found
        return found

    def evaluator(self, requests: Sequence[Request]) -> Evaluator:
        """All ``requests`` lambdified together for mpmath."""
        return Evaluator(self, list(requests))


class Evaluator:
    """Values (and log-hyperparameter gradients) of several derivatives at one pair of points."""

    def __init__(self, ref: Reference, requests: list[Request]) -> None:
        self.ref = ref
        self.requests = requests
        exprs = [ref.derivative(dx, dy) for dx, dy in requests]
        self.args = (*ref.x, *ref.y, *ref.params)
        self._exprs = exprs
        self._joint = sp.lambdify(self.args, exprs, modules="mpmath", cse=True)
        self._single: dict[int, Callable[..., object]] = {}

    def _call(self, x: Sequence[mpmath.mpf], y: Sequence[mpmath.mpf], theta: Sequence[mpmath.mpf]) -> list[object]:
        args = [*x, *y, *theta]
        try:
            return list(self._joint(*args))
        except (ZeroDivisionError, ValueError, OverflowError, TypeError):
            pass  # one output is undefined here: evaluate them one by one
        out = []
        for k, e in enumerate(self._exprs):
            if k not in self._single:
                self._single[k] = sp.lambdify(self.args, e, modules="mpmath")
            try:
                out.append(self._single[k](*args))
            except (ZeroDivisionError, ValueError, OverflowError, TypeError):
                out.append(None)
        return out

    def values(self, x: Sequence[object], y: Sequence[object], dps: int,
               gradients: bool = True) -> dict[Output, mpmath.mpf | None]:
        """Every request's value and (with ``gradients``) each ``theta d/dtheta`` of it.

        ``None`` marks an output that is not a finite real number at this point (outside the
        kernel's domain, e.g. a negative base under a non-integer power).
        """
        names = self.ref.names
        with mpmath.workdps(dps):
            xs, ys = [_mpf(v) for v in x], [_mpf(v) for v in y]
            theta = [_mpf(self.ref.values[n]) for n in names]
            out: dict[Output, mpmath.mpf | None] = {}
            for (dx, dy), v in zip(self.requests, self._call(xs, ys, theta)):
                out[(dx, dy, None)] = _real(v, dps)
        if gradients:
            for j, name in enumerate(names):
                for (dx, dy), g in zip(self.requests, self._log_gradient(xs, ys, theta, j, dps)):
                    out[(dx, dy, name)] = g
        return out

    def _log_gradient(self, x: list[mpmath.mpf], y: list[mpmath.mpf], theta: list[mpmath.mpf], j: int,
                      dps: int) -> list[mpmath.mpf | None]:
        """``theta_j d/dtheta_j`` of every request: a central difference in ``log theta_j``."""
        with mpmath.workdps(dps + dps // 2 + 15):
            h = mpmath.mpf(10) ** (-(dps // 2 + 5))
            up, down = list(theta), list(theta)
            up[j] = theta[j] * mpmath.exp(h)
            down[j] = theta[j] * mpmath.exp(-h)
            plus, minus = self._call(x, y, up), self._call(x, y, down)
            out = []
            for a, b in zip(plus, minus):
                a, b = _real(a, dps), _real(b, dps)
                out.append(None if a is None or b is None else (a - b) / (2 * h))
        with mpmath.workdps(dps):
            return [None if g is None else +g for g in out]


class EvaluatorGroup:
    """Several evaluators read as one: ``(evaluator, with_gradients)`` pairs."""

    def __init__(self, parts: Sequence[tuple[Evaluator, bool]]) -> None:
        self.parts = [(ev, g) for ev, g in parts if ev.requests]

    def values(self, x: Sequence[object], y: Sequence[object], dps: int,
               gradients: bool = True) -> dict[Output, mpmath.mpf | None]:
        out: dict[Output, mpmath.mpf | None] = {}
        for ev, g in self.parts:
            out.update(ev.values(x, y, dps, gradients and g))
        return out


def _mpf(v: object) -> mpmath.mpf:
    """Exact conversion: a float keeps its binary value; mpf values are used as they are."""
    if isinstance(v, mpmath.mpf):
        return v
    return mpmath.mpf(float(v))


def _real(v: object, dps: int) -> mpmath.mpf | None:
    if v is None:
        return None
    if isinstance(v, mpmath.mpc):
        if abs(v.imag) > mpmath.mpf(10) ** (10 - dps) * (1 + abs(v.real)):
            return None
        v = v.real
    try:
        v = mpmath.mpf(v)
    except (TypeError, ValueError):
        return None
    return v if mpmath.isfinite(v) else None


# ============================================================================ coincident limits
@dataclass(frozen=True)
class Limit:
    """The limit of one output as ``r -> 0`` (``value`` None: no limit; ``reason`` says why)."""

    value: mpmath.mpf | None
    spread: mpmath.mpf
    reason: str = ""


def unit_vector(rng: np.random.Generator, dim: int) -> np.ndarray:
    u = rng.standard_normal(dim)
    return u / np.linalg.norm(u)


def _shifted(base: Sequence[float], direction: np.ndarray, distance: mpmath.mpf, dps: int) -> list[mpmath.mpf]:
    """``base + distance * direction`` exactly enough: at the default 15 digits it would round to ``base``."""
    with mpmath.workdps(dps + 60):
        return [_mpf(b) + distance * mpmath.mpf(float(u)) for b, u in zip(base, direction)]


def coincident_limits(ev: Evaluator | EvaluatorGroup, base: Sequence[float], rng: np.random.Generator, dps: int,
                      scales: Mapping[Output, float], gradients: bool = True,
                      at: Sequence[float] | None = None, along: Sequence[int] | None = None) -> dict[Output, Limit]:
    """Limits of every output of ``ev`` as ``x -> y = base`` (see the module docstring).

    With ``at`` and ``along``: the limit as ``x -> at`` moving only the coordinates ``along``, where
    ``at`` equals ``y`` (a partially coincident pair: ``x_i = y_i`` for ``i`` in ``along`` only).
    """
    dim = len(base)
    start = base if at is None else at
    coords = list(range(dim)) if along is None else list(along)

    def direction() -> np.ndarray:
        u = np.zeros(dim)
        u[coords] = unit_vector(rng, len(coords))
        return u

    u = direction()
    other = -u if len(coords) == 1 else direction()
    y = [_mpf(b) for b in base]
    series_points = [ev.values(_shifted(start, u, e, dps), y, dps, gradients) for e in LIMIT_DISTANCES]
    smallest = LIMIT_DISTANCES[-1]
    checks = [ev.values(_shifted(start, -u, smallest, dps), y, dps, False)]
    if len(coords) > 1:
        checks.append(ev.values(_shifted(start, other, smallest, dps), y, dps, False))
    out = {}
    with mpmath.workdps(dps):
        for key in series_points[0]:
            series = [a[key] for a in series_points]
            sideways = [c[key] for c in checks] if key[2] is None else []
            out[key] = _limit(series, sideways, scales.get(key, 0.0), dps)
    return out


def _limit(series: list[mpmath.mpf | None], sideways: list[mpmath.mpf | None], scale: float,
           dps: int) -> Limit:
    if any(v is None for v in series) or any(v is None for v in sideways):
        return Limit(None, mpmath.mpf(0), "not finite near r = 0")
    v1, v2, v3 = series
    floor = mpmath.mpf(10) ** (8 - dps) * (abs(v3) + 1)
    tiny = max(mpmath.mpf("1e-21") * max(abs(v3), mpmath.mpf(scale) * mpmath.mpf("1e-9")), floor)
    d1, d2 = v1 - v2, v2 - v3
    if abs(d2) <= tiny:
        value, spread = v3, abs(d2)
    elif abs(d2) <= CONVERGENCE_RATIO * abs(d1):
        value = v3 - d2 * d2 / (d2 - d1)  # Aitken: exact for v = L + C eps**a
        # Not exact for slower laws (eps**a log eps): the whole extrapolation is the uncertainty.
        spread = abs(v3 - value) + abs(d2) * abs(d2 / d1)
    else:
        growth = "grows" if abs(v3) > abs(v1) * 10 else "does not settle"
        return Limit(None, abs(d2), f"{growth} as r -> 0 ({_short(v1)}, {_short(v2)}, {_short(v3)} "
                                    "at r = 1e-20, 1e-30, 1e-40)")
    for w in sideways:
        if abs(w - value) > 10 * abs(d2) + 10 * tiny:
            return Limit(None, abs(w - value), f"depends on the direction ({_short(value)} vs {_short(w)})")
    return Limit(value, spread)


def _short(v: mpmath.mpf) -> str:
    return mpmath.nstr(v, 6)


# ============================================================================ claims about k itself
def value_function(ref: Reference) -> Callable[[Sequence[object], Sequence[object], int], mpmath.mpf | None]:
    """``k(x, y)`` alone, at a given precision."""
    f = sp.lambdify((*ref.x, *ref.y, *ref.params), ref.expr, modules="mpmath")

    def k(x: Sequence[object], y: Sequence[object], dps: int) -> mpmath.mpf | None:
        with mpmath.workdps(dps):
            try:
                v = f(*[_mpf(a) for a in x], *[_mpf(b) for b in y], *[_mpf(ref.values[n]) for n in ref.names])
            except (ZeroDivisionError, ValueError, OverflowError, TypeError):
                return None
            return _real(v, dps)

    return k


def translation_counterexample(ref: Reference, rng: np.random.Generator, trials: int = 4
                               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, mpmath.mpf, mpmath.mpf] | None:
    """``(x, y, c, k(x, y), k(x + c, y + c))`` where the two differ, or None if none was found."""
    k = value_function(ref)
    for _ in range(trials):
        x, y, c = (rng.uniform(-1, 1, ref.dim) for _ in range(3))
        c *= 0.5
        with mpmath.workdps(60):  # the shift is exact: x + c in floats would move x - y by rounding
            xc = [_mpf(a) + _mpf(b) for a, b in zip(x, c)]
            yc = [_mpf(a) + _mpf(b) for a, b in zip(y, c)]
        a, b = k(x, y, 50), k(xc, yc, 50)
        if a is None or b is None:
            continue
        if abs(a - b) > mpmath.mpf("1e-35") * (abs(a) + abs(b) + mpmath.mpf("1e-30")):
            return x, y, c, a, b
    return None


def symmetry_counterexample(ref: Reference, rng: np.random.Generator, trials: int = 4
                            ) -> tuple[np.ndarray, np.ndarray, mpmath.mpf, mpmath.mpf] | None:
    """``(x, y, k(x, y), k(y, x))`` where the two differ, or None."""
    k = value_function(ref)
    for _ in range(trials):
        x, y = rng.uniform(-1, 1, ref.dim), rng.uniform(-1, 1, ref.dim)
        a, b = k(x, y, 50), k(y, x, 50)
        if a is None or b is None:
            continue
        if abs(a - b) > mpmath.mpf("1e-40") * (abs(a) + abs(b) + mpmath.mpf("1e-30")):
            return x, y, a, b
    return None
