"""Checks one generated case against the reference and classifies what it finds.

A *finding* is a failure: kernelgen returned a finite value that disagrees with the reference
beyond tolerance, returned NaN / inf from finite inputs, accepted a derivative that does not exist,
claimed a stationarity that is false, accepted an invalid kernel, named hyperparameters otherwise
than its documented rule, or crashed with an exception that is not a clear refusal. *Conservative*
notes (refusing what exists, not recognising a stationary kernel) and *precision* notes (errors at
the level of float64 rounding of the inputs) are listed, not failed.
"""

from __future__ import annotations

import itertools
import math
import os
import re
import signal
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import mpmath
import numpy as np

from . import adapter
from .grammar import Case, shrink_candidates
from .reference import (
    EvaluatorGroup,
    Limit,
    Output,
    Reference,
    coincident_limits,
    dps_coincident,
    dps_near,
    dps_random,
    symmetry_counterexample,
    translation_counterexample,
    unit_vector,
    value_function,
)

Request = tuple[tuple[int, ...], tuple[int, ...]]

RTOL = 1e-9
#: Below ``FLOOR * scale`` an output is compared absolutely (``RTOL * FLOOR * scale``).
FLOOR = 1e-9
EPS = float(np.finfo(np.float64).eps)
#: An error below this fraction of the output's scale (~450 ulps) is float64 rounding of terms of
#: that scale, not a wrong derivation: listed as precision-limited, not failed. (The library's
#: accuracy near r = 0 is tested to 1e-12 relative elsewhere; README: exp_sine_squared's mixed
#: derivatives in d > 1 are accurate to ~1e-16 of the kernel's scale only.)
PRECISION = 1e-13
#: A coincident reference whose extrapolation is uncertain beyond this fraction of the scale is
#: not used to judge a finite value (it still judges NaN / inf).
UNCERTAIN = 1e-12


# ============================================================================ settings
@dataclass(frozen=True)
class Settings:
    """How much work one case gets.

    ``sample`` maps the dimension to ``(k, {order: count})``: every request of total order
    ``<= k`` plus ``count`` seeded requests of each higher ``order`` (order 3 only in one case of
    ``order3_every``: kernelgen's third derivatives of non-stationary kernels take seconds). Requests of total order
    ``<= gradient_order``, and ``gradient_extra`` seeded others, are checked with every
    log-hyperparameter gradient. ``probe_order`` caps the derivatives per argument whose process
    existence is probed (the limits of ``d^b/dx d^c/dy k``, ``b, c`` within ``a``).
    """

    sample: dict[int, tuple[int, dict[int, int]]] = field(default_factory=lambda: {
        1: (1, {2: 2, 3: 1}), 2: (1, {2: 2, 3: 1}), 3: (1, {2: 2, 3: 1})})
    order3_every: int = 3
    gradient_order: int = 1
    gradient_extra: int = 0
    n_random: int = 2
    n_near: int = 2
    #: Pairs (d > 1) equal in a random proper subset of the coordinates; one more is near in one.
    n_partial: int = 2
    probe_order: int = 1
    compile_every: int = 10
    shrink_seconds: float = 30.0
    time_limit: float = 5.0
    only: Request | None = None

    @classmethod
    def full(cls) -> Settings:
        """``KERNELGEN_FUZZ``: every request up to total order 3, every case compiled."""
        return cls(sample={1: (3, {}), 2: (3, {}), 3: (3, {})}, order3_every=1, gradient_order=3, n_random=3, n_near=3,
                   probe_order=2, compile_every=1, time_limit=300.0)


def requests_of_order(dim: int, order: int) -> list[Request]:
    out = []
    for m in range(order + 1):
        for dx in itertools.combinations_with_replacement(range(dim), m):
            for dy in itertools.combinations_with_replacement(range(dim), order - m):
                out.append((dx, dy))
    return out


def gradient_split(requests: list[Request], seed: int, settings: Settings) -> tuple[list[Request], list[Request]]:
    """``(with_gradients, plain)``: low orders and a seeded few others get every gradient."""
    low = [r for r in requests if len(r[0]) + len(r[1]) <= settings.gradient_order]
    high = [r for r in requests if r not in low]
    rng = np.random.default_rng([seed, 5])
    picks = set(rng.choice(len(high), size=min(settings.gradient_extra, len(high)), replace=False).tolist()) \
        if high else set()
    return low + [r for k, r in enumerate(high) if k in picks], [r for k, r in enumerate(high) if k not in picks]


