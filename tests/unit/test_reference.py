"""Self-tests of the high-precision derivative reference in ``reference.py``.

The reference is checked against hand-derived closed forms (``closed_forms.py``), against
exact ``r = 0`` limits, against ``sympy.diff`` evaluated at high precision (allowed here,
never in the reference itself), and for its ``theta * d/dtheta`` log-derivative convention.
"""

from __future__ import annotations

import functools
import itertools

import mpmath
import numpy as np
import pytest
import sympy

import tests.support.closed_forms as cf
from tests.support.reference import mp_derivative, mp_derivative_matrix

# Distances (in units of the lengthscales) probed near coincident points.
NEAR = [1e-3, 1e-8, 1e-15]


# ------------------------------------------------------------------------ kernels


def _inputs(d: int) -> tuple[tuple[sympy.Symbol, ...], tuple[sympy.Symbol, ...]]:
    """Real input symbols ``x0..``, ``y0..`` of dimension ``d``."""
    xs = sympy.symbols(f"x0:{d}", real=True)
    ys = sympy.symbols(f"y0:{d}", real=True)
    return tuple(xs), tuple(ys)


def _ard_r(xs, ys, prefix: str = "l") -> tuple[sympy.Expr, tuple[sympy.Symbol, ...]]:
    """Scaled distance ``sqrt(sum((x_i - y_i)**2 / l_i**2))`` and its lengthscales."""
    ls = sympy.symbols(f"{prefix}0:{len(xs)}", positive=True)
    r = sympy.sqrt(sum((xi - yi) ** 2 / li**2 for xi, yi, li in zip(xs, ys, ls, strict=True)))
    return r, tuple(ls)


def _lengthscales(d: int, prefix: str = "l") -> dict[str, float]:
    """Distinct, not-round lengthscale values."""
    return {f"{prefix}{i}": [0.7, 1.3, 2.1, 0.45][i] for i in range(d)}


def make_kernel(name: str, d: int):
    """Return ``(expr, x_syms, y_syms, params)`` for a named test kernel."""
    xs, ys = _inputs(d)
    s = sympy.Symbol("s", positive=True)
    params: dict[str, float] = {}
    dist = sympy.sqrt(sum((xi - yi) ** 2 for xi, yi in zip(xs, ys, strict=True)))
    dot = sum(xi * yi for xi, yi in zip(xs, ys, strict=True))
    if name in ("rbf", "m32", "m52"):
        r, _ = _ard_r(xs, ys)
        params.update(_lengthscales(d), s=1.3)
        if name == "rbf":
            expr = s * sympy.exp(-(r**2) / 2)
        elif name == "m32":
            a = sympy.sqrt(3)
            expr = s * (1 + a * r) * sympy.exp(-a * r)
        else:
            a = sympy.sqrt(5)
            expr = s * (1 + a * r + a**2 * r**2 / 3) * sympy.exp(-a * r)
    elif name == "periodic":
        p, lp = sympy.symbols("p lp", positive=True)
        expr = sympy.exp(-2 * sympy.sin(sympy.pi * dist / p) ** 2 / lp**2)
        params.update(p=1.7, lp=0.9)
    elif name == "rq":
        alpha, lq = sympy.symbols("alpha lq", positive=True)
        expr = (1 + dist**2 / (2 * alpha * lq**2)) ** (-alpha)
        params.update(alpha=0.8, lq=1.1)
    elif name == "linear":
        sv = sympy.Symbol("sv", positive=True)
        expr = sv * dot
        params.update(sv=0.6)
    elif name == "poly":
        c = sympy.Symbol("c", positive=True)
        expr = (c + dot) ** 3
        params.update(c=0.5)
    elif name == "rbf*periodic":
        e1, _, _, p1 = make_kernel("rbf", d)
        e2, _, _, p2 = make_kernel("periodic", d)
        expr = e1 * e2
        params.update(p1, **p2)
    elif name == "linear+rq":
        e1, _, _, p1 = make_kernel("linear", d)
        e2, _, _, p2 = make_kernel("rq", d)
        expr = e1 + e2
        params.update(p1, **p2)
    elif name == "poly*m52":
        e1, _, _, p1 = make_kernel("poly", d)
        e2, _, _, p2 = make_kernel("m52", d)
        expr = e1 * e2
        params.update(p1, **p2)
    else:  # pragma: no cover - programming error in the test itself
        raise KeyError(name)
    return expr, xs, ys, params


def point_pairs(d: int, seed: int) -> list[tuple[str, list[float], list[float]]]:
    """Random, coincident and near-coincident point pairs (distances in lengthscale units)."""
    rng = np.random.default_rng(seed)
    ell = np.array(list(_lengthscales(d).values()))
    y = rng.uniform(-1.0, 1.0, d)
    pairs = [
        ("random", list(rng.uniform(-1.5, 1.5, d)), list(y)),
        ("coincident", list(y), list(y)),
    ]
    for r in NEAR:
        v = rng.normal(size=d)
        v /= np.linalg.norm(v)
        pairs.append((f"r={r:g}", list(y + r * ell * v), list(y)))
    return pairs


def _close(ref: mpmath.mpf, expected: float, scale: float, rtol: float = 1e-13) -> bool:
    """``|ref - expected| <= rtol * (|expected| + scale)``."""
    return abs(float(ref) - expected) <= rtol * (abs(expected) + scale)


# ------------------------------------------------------------ closed forms (float)


@pytest.mark.parametrize("d", [1, 3])
def test_rbf_against_closed_forms(d: int) -> None:
    expr, xs, ys, params = make_kernel("rbf", d)
    ls = [params[f"l{i}"] for i in range(d)]
    s = params["s"]
    scale = s / min(ls) ** 2
    for label, x, y in point_pairs(d, seed=1 + d):
        msg = f"{label} x={x} y={y}"
        assert _close(mp_derivative(expr, xs, ys, params, x, y), cf.rbf(x, y, ls, s), s), msg
        ref = mp_derivative(expr, xs, ys, params, x, y, dlog="s")
        assert _close(ref, cf.rbf_dlog_s(x, y, ls, s), s), msg
        for i in range(d):
            ref = mp_derivative(expr, xs, ys, params, x, y, dx=(i,))
            assert _close(ref, cf.rbf_dx(x, y, ls, s, i), scale), msg
            ref = mp_derivative(expr, xs, ys, params, x, y, dlog=f"l{i}")
            assert _close(ref, cf.rbf_dlog_l(x, y, ls, s, i), s), msg
            for j in range(d):
                ref = mp_derivative(expr, xs, ys, params, x, y, dx=(i,), dy=(j,))
                assert _close(ref, cf.rbf_dxdy(x, y, ls, s, i, j), scale), msg
                ref = mp_derivative(expr, xs, ys, params, x, y, dx=(i, j))
                assert _close(ref, cf.rbf_dxdx(x, y, ls, s, i, j), scale), msg


@pytest.mark.parametrize("nu", ["32", "52"])
@pytest.mark.parametrize("d", [1, 3])
def test_matern_against_closed_forms(nu: str, d: int) -> None:
    expr, xs, ys, params = make_kernel("m" + nu, d)
    ls = [params[f"l{i}"] for i in range(d)]
    s = params["s"]
    scale = 5.0 * s / min(ls) ** 2
    value, dxf, dxdyf, dlogf = {
        "32": (cf.matern32, cf.matern32_dx, cf.matern32_dxdy, cf.matern32_dlog_l),
        "52": (cf.matern52, cf.matern52_dx, cf.matern52_dxdy, cf.matern52_dlog_l),
    }[nu]
    for label, x, y in point_pairs(d, seed=10 + d):
        msg = f"{label} x={x} y={y}"
        assert _close(mp_derivative(expr, xs, ys, params, x, y), value(x, y, ls, s), s), msg
        for i in range(d):
            ref = mp_derivative(expr, xs, ys, params, x, y, dx=(i,))
            assert _close(ref, dxf(x, y, ls, s, i), scale), msg
            ref = mp_derivative(expr, xs, ys, params, x, y, dlog=f"l{i}")
            assert _close(ref, dlogf(x, y, ls, s, i), s), msg
            for j in range(d):
                ref = mp_derivative(expr, xs, ys, params, x, y, dx=(i,), dy=(j,))
                assert _close(ref, dxdyf(x, y, ls, s, i, j), scale), msg
                # Stationarity: d2k/dx_i dx_j = -d2k/dx_i dy_j.
                ref = mp_derivative(expr, xs, ys, params, x, y, dx=(i, j))
                assert _close(ref, -dxdyf(x, y, ls, s, i, j), scale), msg