def request_set(dim: int, seed: int, settings: Settings) -> list[Request]:
    """The requests checked for one case (see :class:`Settings`)."""
    if settings.only is not None:
        return [settings.only]
    upto, extra = settings.sample[dim]
    rng = np.random.default_rng([seed, 7])
    out = [r for n in range(upto + 1) for r in requests_of_order(dim, n)]
    for order, count in sorted(extra.items()):
        if order >= 3 and seed % settings.order3_every:
            continue
        pool = requests_of_order(dim, order)
        picks = rng.choice(len(pool), size=min(count, len(pool)), replace=False)
        out += [pool[i] for i in sorted(picks)]
    return out


# ============================================================================ results
@dataclass
class Finding:
    """One failure with everything needed to reproduce it."""

    kind: str
    case: Case
    detail: str
    output: Output | None = None
    where: str = ""
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    got: object = None
    want: object = None
    original: Case | None = None

    def key(self) -> tuple[object, ...]:
        return (self.kind, self.output[:2] if self.output else None)

    def report(self) -> str:
        lines = [f"[{self.kind}] {self.detail}", f"  kernel ({self.case.dim}-D): {self.case.code()}"]
        if self.output is not None:
            dx, dy, p = self.output
            lines.append(f"  request: dx={dx}, dy={dy}" + (f", theta d/dtheta for {p!r}" if p else ""))
        if self.x is not None:
            lines.append(f"  points ({self.where}): x = {self.x.tolist()!r}, y = {self.y.tolist()!r}")
        if self.got is not None or self.want is not None:
            lines.append(f"  kernelgen: {self.got}")
            lines.append(f"  reference: {self.want}")
        if self.original is not None and self.original.code() != self.case.code():
            lines.append(f"  shrunk from: {self.original.code()}")
        return "\n".join(lines)