def test_closed_form_limits_at_zero() -> None:
    """The documented 1-D limits 3 s / l**2 and 5 s / (3 l**2) (and 25 s / l**4)."""
    s, ell = 1.3, 0.7
    assert cf.matern32_dxdy(0.2, 0.2, ell, s, 0, 0) == pytest.approx(3 * s / ell**2, rel=1e-15)
    assert cf.matern52_dxdy(0.2, 0.2, ell, s, 0, 0) == pytest.approx(5 * s / (3 * ell**2), rel=1e-15)
    assert cf.matern52_d4_at_zero(ell, s, 0, 0, 0, 0) == pytest.approx(25 * s / ell**4, rel=1e-15)


# --------------------------------------------- exact limits at x == y (high precision)


def _mp(v: float) -> mpmath.mpf:
    return mpmath.mpf(v)


@pytest.mark.parametrize("d", [1, 3])
def test_matern_coincident_exact(d: int) -> None:
    """Orders 1-2 (Matern 3/2) and 1-4 (Matern 5/2) at r = 0 to ~1e-50 relative."""
    rng = np.random.default_rng(5)
    x = list(rng.uniform(-1, 1, d))
    tol = mpmath.mpf("1e-50")
    e32, xs, ys, params = make_kernel("m32", d)
    e52, _, _, _ = make_kernel("m52", d)
    with mpmath.workdps(80):
        s = _mp(params["s"])
        w = [1 / _mp(params[f"l{i}"]) ** 2 for i in range(d)]
        for i, j in itertools.product(range(d), repeat=2):
            exact32 = 3 * s * w[i] if i == j else 0
            exact52 = 5 * s * w[i] / 3 if i == j else 0
            got32 = mp_derivative(e32, xs, ys, params, x, x, dx=(i,), dy=(j,))
            got52 = mp_derivative(e52, xs, ys, params, x, x, dx=(i,), dy=(j,))
            assert abs(got32 - exact32) <= tol * s * max(w)
            assert abs(got52 - exact52) <= tol * s * max(w)
            # Odd orders vanish by symmetry (they exist: order 1 for 3/2, order 3 for 5/2).
            assert abs(mp_derivative(e32, xs, ys, params, x, x, dy=(j,))) <= tol
            assert abs(mp_derivative(e52, xs, ys, params, x, x, dx=(i, j), dy=(i,))) <= tol
        combos = list(itertools.product(range(d), repeat=4))
        if d > 1:
            combos = [(0, 0, 0, 0), (0, 0, 1, 1), (0, 1, 0, 1), (1, 2, 2, 1), (2, 2, 2, 2)]
        for i, j, k, m in combos:
            t = 0
            if i == j and k == m:
                t += w[i] * w[k]
            if i == k and j == m:
                t += w[i] * w[j]
            if i == m and j == k:
                t += w[i] * w[j]
            exact = 25 * s * t / 3
            got = mp_derivative(e52, xs, ys, params, x, x, dx=(i, j), dy=(k, m))
            assert abs(got - exact) <= tol * s * max(w) ** 2, (i, j, k, m, got, exact)
            expected = cf.matern52_d4_at_zero([params[f"l{n}"] for n in range(d)], params["s"], i, j, k, m)
            assert _close(got, expected, s * max(w) ** 2)


def test_periodic_coincident_exact() -> None:
    """Periodic kernel at r = 0: exp(-q sin(c r)**2), q = 2/l**2, c = pi/p."""
    expr, xs, ys, params = make_kernel("periodic", 1)
    with mpmath.workdps(80):
        q = 2 / _mp(params["lp"]) ** 2
        c = mpmath.pi / _mp(params["p"])
        d2 = mp_derivative(expr, xs, ys, params, [0.4], [0.4], dx=(0,), dy=(0,))
        d4 = mp_derivative(expr, xs, ys, params, [0.4], [0.4], dx=(0, 0), dy=(0, 0))
        assert abs(d2 - 2 * q * c**2) < mpmath.mpf("1e-50")
        assert abs(d4 - c**4 * (8 * q + 12 * q**2)) < mpmath.mpf("1e-50")


# ----------------------------------------- sympy.diff at high precision (independent)

MATERN_SPECS = {
    "m32": [((0,), ()), ((0,), (1,)), ((1, 2), ()), ((0,), (0, 2))],
    "m52": [((0,), (1,)), ((0, 1), (2,)), ((0, 1), (1, 2)), ((2,), (0, 1, 2))],
}


@functools.cache
def _sympy_func(expr, xs, ys, wrt, dtheta, pnames):
    """Lambdified (mpmath) ``sympy.diff`` of ``expr``; cached across points."""
    deriv = sympy.diff(expr, *wrt) if wrt else expr
    psyms = {str(sym): sym for sym in expr.free_symbols - set(xs) - set(ys)}
    if dtheta is not None:
        deriv = sympy.diff(deriv, psyms[dtheta])
    args = [*xs, *ys] + [psyms.get(n, sympy.Dummy(n)) for n in pnames]
    return sympy.lambdify(args, deriv, modules="mpmath")


def _sympy_value(expr, xs, ys, params, x, y, dx, dy, dtheta=None, dps=110) -> mpmath.mpf:
    """``sympy.diff`` of the expression, lambdified to mpmath and evaluated at ``dps``.

    ``dtheta`` names a hyperparameter for an additional *plain* ``d/dtheta``.
    """
    wrt = tuple(xs[i] for i in dx) + tuple(ys[j] for j in dy)
    pnames = tuple(sorted(params))
    f = _sympy_func(expr, tuple(xs), tuple(ys), wrt, dtheta, pnames)
    with mpmath.workdps(dps):
        vals = [mpmath.mpf(v) for v in [*x, *y]] + [mpmath.mpf(params[n]) for n in pnames]
        return +f(*vals)


@pytest.mark.parametrize("name", ["m32", "m52"])
def test_matern_near_coincident_vs_sympy(name: str) -> None:
    """d = 3, distances 1e-3 .. 1e-15 and a random pair, to 1e-40 (scaled)."""
    expr, xs, ys, params = make_kernel(name, 3)
    pairs = [p for p in point_pairs(3, seed=21) if p[0] != "coincident"]
    for dx, dy in MATERN_SPECS[name]:
        for label, x, y in pairs:
            exact = _sympy_value(expr, xs, ys, params, x, y, dx, dy)
            got = mp_derivative(expr, xs, ys, params, x, y, dx=dx, dy=dy)
            assert abs(got - exact) <= mpmath.mpf("1e-40") * (1 + abs(exact)), (label, dx, dy)


SMOOTH_SPECS = [
    ((), (), None),
    ((0,), (), None),
    ((), (1,), None),
    ((0,), (1,), None),
    ((0, 1), (1,), None),
    ((0, 0), (1, 1), None),
    ((1,), (0,), "dlog"),
]
COMPOSITES = ("rbf*periodic", "linear+rq", "poly*m52")