@dataclass
class Outcome:
    """Everything one case produced."""

    case: Case
    findings: list[Finding] = field(default_factory=list)
    conservative: list[str] = field(default_factory=list)
    precision: list[str] = field(default_factory=list)
    #: Outputs refused at a point by the precision guard (FloatingPointError), not compared.
    guarded: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    compared: int = 0
    worst: float = 0.0
    worst_where: str = ""
    compiled: bool = False
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def timed(self, phase: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[phase] = self.timings.get(phase, 0.0) + time.perf_counter() - start

    def add(self, finding: Finding) -> None:
        if all(f.key() != finding.key() for f in self.findings):
            self.findings.append(finding)

    def record_error(self, rel: float, where: str) -> None:
        self.compared += 1
        if rel > self.worst:
            self.worst, self.worst_where = rel, where


class CaseTimeout(Exception):
    """The case used more CPU time than its limit (reported as slow, not failed)."""


# CPU time, not wall time: the limit then means the same on a busy shared machine.
_TIMER, _SIGNAL = signal.ITIMER_PROF, signal.SIGPROF


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`CaseTimeout` after ``seconds`` of CPU time (a no-op off the main thread)."""
    def expire(signum: int, frame: object) -> None:
        raise CaseTimeout(f"over {seconds:.0f} s of CPU time")

    try:
        previous = signal.signal(_SIGNAL, expire)
    except ValueError:
        yield
        return
    signal.setitimer(_TIMER, seconds)
    try:
        yield
    finally:
        signal.setitimer(_TIMER, 0)
        signal.signal(_SIGNAL, previous)


@contextmanager
def timer_paused() -> Iterator[None]:
    """No :class:`CaseTimeout` inside: numba swallows exceptions raised in its compiler callbacks."""
    remaining, _ = signal.getitimer(_TIMER)
    if remaining == 0:
        yield
        return
    signal.setitimer(_TIMER, 0)
    try:
        yield
    finally:
        signal.setitimer(_TIMER, max(remaining, 1e-3))


# ============================================================================ points
@dataclass(frozen=True)
class Point:
    x: np.ndarray
    y: np.ndarray
    kind: str  # "random", "near", "coincident", "partial" or "partial-near"
    distance: float = 0.0
    #: For the partial kinds: the coordinates where x and y coincide (or are ``distance`` apart).
    along: tuple[int, ...] = ()

    def label(self) -> str:
        where = ", ".join(f"x{i} = y{i}" for i in self.along)
        if self.kind == "near":
            return f"near, |x - y| = {self.distance:.1e}"
        if self.kind == "partial":
            return f"partially coincident, {where}"
        if self.kind == "partial-near":
            return f"partially near, {where} to {self.distance:.1e}"
        return self.kind

    @property
    def limit(self) -> bool:
        """The reference is a limit here (it has 0/0 forms at x = y in the coordinates ``along``)."""
        return self.kind in ("coincident", "partial")


def make_points(ref: Reference, seed: int, settings: Settings) -> list[Point]:
    """Random pairs, near pairs (distance 1e-3 .. 1e-12), one coincident pair and, for d > 1, pairs
    that coincide (or are near) in a random proper subset of the coordinates, where k is real.

    Partially coincident pairs are what gridded data gives: another branch of the generated code
    (a radius of some coordinates vanishes, the others do not)."""
    rng = np.random.default_rng([seed, 11])
    value = ref.evaluator([((), ())])
    points = []

    def inside(x: np.ndarray, y: np.ndarray) -> bool:
        return value.values(x, y, 30, gradients=False)[((), (), None)] is not None

    def draw(make: Callable[[], Point]) -> Point | None:
        for _ in range(12):
            p = make()
            if inside(p.x, p.y + 1e-6 if p.limit else p.y):  # 0/0 at x = y in the reference's form
                return p
        return None

    def near() -> Point:
        y = rng.uniform(-1, 1, ref.dim)
        distance = 10 ** rng.uniform(-12, -3)
        return Point(y + distance * unit_vector(rng, ref.dim), y, "near", distance)

    for _ in range(settings.n_random):
        points.append(draw(lambda: Point(rng.uniform(-1, 1, ref.dim), rng.uniform(-1, 1, ref.dim), "random")))
    for _ in range(settings.n_near):
        points.append(draw(near))
    base = rng.uniform(-1, 1, ref.dim)
    points.append(draw(lambda: Point(base.copy(), base.copy(), "coincident")))
    if ref.dim > 1:
        partial_rng = np.random.default_rng([seed, 19])  # apart: the other points stay as they were
        subsets = _coordinate_subsets(partial_rng, ref.dim, settings.n_partial + 1)
        kinds = ["partial"] * settings.n_partial + ["partial-near"]
        for kind, along in zip(kinds, subsets):
            points.append(draw(lambda kind=kind, along=along: _partial_point(partial_rng, ref.dim, kind, along)))
    return [p for p in points if p is not None]


def _coordinate_subsets(rng: np.random.Generator, dim: int, count: int) -> list[tuple[int, ...]]:
    """``count`` random non-empty proper subsets of the coordinates, all different while they last."""
    every = [c for n in range(1, dim) for c in itertools.combinations(range(dim), n)]
    order = [every[int(i)] for i in rng.permutation(len(every))]
    return [order[k % len(order)] for k in range(count)]


def _partial_point(rng: np.random.Generator, dim: int, kind: str, along: tuple[int, ...]) -> Point:
    x, y = rng.uniform(-1, 1, dim), rng.uniform(-1, 1, dim)
    x[list(along)] = y[list(along)]
    if kind == "partial":
        return Point(x, y, kind, 0.0, along)
    distance = 10 ** rng.uniform(-12, -3)
    u = np.zeros(dim)
    u[list(along)] = unit_vector(rng, len(along))
    return Point(x + distance * u, y, kind, distance, along)


# ============================================================================ the valid stream
def check_valid(case: Case, settings: Settings) -> Outcome:
    """Compare every sampled derivative and gradient of ``case`` with the reference."""
    out = Outcome(case)
    start = time.perf_counter()
    _PERTURBED.clear()
    try:
        with time_limit(settings.time_limit):
            _check_valid(case, settings, out)
    except CaseTimeout as exc:
        out.notes.append(f"slow: stopped {exc}")
        adapter.forget_prepared_forms()
    out.seconds = time.perf_counter() - start
    return out


def _check_valid(case: Case, settings: Settings, out: Outcome) -> None:
    built = case.reference()
    ref = Reference(built.expr, case.dim, built.values)
    try:
        kernel, warned = adapter.build(case.code())
    except CaseTimeout:
        raise
    except Exception as exc:  # noqa: BLE001  (classified below)
        _refused_at_construction(case, exc, out)
        return
    out.notes += warned
    if case.expect == "nfkc":
        out.notes.append("names equal after NFKC were accepted: their values must stay apart")
    with out.timed("claims"):
        claims = _read_claims(kernel, case, built, out)
    if claims is None:
        return
    rng = np.random.default_rng([case.seed, 3])
    sym = symmetry_counterexample(ref, rng)
    if sym is not None:
        x, y, a, b = sym
        out.add(Finding("invalid-accepted", case, "accepted a kernel with k(x, y) != k(y, x)", None,
                        "random", x, y, "accepted", f"k(x, y) = {_num(a)}, k(y, x) = {_num(b)}"))
        return
    _check_stationarity(case, ref, claims, rng, out)
    accepted, refused = _split_requests(kernel, claims, request_set(case.dim, case.seed, settings), out)
    points = make_points(ref, case.seed, settings)
    known = _compare(case, kernel, claims, ref, accepted, points, settings, out) if accepted else {}
    _check_existence(case, ref, accepted, refused, points, known, settings, out)


def _refused_at_construction(case: Case, exc: Exception, out: Outcome) -> None:
    if adapter.is_refusal(exc):
        if case.expect == "nfkc":
            out.notes.append(f"refused names equal after NFKC (expected): {exc}")
        else:
            out.conservative.append(f"refused a valid kernel at construction: {type(exc).__name__}: {exc}")
        return
    out.add(Finding("crash", case, f"construction raised {type(exc).__name__}: {exc}", got=_tail(exc)))


def _read_claims(kernel: object, case: Case, built: object, out: Outcome) -> adapter.Claims | None:
    try:
        claims = adapter.claims(kernel)
    except CaseTimeout:
        raise
    except Exception as exc:  # noqa: BLE001
        out.add(Finding("crash", case, f"is_stationary / smoothness raised {type(exc).__name__}: {exc}",
                        got=_tail(exc)))
        return None
    if sorted(claims.names) != sorted(built.names):
        out.add(Finding("names", case, "hyperparameter names differ from the documented renaming rule",
                        got=claims.names, want=built.names))
        return None
    mismatched = [n for n, v in zip(claims.names, claims.parameters) if v != built.values[n]]
    if mismatched:
        out.add(Finding("names", case, f"parameter_vector holds other values for {mismatched}",
                        got=claims.parameters.tolist(), want=[built.values[n] for n in claims.names]))
        return None
    out.notes.append(f"claims: stationary={claims.stationary}, smoothness={claims.smoothness}")
    return claims


def _check_stationarity(case: Case, ref: Reference, claims: adapter.Claims, rng: np.random.Generator,
                        out: Outcome) -> None:
    counter = translation_counterexample(ref, rng)
    if claims.stationary and counter is not None:
        x, y, c, a, b = counter
        out.add(Finding("stationarity", case, "is_stationary is True but k(x + c, y + c) != k(x, y) "
                        f"(c = {c.tolist()})", None, "random", x, y, "stationary",
                        f"k(x, y) = {_num(a)}, k(x + c, y + c) = {_num(b)}"))
    elif not claims.stationary and counter is None:
        out.conservative.append("is_stationary is False, but k(x + c, y + c) = k(x, y) at every point tried")


def _split_requests(kernel: object, claims: adapter.Claims, requests: list[Request],
                    out: Outcome) -> tuple[list[Request], list[Request]]:
    """Requests kernelgen evaluates and those it refuses (the documented rule, then confirmed)."""
    accepted, refused = [], []
    for r in requests:
        try:
            is_refused = not adapter.allowed_by_rule(claims.smoothness, r) and adapter.refuses(kernel, r)
        except CaseTimeout:
            raise
        except Exception as exc:  # noqa: BLE001
            out.add(Finding("crash", out.case, f"requesting dx={r[0]}, dy={r[1]} raised {type(exc).__name__}: {exc}",
                            (*r, None), got=_tail(exc)))
            continue
        (refused if is_refused else accepted).append(r)
    return accepted, refused


def _compare(case: Case, kernel: object, claims: adapter.Claims, ref: Reference, requests: list[Request],
             points: list[Point], settings: Settings, out: Outcome) -> dict[Request, Limit]:
    """Compare every output at every point; returns the coincident limits of the values."""
    graded, plain = gradient_split(requests, case.seed, settings)
    try:
        with out.timed("kernelgen"):
            evaluation = adapter.Evaluation(kernel, graded, plain)
    except adapter.NotDifferentiableError:
        out.notes.append("the batch was refused although every request passed the smoothness rule")
        graded = [r for r in graded if not adapter.refuses(kernel, r)]
        plain = [r for r in plain if not adapter.refuses(kernel, r)]
        if not graded + plain:
            return {}
        evaluation = adapter.Evaluation(kernel, graded, plain)
    except CaseTimeout:
        raise
    except Exception as exc:  # noqa: BLE001
        out.add(Finding("crash", case, f"compiling {requests} raised {type(exc).__name__}: {exc}", got=_tail(exc)))
        return {}
    order = max(len(dx) + len(dy) for dx, dy in requests)
    with out.timed("reference"):
        ev = EvaluatorGroup([(ref.evaluator(graded), True), (ref.evaluator(plain), False)])
        truth = _reference_values(ev, points, order, case.seed)
    scales = _scales(truth)
    compiled = settings.compile_every > 0 and case.seed % settings.compile_every == 0
    out.compiled = compiled
    with timer_paused():  # the pair may fall back to its numba-compiled version
        values = [evaluation.pair(p.x, p.y) for p in points]
    _compare_all(case, evaluation, ev, points, truth, scales, values, claims.stationary, "generated Python", out)
    if compiled:
        X1, X2 = np.array([p.x for p in points]), np.array([p.y for p in points])
        try:
            with out.timed("numba"), timer_paused():
                filled = evaluation.fill(X1, X2)
        except CaseTimeout:
            raise
        except Exception as exc:  # noqa: BLE001
            out.add(Finding("crash", case, f"compiled fill raised {type(exc).__name__}: {exc}", got=_tail(exc)))
        else:
            _compare_all(case, evaluation, ev, points, truth, scales, [(row, "") for row in filled],
                         claims.stationary, "compiled fill", out)
    limits = next((t for p, t in zip(points, truth) if p.kind == "coincident"), {})
    return {(dx, dy): v for (dx, dy, param), v in limits.items() if param is None}


def _reference_values(ev: EvaluatorGroup, points: list[Point], order: int, seed: int) -> list[dict[Output, object]]:
    """Per point: the reference value of every output (a :class:`Limit` at the coincident point)."""
    truth: list[dict[Output, object]] = []
    for p in points:
        if p.kind == "random":
            truth.append(ev.values(p.x, p.y, dps_random()))
        elif p.kind in ("near", "partial-near"):
            truth.append(ev.values(p.x, p.y, dps_near(order, p.distance)))
    scales = _scales(truth)
    rng = np.random.default_rng([seed, 13])
    limits = {}
    for k, p in enumerate(points):
        if p.kind == "coincident":
            limits[k] = coincident_limits(ev, p.y, rng, dps_coincident(order), scales)
        elif p.kind == "partial":
            limits[k] = coincident_limits(ev, p.y, rng, dps_coincident(order), scales, at=p.x, along=p.along)
    # In the order of the points (the direct values first above): truth[k] belongs to points[k].
    direct = iter(truth)
    return [limits[k] if k in limits else next(direct) for k in range(len(points))]


def _scales(truth: list[dict[Output, object]]) -> dict[Output, float]:
    scales: dict[Output, float] = {}
    for values in truth:
        for key, v in values.items():
            v = v.value if isinstance(v, Limit) else v
            if v is not None:
                scales[key] = max(scales.get(key, 0.0), abs(float(v)))
    return scales


def _compare_all(case: Case, evaluation: adapter.Evaluation, ev: EvaluatorGroup, points: list[Point],
                 truth: list[dict[Output, object]], scales: dict[Output, float],
                 values: list[tuple[dict[Output, float], str]], stationary: bool, path: str, out: Outcome) -> None:
    k_scale = max(scales.get(((), (), None), 0.0), 1e-300)
    for p, want, (got, note) in zip(points, truth, values):
        for key in evaluation.slots:
            ref = want.get(key)
            scale = max(scales.get(key, 0.0), 1e-12 * k_scale)
            if math.isnan(got[key]) and key[2] is None and adapter.refuses_at(evaluation.kernel, key[:2], p.x, p.y):
                out.guarded.append(f"{key} at {p.label()}")  # a clear error where the value would be inaccurate
                continue
            _compare_one(case, ev, p, key, got[key], ref, scale, stationary, path, note, out)


def _compare_one(case: Case, ev: EvaluatorGroup, p: Point, key: Output, got: float, ref: object, scale: float,
                 stationary: bool, path: str, note: str, out: Outcome) -> None:
    where = f"{p.label()}, {path}"
    if isinstance(ref, Limit):
        if ref.value is None:
            if math.isfinite(got) and key[2] is None:
                out.add(Finding("accepted-nonexistent", case, f"a finite value where the derivative has no "
                                f"limit as r -> 0: {ref.reason}", key, where, p.x, p.y, got, ref.reason))
            return
        want, slack = ref.value, float(ref.spread)
    elif ref is None:
        return  # outside the kernel's domain at this point
    else:
        want, slack = ref, 0.0
    want_f = float(want)
    if slack > UNCERTAIN * scale and math.isfinite(got):
        # The limit converges too slowly (|t|**a log|t|) for the extrapolation to judge a finite value.
        out.precision.append(f"{key} at {where}: reference limit only known to {slack:.1e} (scale {scale:.1e})")
        return
    if not math.isfinite(got):
        out.add(Finding("non-finite", case, f"{got} from finite inputs" + (f" ({note})" if note else ""),
                        key, where, p.x, p.y, got, _num(want)))
        return
    err = abs(got - want_f)
    denominator = max(abs(want_f), FLOOR * scale)
    if err <= RTOL * denominator + slack:
        out.record_error(max(err - slack, 0.0) / denominator, where)
        return
    if not p.limit and _within_conditioning(ev, p, key, err, stationary):
        out.precision.append(f"{key} at {where}: error {err:.2e} within the inputs' rounding sensitivity")
        return
    if err <= PRECISION * scale:
        out.precision.append(f"{key} at {where}: error {err:.2e} = {err / scale:.1e} of the output's scale")
        return
    out.record_error(err / denominator, where)
    out.add(Finding("wrong-value", case, f"relative error {err / denominator:.3g}", key, where, p.x, p.y,
                    repr(got), _num(want)))


_PERTURBED: dict[tuple[int, bytes, bytes], list[dict[Output, object]]] = {}


def _within_conditioning(ev: EvaluatorGroup, p: Point, key: Output, err: float, stationary: bool) -> bool:
    """Could rounding the inputs to float64 move the reference by ``err / 1000``? (never if stationary)."""
    if stationary:
        return False
    cache_key = (id(ev), p.x.tobytes(), p.y.tobytes())
    if cache_key not in _PERTURBED:  # every output at once, and once per point: this is the slow part
        rng = np.random.default_rng(5)
        runs = [ev.values(p.x, p.y, 60)]
        for _ in range(2):
            dx = p.x * (1 + EPS * rng.choice([-1.0, 1.0], p.x.shape))
            dy = p.y * (1 + EPS * rng.choice([-1.0, 1.0], p.y.shape))
            runs.append(ev.values(dx, dy, 60))
        _PERTURBED.clear()
        _PERTURBED[cache_key] = runs
    base, *moved = (run[key] for run in _PERTURBED[cache_key])
    if base is None:
        return False
    spread = max((abs(float(m - base)) for m in moved if m is not None), default=0.0)
    return err <= 1e3 * spread


# ============================================================================ existence of derivatives
def sub_multisets(a: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Every sorted sub-multiset of ``a``, ``()`` and ``a`` included."""
    found = {tuple(sorted(c)) for n in range(len(a) + 1) for c in itertools.combinations(a, n)}
    return sorted(found, key=lambda c: (len(c), c))


def _check_existence(case: Case, ref: Reference, accepted: list[Request], refused: list[Request],
                     points: list[Point], known: dict[Request, Limit], settings: Settings, out: Outcome) -> None:
    """Does the process ``d^a f`` exist for each ``a`` of each request?

    It does when ``k`` is ``C^(a, a)`` at the diagonal: every ``d^b/dx d^c/dy k`` with ``b`` and ``c``
    sub-multisets of ``a`` has a limit as ``r -> 0`` (probed at the coincident point; ``known`` holds
    the limits already computed for the compared requests).
    """
    base = next((p for p in points if p.kind == "coincident"), None)
    if base is None:
        return
    wanted = {a for r in accepted + refused for a in r if a}
    alphas = sorted((a for a in wanted if len(a) <= settings.probe_order), key=lambda a: (len(a), a))
    unverified = sorted(a for a in wanted if len(a) > settings.probe_order)
    probes = sorted({(b, c) for a in alphas for b in sub_multisets(a) for c in sub_multisets(a)},
                    key=lambda r: (len(r[0]) + len(r[1]), r))
    missing = [r for r in probes if r not in known]
    limits = dict(known)
    if missing:
        with out.timed("probes"):
            ev = ref.evaluator(missing)
            order = max(len(b) + len(c) for b, c in missing)
            found = coincident_limits(ev, base.y, np.random.default_rng([case.seed, 17]),
                                      dps_coincident(order), {}, gradients=False)
        limits.update({(b, c): found[(b, c, None)] for b, c in missing})
    broken: dict[tuple[int, ...], str] = {}
    for a in alphas:
        for b in sub_multisets(a):
            for c in sub_multisets(a):
                if limits[(b, c)].value is None and a not in broken:
                    broken[a] = f"d^{b}/dx d^{c}/dy k {limits[(b, c)].reason}"
    for r in accepted:
        for a in r:
            if a in broken:
                out.add(Finding("accepted-nonexistent", case, f"accepted, but the process d^{a} f does not "
                                f"exist: {broken[a]}", (*r, None), "coincident", base.x, base.y,
                                "accepted", "does not exist"))
    for r in refused:
        if all(not a or (len(a) <= settings.probe_order and a not in broken) for a in r):
            out.conservative.append(f"refused dx={r[0]}, dy={r[1]}, but both derivative processes exist")
    if unverified:
        out.notes.append(f"existence not probed for {unverified} (probe_order={settings.probe_order})")


# ============================================================================ the invalid stream
def check_invalid(case: Case, settings: Settings) -> Outcome:
    """An invalid kernel must be refused at construction with a clear error."""
    out = Outcome(case)
    start = time.perf_counter()
    try:
        kernel, warned = adapter.build(case.code())
    except Exception as exc:  # noqa: BLE001
        if not adapter.is_refusal(exc):
            out.add(Finding("crash", case, f"construction raised {type(exc).__name__}: {exc}", got=_tail(exc)))
        elif case.expect == "input-name" and not _names_an_input(str(exc)):
            out.add(Finding("unclear-refusal", case, "refused, but the message does not name the inputs "
                            f"x0.., y0..: {exc}", got=str(exc)))
        else:
            out.notes.append(f"refused: {type(exc).__name__}: {exc}")
        out.seconds = time.perf_counter() - start
        return out
    problem = _confirm_invalid(case)
    out.add(Finding("invalid-accepted", case, f"accepted a kernel that is {problem}", got="accepted",
                    want=f"{'InvalidKernelError' if adapter.InvalidKernelError else 'ValueError'} at construction"))
    out.notes += warned
    out.seconds = time.perf_counter() - start
    return out


def _names_an_input(message: str) -> bool:
    return re.search(r"\b[xy]\d\b", message) is not None


def _confirm_invalid(case: Case) -> str:
    """Why the case is invalid, confirmed numerically where it can be."""
    if case.expect == "input-name":
        return "written with input-like names " + ", ".join(sorted({v for _, v in case.kernel.inputs}))
    built = case.reference()
    ref = Reference(built.expr, case.dim, built.values)
    rng = np.random.default_rng([case.seed, 19])
    if case.expect in ("asymmetric", "one-argument"):
        counter = symmetry_counterexample(ref, rng)
        if counter is None:
            return f"{case.expect} (by construction; no counterexample found numerically)"
        x, y, a, b = counter
        return f"{case.expect}: k({x.round(3).tolist()}, {y.round(3).tolist()}) = {_num(a)} but k(y, x) = {_num(b)}"
    ev = ref.evaluator([((), ())])
    base = rng.uniform(-1, 1, case.dim)
    limit = coincident_limits(ev, base, rng, dps_coincident(0), {}, gradients=False)[((), (), None)]
    return f"singular at x = y: k {limit.reason or 'has a limit (?)'}"


# ============================================================================ shrinking
def shrink(finding: Finding, settings: Settings) -> Finding:
    """Greedily replace the case by smaller ones that fail the same way, within ``shrink_seconds``."""
    deadline = time.perf_counter() + settings.shrink_seconds
    best = finding
    focused = replace(settings, only=finding.output[:2] if finding.output else ((), ()), compile_every=0,
                      time_limit=min(settings.time_limit, 20.0))
    improved = True
    while improved and time.perf_counter() < deadline:
        improved = False
        for candidate in shrink_candidates(best.case):
            if time.perf_counter() > deadline:
                break
            if len(candidate.code()) >= len(best.case.code()) and candidate.kernel == best.case.kernel:
                continue
            again = _same_failure(candidate, finding, focused)
            if again is not None:
                best, improved = again, True
                break
    best.original = finding.case
    return best


def plausibly_valid(case: Case) -> bool:
    """Symmetric, real at most points of [-1, 1]^d and with a finite value at x = y (the reference's view).

    Shrinking keeps only such candidates, so a reproducer of a valid-stream failure is itself a valid
    kernel rather than, say, ``(x0 - atan(y0))^0.25``.
    """
    built = case.reference()
    ref = Reference(built.expr, case.dim, built.values)
    rng = np.random.default_rng([case.seed, 23])
    k = value_function(ref)
    real = 0
    for _ in range(10):
        x, y = rng.uniform(-1, 1, case.dim), rng.uniform(-1, 1, case.dim)
        a, b = k(x, y, 30), k(y, x, 30)
        if a is not None and b is not None:
            if abs(a - b) > mpmath.mpf("1e-25") * (abs(a) + abs(b) + 1):
                return False
            real += 1
    if real < 8:
        return False
    ev = ref.evaluator([((), ())])
    base = rng.uniform(-1, 1, case.dim)
    return coincident_limits(ev, base, rng, dps_coincident(0), {}, gradients=False)[((), (), None)].value is not None


def _same_failure(candidate: Case, finding: Finding, settings: Settings) -> Finding | None:
    if candidate.expect in ("valid", "nfkc") and finding.kind != "crash":
        try:
            if not plausibly_valid(candidate):
                return None
        except Exception:  # noqa: BLE001
            return None
    try:
        outcome = check_invalid(candidate, settings) if candidate.expect not in ("valid", "nfkc") \
            else check_valid(candidate, settings)
    except Exception:  # noqa: BLE001  (a candidate that breaks the harness is simply not smaller)
        return None
    for f in outcome.findings:
        if f.kind == finding.kind and (finding.output is None or (f.output and f.output[:2] == finding.output[:2])):
            return f
    return None


# ============================================================================ helpers
def _num(v: object) -> str:
    if isinstance(v, mpmath.mpf):
        return mpmath.nstr(v, 17)
    return repr(v)


def _tail(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


def findings_file() -> str | None:
    """``KERNELGEN_FUZZ_FINDINGS``: append every shrunk finding to this file (markdown)."""
    return os.environ.get("KERNELGEN_FUZZ_FINDINGS") or None


def append_findings(path: str, findings: Sequence[Finding]) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        for f in findings:
            handle.write(f"\n### {f.kind}: case {f.case.seed} ({f.case.expect})\n\n```\n{f.report()}\n```\n")


# ============================================================================ the session summary
@dataclass
class Summary:
    """Counts over a test session, printed at its end (``tests/fuzz/conftest.py``)."""

    outcomes: list[Outcome] = field(default_factory=list)
    shrink_left: float = 60.0

    def add(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)

    def render(self) -> str:
        valid = [o for o in self.outcomes if o.case.expect in ("valid", "nfkc")]
        invalid = [o for o in self.outcomes if o.case.expect not in ("valid", "nfkc")]
        compared = sum(o.compared for o in self.outcomes)
        worst = max(self.outcomes, key=lambda o: o.worst)
        passing = [o for o in valid if not o.findings]
        best_worst = max(passing, key=lambda o: o.worst) if passing else None
        kinds: dict[str, int] = {}
        for o in self.outcomes:
            for f in o.findings:
                kinds[f.kind] = kinds.get(f.kind, 0) + 1
        slow = [o.case.seed for o in self.outcomes if any(n.startswith("slow") for n in o.notes)]
        conservative = [(o.case.seed, c) for o in self.outcomes for c in o.conservative]
        lines = [
            f"kernelgen fuzz: {len(valid)} valid + {len(invalid)} invalid expressions in "
            f"{sum(o.seconds for o in self.outcomes):.0f} s; {compared} outputs compared with the reference "
            f"({sum(o.compiled for o in valid)} cases also through the compiled fill)",
            f"worst relative error: {worst.worst:.3g} (case {worst.case.seed}, {worst.worst_where})",
        ]
        if best_worst is not None:
            lines.append(f"worst relative error in cases without findings: {best_worst.worst:.3g} "
                         f"(case {best_worst.case.seed}, {best_worst.worst_where})")
        failed = sum(bool(o.findings) for o in self.outcomes)
        lines.append(f"cases with findings: {failed} ({', '.join(f'{k}: {n}' for k, n in sorted(kinds.items()))})")
        lines.append(f"over-conservative: {len(conservative)} notes in {len({s for s, _ in conservative})} cases")
        lines += [f"    case {s}: {c}" for s, c in conservative[:8]]
        lines.append(f"precision-limited (not failures): {sum(len(o.precision) for o in self.outcomes)}")
        guarded = [o.case.seed for o in self.outcomes if o.guarded]
        lines.append(f"refused near x = y by the precision guard (a clear error, not compared): "
                     f"{sum(len(o.guarded) for o in self.outcomes)} outputs in cases {guarded}")
        lines.append(f"slow (stopped at the time limit, not checked further): {len(slow)} cases {slow}")
        warned = sum(any(n.startswith("NotPositiveDefiniteWarning") for n in o.notes) for o in self.outcomes)
        lines.append(f"accepted with a NotPositiveDefiniteWarning (never blocks): {warned} cases")
        return "\n".join(lines)


SUMMARY = Summary()


def report_failures(outcome: Outcome, settings: Settings) -> str:
    """Every finding of ``outcome`` as text, the first of each kind shrunk within the session budget."""
    parts = [f"case {outcome.case.seed}: {outcome.case.describe()}"]
    shrunk = []
    seen: set[str] = set()
    for f in outcome.findings:
        if f.kind in seen or SUMMARY.shrink_left <= 0:
            parts.append(f.report())
            continue
        seen.add(f.kind)
        start = time.perf_counter()
        small = shrink(f, replace(settings, shrink_seconds=min(settings.shrink_seconds, SUMMARY.shrink_left)))
        SUMMARY.shrink_left -= time.perf_counter() - start
        shrunk.append(small)
        parts.append(small.report())
    path = findings_file()
    if path and shrunk:
        append_findings(path, shrunk)
    return "\n\n".join(parts)