@pytest.mark.parametrize("name", ["rbf", "periodic", "rq", "linear", "poly", *COMPOSITES])
def test_kernels_vs_sympy(name: str) -> None:
    """Random d = 2 points; includes a log-hyperparameter derivative per kernel."""
    expr, xs, ys, params = make_kernel(name, 2)
    theta = sorted(params)[-1]
    rng = np.random.default_rng(sum(map(ord, name)))
    for _ in range(2):
        x = list(rng.uniform(-1.2, 1.2, 2))
        y = list(rng.uniform(-1.2, 1.2, 2))
        for dx, dy, log in SMOOTH_SPECS:
            if len(dx) + len(dy) > 3 and name in COMPOSITES:
                continue  # sympy.diff of order-4 products is slow; order 3 covers them
            dlog = theta if log else None
            exact = _sympy_value(expr, xs, ys, params, x, y, dx, dy, dtheta=dlog)
            got = mp_derivative(expr, xs, ys, params, x, y, dx=dx, dy=dy, dlog=dlog)
            with mpmath.workdps(110):
                if dlog is not None:
                    exact *= mpmath.mpf(params[dlog])
                assert abs(got - exact) <= mpmath.mpf("1e-45") * (1 + abs(exact)), (x, y, dx, dy)


def test_against_evalf() -> None:
    """One case checked literally with ``sympy.diff(...).evalf(subs=...)``."""
    expr, xs, ys, params = make_kernel("rbf*periodic", 2)
    x, y = [0.31, -0.72], [1.05, 0.4]
    deriv = sympy.diff(expr, xs[0], xs[1], ys[1])
    subs = {sym: sympy.Float(v, 60) for sym, v in zip([*xs, *ys], [*x, *y], strict=True)}
    subs.update({sym: sympy.Float(params[str(sym)], 60) for sym in expr.free_symbols if str(sym) in params})
    exact = deriv.evalf(50, subs=subs)
    got = mp_derivative(expr, xs, ys, params, x, y, dx=(0, 1), dy=(1,))
    with mpmath.workdps(60):
        assert abs(got - mpmath.mpf(str(exact))) <= mpmath.mpf("1e-40")


# ------------------------------------------------------------ log-parameter convention


def test_dlog_is_theta_times_derivative() -> None:
    """``dlog=theta`` returns theta * d/dtheta == d/d(log theta)."""
    expr, xs, ys, params = make_kernel("m52", 2)
    x, y = [0.3, -0.4], [0.1, 0.25]
    u = sympy.Symbol("u", real=True)
    l0 = next(sym for sym in expr.free_symbols if str(sym) == "l0")
    for dx, dy in [((), ()), ((0,), (1,))]:
        got = mp_derivative(expr, xs, ys, params, x, y, dx=dx, dy=dy, dlog="l0")
        # (a) derivative with respect to u = log(l0) of the substituted expression.
        sub = sympy.diff(expr.subs(l0, sympy.exp(u)), u, *[xs[i] for i in dx], *[ys[j] for j in dy])
        pnames = sorted(n for n in params if n != "l0")
        psyms = {str(sym): sym for sym in sub.free_symbols}
        f = sympy.lambdify([*xs, *ys, u, *[psyms[n] for n in pnames]], sub, modules="mpmath")
        with mpmath.workdps(80):
            vals = [mpmath.mpf(v) for v in [*x, *y]] + [mpmath.log(mpmath.mpf(params["l0"]))]
            exact = f(*vals, *[mpmath.mpf(params[n]) for n in pnames])
        assert abs(got - exact) <= mpmath.mpf("1e-45") * (1 + abs(exact))
        # (b) explicitly theta times the plain derivative (not the derivative alone).
        dtheta = _sympy_value(expr, xs, ys, params, x, y, dx, dy, dtheta="l0")
        with mpmath.workdps(110):
            theta = mpmath.mpf(params["l0"])
            assert abs(got - theta * dtheta) <= mpmath.mpf("1e-45") * (1 + abs(got))
            assert abs(got - dtheta) > mpmath.mpf("1e-3") * abs(dtheta)
    # Scale parameter: s dk/ds = k; a parameter that is absent gives 0.
    value = mp_derivative(expr, xs, ys, params, x, y)
    assert mp_derivative(expr, xs, ys, params, x, y, dlog="s") == pytest.approx(value, rel=1e-50)
    assert mp_derivative(expr, xs, ys, {**params, "zz": 2.0}, x, y, dlog="zz") == 0


# ------------------------------------------------------------------ misc behaviour


def test_precision_convergence_high_order() -> None:
    """d = 3 order-4 mixed derivative at r = 0 and r = 1e-8: dps 40 vs 80 agree."""
    expr, xs, ys, params = make_kernel("m52", 3)
    x = [0.3, -0.2, 0.5]
    for y in (x, [0.3 + 0.7e-8, -0.2 - 1.3e-8, 0.5]):
        lo = mp_derivative(expr, xs, ys, params, x, y, dx=(0, 1), dy=(0, 1), dps=40)
        hi = mp_derivative(expr, xs, ys, params, x, y, dx=(0, 1), dy=(0, 1), dps=80)
        assert abs(lo - hi) <= mpmath.mpf("1e-35") * abs(hi)


def test_float_inputs_are_exact() -> None:
    """Floats keep their binary value (0.1 is not rounded to the decimal 0.1)."""
    xs, ys = _inputs(1)
    c = sympy.Symbol("c")
    expr = xs[0] * ys[0] + c
    got = mp_derivative(expr, xs, ys, {"c": 0.0}, [0.1], [1.0], dps=50)
    with mpmath.workdps(50):
        assert got == mpmath.mpf(0.1)
        assert got != mpmath.mpf("0.1")
        # Strings are parsed at the working precision.
        got = mp_derivative(expr, xs, ys, {"c": "0"}, ["0.1"], [1], dps=50)
        assert got == mpmath.mpf("0.1")


def test_matrix_wrapper() -> None:
    expr, xs, ys, params = make_kernel("m32", 2)
    X1 = np.array([[0.1, 0.2], [0.5, -0.3], [0.1, 0.2]])
    X2 = np.array([[0.1, 0.2], [-0.7, 0.4]])
    out = mp_derivative_matrix(expr, xs, ys, params, X1, X2, (0,), (0,))
    assert out.shape == (3, 2)
    assert out.dtype == np.float64
    for a, b in itertools.product(range(3), range(2)):
        ref = mp_derivative(expr, xs, ys, params, list(X1[a]), list(X2[b]), dx=(0,), dy=(0,))
        assert out[a, b] == float(ref)
    assert out[0, 0] == pytest.approx(cf.matern32_dxdy(X1[0], X2[0], [0.7, 1.3], 1.3, 0, 0))
    # d = 1 accepts flat vectors.
    e1, xs1, ys1, p1 = make_kernel("rbf", 1)
    out1 = mp_derivative_matrix(e1, xs1, ys1, p1, [0.0, 0.5], [0.25], (), (0,), dlog="l0")
    assert out1.shape == (2, 1)
    assert out1[1, 0] == pytest.approx(float(mp_derivative(e1, xs1, ys1, p1, [0.5], [0.25], dy=(0,), dlog="l0")))


def test_errors() -> None:
    expr, xs, ys, params = make_kernel("rbf", 2)
    missing = {k: v for k, v in params.items() if k != "l1"}
    with pytest.raises(ValueError, match="l1"):
        mp_derivative(expr, xs, ys, missing, [0, 0], [1, 1])
    with pytest.raises(IndexError):
        mp_derivative(expr, xs, ys, params, [0, 0], [1, 1], dx=(2,))
    with pytest.raises(ValueError, match="dimension"):
        mp_derivative(expr, xs, ys, params, [0], [1, 1])
    with pytest.raises(ValueError, match="dlog"):
        mp_derivative(expr, xs, ys, params, [0, 0], [1, 1], dlog="nope")
