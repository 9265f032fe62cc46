"""No silently wrong answer (issue 7, items 1-3): stationarity, smoothness, validity.

Every reproducer of the issue is a named test here. References are independent of the code under
test: SymPy ``diff`` of the ORIGINAL expression ``kernel.expr`` evaluated in mpmath (never the
prepared forms), finite differences of scikit-learn's own posterior covariance, closed forms.
"""

from __future__ import annotations

import math
import re
import warnings

import mpmath
import numpy as np
import pytest
import sympy as sp

import kernelgen
from kernelgen import InvalidKernelError, Kernel, NotDifferentiableError, NotPositiveDefiniteWarning
from kernelgen import kernels as K


# ----------------------------------------------------------------------------- references
def sympy_value(kernel: Kernel, dx: tuple[int, ...], dy: tuple[int, ...], x, y, dps: int = 60) -> float:
    """``d^dx/dx d^dy/dy k`` at ``(x, y)``: SymPy ``diff`` of ``kernel.expr``, evaluated in mpmath."""
    x_real = [sp.Symbol(f"x{i}", real=True) for i in range(kernel.dim)]
    y_real = [sp.Symbol(f"y{i}", real=True) for i in range(kernel.dim)]
    expr = kernel.expr.xreplace({kernel.symbol(n): sp.Rational(v) for n, v in kernel.values.items()})
    expr = expr.xreplace({**dict(zip(kernel.x, x_real)), **dict(zip(kernel.y, y_real))})
    for i in dx:
        expr = sp.diff(expr, x_real[i])
    for j in dy:
        expr = sp.diff(expr, y_real[j])
    expr = expr.replace(sp.DiracDelta, lambda *args: sp.Integer(0))  # d sign(t)/dt, zero off the kink
    f = sp.lambdify([*x_real, *y_real], expr, modules="mpmath")
    with mpmath.workdps(dps):
        return float(mpmath.re(f(*[mpmath.mpf(float(v)) for v in (*np.ravel(x), *np.ravel(y))])))


def quiet(build):
    """Build a kernel that is expected to warn NotPositiveDefiniteWarning (and only that)."""
    with pytest.warns(NotPositiveDefiniteWarning):
        return build()


# ------------------------------------------------------------------ item 1: stationarity
def test_dot_product_power_is_not_stationary_and_dk_dy_is_its_own():
    """Issue 7 found 1: ``dot_product(1) ** 1.5`` claimed stationarity and returned dk/dy = -dk/dx."""
    k = quiet(lambda: K.dot_product(1) ** 1.5)
    assert not k.is_stationary
    x, y = np.array([[0.3]]), np.array([[0.65]])
    for dx, dy in [((), (0,)), ((0,), ()), ((0,), (0,)), ((), (0, 0)), ((0, 0), (0,))]:
        got = k(x, y, dx=dx, dy=dy)[0, 0]
        assert got == pytest.approx(sympy_value(k, dx, dy, x, y), rel=1e-13), (dx, dy)
    assert k(x, y, dy=(0,))[0, 0] == pytest.approx(0.4919, abs=1e-4)


def test_input_dependent_root_factors_are_not_stationary():
    """Issue 7 found 1: ``sqrt(x0^2+1)*sqrt(y0^2+1)*exp(-(x0-y0)^2)`` gave d2k/dx0dy0 = 0.3118 (true 1.9421)."""
    k = Kernel.from_string("sqrt(x0^2+1)*sqrt(y0^2+1)*exp(-(x0-y0)^2)", dim=1)
    assert not k.is_stationary
    X1 = np.array([[0.3], [0.3], [-1.1], [0.7]])
    X2 = np.array([[0.65], [0.3], [0.4], [0.7 - 1e-9]])
    for dx, dy in [((0,), (0,)), ((), (0,)), ((0, 0), (0, 0)), ((), (0, 0, 0))]:
        got = np.diag(k(X1, X2, dx=dx, dy=dy))
        ref = [sympy_value(k, dx, dy, a, b) for a, b in zip(X1, X2)]
        np.testing.assert_allclose(got, ref, rtol=1e-12, err_msg=f"dx={dx} dy={dy}")
    assert k(X1[:1], X2[:1], dx=(0,), dy=(0,))[0, 0] == pytest.approx(1.9421, abs=1e-4)


def test_stationary_part_and_hidden_base_part_are_differentiated_apart():
    """A sum whose non-integer-power term hides x and y behind a base symbol: each part right."""
    k = quiet(lambda: Kernel.from_string("exp(-(x0-y0)^2 - (x1-y1)^2) + (2 + x0*y0 + x1*y1)^(5/2)", dim=2))
    assert not k.is_stationary
    x, y = np.array([[0.3, -0.2]]), np.array([[0.65, 0.1]])
    for dx, dy in [((), (1,)), ((0,), (1,)), ((), (0, 1)), ((1,), (0, 0)), ((0, 1), (0, 1))]:
        assert k(x, y, dx=dx, dy=dy)[0, 0] == pytest.approx(sympy_value(k, dx, dy, x, y), rel=1e-12), (dx, dy)


@pytest.mark.parametrize(("text", "stationary"), [
    ("exp(-(x0-y0)^2)", True),
    ("exp(-(x0^2 - 2*x0*y0 + y0^2))", True),  # stationary only once expanded
    ("cos(x0)*cos(y0) + sin(x0)*sin(y0)", True),  # = cos(x0 - y0)
    ("x0*y0", False),
    ("exp(-(x0^2 - y0^2)^2)", False),
    ("exp(-(sin(x0) - sin(y0))^2)", False),  # an input warp
])
def test_stationarity_is_decided_on_the_original_expression(text, stationary):
    k = Kernel.from_string(text, dim=1)
    assert k.is_stationary is stationary
    # Independent check of the claim: translation by c changes nothing exactly when stationary.
    f = sp.lambdify([k.x[0], k.y[0]], k.expr, modules="mpmath")
    diffs = [abs(f(a + 0.37, b + 0.37) - f(a, b)) for a, b in [(0.2, -0.4), (1.1, 0.3), (-0.7, 0.9)]]
    assert (max(diffs) < 1e-14) is stationary


def test_bridge_dot_product_power_derivative_std_matches_finite_differences():
    """Issue 7 found 1 through scikit-learn: ``RBF(0.5) * DotProduct() ** 1.5`` reported std 0 for df/dx."""
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, DotProduct

    from kernelgen.sklearn import predict_derivative

    X = np.array([[0.2], [1.0], [1.8]])
    y = np.sin(3 * X[:, 0])
    gpr = GaussianProcessRegressor(RBF(0.5) * DotProduct() ** 1.5, optimizer=None).fit(X, y)
    P = np.array([[0.6], [2.4]])
    with pytest.warns(NotPositiveDefiniteWarning):
        _, std = predict_derivative(gpr, P, deriv=(0,), return_std=True)
    h = 1e-3
    for i, p in enumerate(P[:, 0]):
        Q = np.array([[p - h], [p + h]])
        _, C = gpr.predict(Q, return_cov=True)
        var_fd = (C[0, 0] - 2 * C[0, 1] + C[1, 1]) / (2 * h) ** 2
        assert std[i] ** 2 == pytest.approx(var_fd, rel=1e-4)
        assert std[i] > 0.1


# ---------------------------------------------------------- item 2: smoothness at x = y
@pytest.mark.parametrize(("gamma", "smoothness"), [("0.5", 0), ("1.5", 1), ("1.99", 1)])
def test_gamma_exponential_has_no_derivative_process(gamma, smoothness):
    """Issue 7 found 2: ``exp(-abs(x0-y0)^gamma)`` claimed smoothness inf and var(df/dx) = 0."""
    k = Kernel.from_string(f"exp(-abs(x0-y0)^{gamma})", dim=1)
    assert k.smoothness == smoothness
    x = np.array([[0.3]])
    with pytest.raises(NotDifferentiableError, match=re.escape("dx=(0,), dy=(0,)")) as info:
        k(x, x, dx=(0,), dy=(0,))
    assert "kernel 'kernel' (exp(-" in str(info.value) and "Abs(x0 - y0)" in str(info.value)
    with pytest.raises(NotDifferentiableError):
        k(x, x, dx=(0,))
    # The kernel itself stays exact at and near coincident points.
    X2 = np.array([[0.3], [0.3 - 1e-9], [0.3 + 1e-3], [1.2]])
    got = np.diag(k(np.repeat(x, 4, axis=0), X2))
    ref = [sympy_value(k, (), (), x, b) for b in X2]
    np.testing.assert_allclose(got, ref, rtol=1e-14)


def test_gamma_exponential_above_two_allows_one_derivative_per_argument():
    """``|r|**2.5``: C^2 at x = y, so one derivative per argument exists, two do not."""
    k = quiet(lambda: Kernel.from_string("exp(-abs(x0-y0)^2.5)", dim=1))  # not PSD for gamma > 2
    assert k.smoothness == 2
    X1 = np.array([[0.3], [0.3], [0.3], [0.3]])
    X2 = np.array([[0.3], [0.3 - 1e-6], [0.3 + 1e-3], [1.1]])
    for dx, dy in [((0,), (0,)), ((0,), ()), ((), (0,))]:
        got = np.diag(k(X1, X2, dx=dx, dy=dy))
        ref = [0.0] + [sympy_value(k, dx, dy, a, b) for a, b in zip(X1[1:], X2[1:])]
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-300, err_msg=f"dx={dx} dy={dy}")
    with pytest.raises(NotDifferentiableError, match="at most 1 derivative"):
        k(X1, X1, dx=(0, 0), dy=(0,))


def test_power_of_squared_difference_is_not_nan():
    """Issue 7 found 2: ``((x0-y0)^2)^(3/4)`` gave NaN; it is |x0 - y0|**1.5 (smoothness 1)."""
    k = quiet(lambda: Kernel.from_string("((x0-y0)^2)^(3/4)", dim=1))
    assert k.smoothness == 1
    X1, X2 = np.array([[0.3], [0.3], [0.3]]), np.array([[0.3], [0.3 + 1e-8], [-0.4]])
    np.testing.assert_allclose(np.diag(k(X1, X2)), [0.0, 1e-12, 0.7**1.5], rtol=1e-7)
    assert k(X1, X1)[0, 0] == 0.0
    with pytest.raises(NotDifferentiableError):
        k(X1, X2, dx=(0,), dy=(0,))


def test_fractional_power_of_euclidean_distance_in_three_dimensions():
    k = Kernel.from_string("exp(-((x0-y0)^2 + (x1-y1)^2 + (x2-y2)^2)^(3/4))", dim=3)
    assert k.smoothness == 1 and k.is_stationary
    with pytest.raises(NotDifferentiableError):
        k(np.zeros((1, 3)), dx=(2,), dy=(1,))


def test_r_squared_log_r_has_one_derivative_and_a_finite_value():
    """``r**2 log r``: the value at x = y is the limit 0 (not 0 * inf); no second derivative."""
    k = quiet(lambda: Kernel.from_string("(x0-y0)^2*log(abs(x0-y0))", dim=1))
    assert k.smoothness == 1
    X1, X2 = np.array([[0.3], [0.3], [0.3]]), np.array([[0.3], [0.3 + 1e-7], [1.0]])
    np.testing.assert_allclose(np.diag(k(X1, X2)), [0.0] + [sympy_value(k, (), (), a, b) for a, b in
                                                             zip(X1[1:], X2[1:])], rtol=1e-13)
    with pytest.raises(NotDifferentiableError):
        k(X1, X2, dx=(0,), dy=(0,))


def test_matern_smoothness_is_unchanged():
    for dim in (1, 3):
        assert [K.matern(dim, nu).smoothness for nu in (0.5, 1.5, 2.5)] == [0, 2, 4]
        assert K.matern(dim, 2.5, length_scale=[0.5] * dim, ard=True).smoothness == 4
        assert K.rbf(dim).smoothness == float("inf")
    assert (K.matern(2, 2.5) * K.rbf(2) + K.rational_quadratic(2)).smoothness == 4
    product = Kernel.from_string("exp(-abs(x0-y0))*(1 + sqrt(3)*abs(x1-y1))*exp(-sqrt(3)*abs(x1-y1))", dim=2)
    assert product.smoothness == 0


def test_smoothness_beyond_the_search_limit_is_not_claimed_infinite():
    """``|r|**11`` has no singular term below order 11: it is reported 10 times differentiable, not inf."""
    from kernelgen.symbolic.analysis import SMOOTHNESS_SEARCH_LIMIT

    k = quiet(lambda: Kernel.from_string("exp(-abs(x0-y0)^11)", dim=1))
    assert k.smoothness == SMOOTHNESS_SEARCH_LIMIT


def test_hyperparameter_exponent_of_a_distance_allows_no_derivative():
    k = Kernel.from_string("exp(-abs(x0-y0)^g)", dim=1, g=1.0)
    assert k.smoothness == 0
    assert k(np.array([[0.2]]))[0, 0] == 1.0


def test_vanishing_base_that_is_not_a_distance_gets_no_derivatives():
    """``(1 - exp(-r^2))^(3/2)`` is C^2 at x = y, but kernelgen has no exact branch for it: refused, named."""
    k = quiet(lambda: Kernel.from_string("(1 - exp(-(x0-y0)^2))^(3/2)", dim=1))
    assert k.prepared.analysis.coincident.smoothness == 2
    assert k.smoothness == 0
    with pytest.raises(NotDifferentiableError, match="no exact coincident-point evaluation"):
        k(np.zeros((1, 1)), dx=(0,), dy=(0,))
    assert k(np.zeros((1, 1)))[0, 0] == 0.0


@pytest.mark.parametrize(("text", "fragment"), [
    ("1/abs(x0-y0)", "divides by"),
    ("log(abs(x0-y0))", "infinite where x0 = y0"),
    ("exp(-abs(x0-y0))*log(abs(x0-y0)) + 2", "infinite where x0 = y0"),
    ("sin(x0-y0)/(x0-y0)", "divides by"),  # 0/0 as written: kernelgen would return NaN there
    ("exp(-1/(x0-y0)^2)", "divides by"),
    ("(x0-y0)^2/((x0-y0)^2 + (x1-y1)^2)", "divides by"),
])
def test_kernel_undefined_at_coincident_points_is_refused(text, fragment):
    with pytest.raises(InvalidKernelError, match=re.escape(fragment)):
        Kernel.from_string(text, dim=2 if "x1" in text else 1)


def test_antisymmetric_pole_is_refused():
    """Issue 7 found 4: ``1/(x0-y0)`` (infinite at x = y, and antisymmetric)."""
    with pytest.raises(InvalidKernelError):
        Kernel.from_string("1/(x0-y0)", dim=1)


# ------------------------------------------------------------- item 3: validity at construction
@pytest.mark.parametrize(("text", "dim", "hint"), [
    ("s*exp(-(x-y)^2/(2*l^2))", 1, "did you mean x0?"),
    ("exp(-(x0-y)^2)", 1, "did you mean y0?"),
    ("exp(-(x_0-y0)^2)", 1, "did you mean x0?"),
    ("exp(-(X0-y0)^2)", 1, "did you mean x0?"),
    ("exp(-(x0-y0)^2 - (x1-Y1)^2)", 2, "did you mean y1?"),
])
def test_hyperparameter_named_like_an_input_is_refused(text, dim, hint):
    """Issue 7 found 4: ``x`` and ``y`` silently became hyperparameters (a constant kernel)."""
    with pytest.raises(InvalidKernelError, match=re.escape(hint)) as info:
        Kernel.from_string(text, dim=dim)
    assert f"inputs are x0..x{dim - 1}, y0..y{dim - 1}" in str(info.value)


@pytest.mark.parametrize("text", ["exp(-x0^2)", "x0 + x0^2", "exp(-y0^2)"])
def test_kernel_of_one_argument_is_refused(text):
    with pytest.raises(InvalidKernelError, match="depends on"):
        Kernel.from_string(text, dim=1)


def test_constant_kernel_is_still_a_kernel():
    k = Kernel.from_string("c", dim=2, c=2.0)
    np.testing.assert_array_equal(k(np.zeros((2, 2))), 2.0)


@pytest.mark.parametrize("text", ["sin(x0-y0)", "x0*y0 + abs(x0-1) + x0", "x0*y0^2", "exp(-(x0-y0)^2)*x0"])
def test_asymmetric_kernel_is_refused_with_a_counterexample(text):
    """Issue 7 found 4: ``sin(x0-y0)`` and ``x0*y0 + abs(x0-1) + x0`` (passed a 5-point probe) were accepted."""
    with pytest.raises(InvalidKernelError, match=r"not symmetric: k\(x, y\) != k\(y, x\) at x0=") as info:
        Kernel.from_string(text, dim=1)
    # The counterexample in the message is real: evaluate the expression there independently.
    point = dict(re.findall(r"([xy]0)=(-?[0-9.e+-]+)", str(info.value)))
    f = sp.lambdify(sp.symbols("x0 y0"), sp.sympify(text.replace("^", "**")), modules="mpmath")
    a, b = float(point["x0"]), float(point["y0"])
    assert abs(f(a, b) - f(b, a)) > 1e-6


def test_asymmetric_sympy_expression_is_refused():
    a, b, ell = sp.symbols("a b ell")
    with pytest.raises(InvalidKernelError, match="not symmetric"):
        Kernel(sp.exp(-(a - b) ** 2 / ell**2) * a, x=[a], y=[b], hyperparameters={"ell": 2.0})


@pytest.mark.parametrize("text", [
    "exp(-(x0-y0)^2)", "cos(x0)*cos(y0) + sin(x0)*sin(y0)", "exp(-(x0^2 - 2*x0*y0 + y0^2))",
    "x0*y0 + exp(-abs(x0-y0))", "(1 + x0*y0)^2", "exp(-sin(x0-y0)^2)",
])
def test_symmetric_valid_kernel_constructs_without_warning(text):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Kernel.from_string(text, dim=1)


@pytest.mark.parametrize(("text", "dim"), [
    ("x0*y1 + x1*y0", 2),  # symmetric, indefinite
    ("exp(-abs(x0-y0)^3)", 1),  # gamma-exponential with gamma > 2
    ("1 - (x0-y0)^2", 1),
    ("(x0 + y0)^2", 1),
])
def test_not_positive_semidefinite_warns_but_builds(text, dim):
    with pytest.warns(NotPositiveDefiniteWarning, match="may not be positive semi-definite"):
        k = Kernel.from_string(text, dim=dim)
    assert k.dim == dim


def test_built_in_kernels_and_their_algebra_do_no_analysis_at_construction(monkeypatch):
    """Library kernels are valid by construction: no lambdify, no simplification, no probe."""
    import kernelgen.symbolic.kernel as kernel_module

    def forbidden(*args, **kwargs):
        raise AssertionError("analysis at construction of a built-in kernel")

    monkeypatch.setattr(sp, "lambdify", forbidden)
    monkeypatch.setattr(kernel_module, "analysis_of", forbidden)
    monkeypatch.setattr(kernel_module, "psd_problem", forbidden)
    for dim in (1, 3):
        parts = [K.rbf(dim), K.matern(dim, 2.5), K.rational_quadratic(dim), K.periodic(dim),
                 K.exp_sine_squared(dim), K.linear(dim), K.dot_product(dim), K.polynomial(dim), K.constant(dim)]
        k = parts[0] * parts[3] + parts[5]
        k = 2.0 * k + 0.5
        k = k**2 + sum(parts[1:])
        k = k.with_values(variance=0.7).rename(variance="amp").fix("amp")
    assert k.all_hyperparameter_names[0] == "amp"


def test_non_integer_power_of_a_built_in_kernel_is_probed():
    with pytest.warns(NotPositiveDefiniteWarning):
        K.dot_product(1) ** 1.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        K.rbf(2) ** 0.5  # exp(-r^2/4): still PSD, no warning
        K.matern(1, 0.5) ** 2


def test_exceptions_are_shared_and_importable_from_the_old_places():
    from kernelgen.symbolic import errors, parsing, prepared

    assert parsing.KernelParseError is errors.KernelParseError is kernelgen.KernelParseError
    assert prepared.NotDifferentiableError is errors.NotDifferentiableError is kernelgen.NotDifferentiableError
    assert kernelgen.InvalidKernelError is errors.InvalidKernelError
    assert kernelgen.NotPositiveDefiniteWarning is errors.NotPositiveDefiniteWarning
    for cls in (errors.KernelParseError, errors.InvalidKernelError, errors.NotDifferentiableError):
        assert issubclass(cls, ValueError)
    assert issubclass(errors.NotPositiveDefiniteWarning, UserWarning)


def test_absolute_value_of_an_input_is_evaluated_but_not_differentiated():
    """``|x0|`` is no distance: k itself is exact, derivatives are refused with a clear error (no printer crash)."""
    k = Kernel.from_string("abs(x0)*abs(y0)*exp(-(x0-y0)^2)", dim=1)
    X = np.array([[0.3], [-0.2]])
    np.testing.assert_allclose(k(X), [[0.09, 0.06 * np.exp(-0.25)], [0.06 * np.exp(-0.25), 0.04]], rtol=1e-15)
    with pytest.raises(NotDifferentiableError, match=re.escape("Abs(x0)")):
        k(X, dx=(0,))
    g = quiet(lambda: Kernel.from_string("exp(-abs(x0-l)*abs(y0-l))", dim=1))
    with pytest.raises(NotDifferentiableError, match="log-gradient with respect to l"):
        g(X, eval_gradient=True)


# ---------------------------------------------------------- fuzz findings (/work/coord/fuzz_findings.md)
def _pairs(dim: int, near: float, seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """A random pair, a pair at distance ``near`` along a random direction, and a coincident pair."""
    rng = np.random.default_rng(seed)
    a, b, c = rng.uniform(-0.8, 0.8, (3, dim))
    u = rng.normal(size=dim)
    X1 = np.array([a, c, c])
    X2 = np.array([b, c + near * u / np.linalg.norm(u), c])
    return X1, X2


def _check_against_sympy(k: Kernel, requests, X1, X2, rtol: float = 1e-11, skip_coincident: bool = False):
    for dx, dy in requests:
        got = np.diag(k(X1, X2, dx=dx, dy=dy))
        for i, (a, b) in enumerate(zip(X1, X2)):
            if skip_coincident and np.array_equal(a, b):
                continue
            want = sympy_value(k, dx, dy, a, b, dps=80)
            assert got[i] == pytest.approx(want, rel=rtol, abs=1e-300), (dx, dy, a, b)


@pytest.mark.parametrize(("text", "values"), [
    ("(s^2 + x0*y0)^1.5", {"s": 1.64}),
    ("(1 + x0^2)^1.5*(1 + y0^2)^1.5", {}),
    ("(1 + x0^2)^p*(1 + y0^2)^p*(s^2 + x0*y0)^2", {"p": 0.608, "s": 1.76}),
])
def test_fuzz_F1_input_dependent_power_bases_are_not_stationary(text, values):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotPositiveDefiniteWarning)
        k = Kernel.from_string(text, dim=1, **values)
    assert not k.is_stationary
    X1, X2 = np.array([[0.21], [0.3]]), np.array([[-0.57], [0.65]])
    _check_against_sympy(k, [((), (0,)), ((0,), (0,)), ((0,), ()), ((), (0, 0))], X1, X2, rtol=1e-12)


def test_fuzz_F2_rough_factor_times_non_stationary_factor_refuses_second_derivatives():
    k = Kernel.from_string("exp(-abs(x0-y0)^0.75/l)*cos(x0/a)*cos(y0/a)", dim=1, a=1.53, l=0.442)
    assert k.smoothness == 0
    x = np.array([[0.3]])
    for dx, dy in [((0, 0), ()), ((0,), (0,)), ((0,), ())]:
        with pytest.raises(NotDifferentiableError):
            k(x, x, dx=dx, dy=dy)
    X1, X2 = _pairs(1, 1e-9)
    _check_against_sympy(k, [((), ())], X1, X2, rtol=1e-13, skip_coincident=True)
    assert k(x, x)[0, 0] == pytest.approx(np.cos(0.3 / 1.53) ** 2, rel=1e-15)


def test_fuzz_F3_hyperparameter_exponent_gradient_at_coincident_points_is_its_limit():
    """``s*exp(-((x0-y0)^2)^(g/2))``: theta d/dtheta g -> |t|^g log|t| ... -> 0 at x = y (was NaN)."""
    k = Kernel.from_string("s*exp(-((x0 - y0)^2)^(g/2))", dim=1, s=2.89, g=0.374)
    assert k.smoothness == 0
    x = np.array([[0.4]])
    K0, G = k(x, x, eval_gradient=True)
    assert K0[0, 0] == pytest.approx(2.89, rel=1e-15)
    np.testing.assert_allclose(G[0, 0], [2.89, 0.0], rtol=1e-15, atol=0)
    with pytest.raises(NotDifferentiableError):
        k(x, x, dx=(0,))


def test_fuzz_F4_rough_in_one_coordinate_is_refused_not_nan():
    """Fuzz F4: d/dx1 was NaN at x = y. The rough factor is of x0 alone: derivatives along x0 are
    refused, along x1 they exist (per-direction rule) and are exact, at x = y and where x0 = y0 only."""
    k = Kernel.from_string("exp(-abs(x0 - y0)^0.5/l)*exp(-(x1 - y1)^2/(2*l1^2))", dim=2, l=0.41, l1=0.495)
    X = np.array([[0.2, -0.3]])
    with pytest.raises(NotDifferentiableError, match="along x0"):
        k(X, X, dx=(0,))
    assert k(X, X, dx=(1,))[0, 0] == 0.0
    Y = np.array([[0.2, 0.1]])  # x0 = y0: the branch of the rough factor
    t1 = -0.4
    want = -t1 / 0.495**2 * math.exp(-(t1**2) / (2 * 0.495**2))
    assert k(X, Y, dx=(1,))[0, 0] == pytest.approx(want, rel=1e-14)
    K0, G = k(X, X, eval_gradient=True)
    assert K0[0, 0] == 1.0 and np.all(G == 0.0)


def test_fuzz_F5_names_equal_after_nfkc_stay_two_hyperparameters():
    """``ℓ`` and ``l`` are different hyperparameters: generated locals are positional, not named."""
    a, b = sp.symbols("a b")
    ell = sp.Symbol("ℓ")
    left = Kernel(sp.exp(-((a - b) ** 2) / ell**2), x=[a], y=[b], hyperparameters={"ℓ": 0.3})
    k = left * K.rbf(1, length_scale=2.0, variance=None).rename(length_scale="l")
    x, y = np.array([[0.1]]), np.array([[0.35]])
    want = np.exp(-(0.25**2) / 0.09) * np.exp(-(0.25**2) / 8.0)
    assert k(x, y)[0, 0] == pytest.approx(want, rel=1e-14)
    _, G = k(x, y, eval_gradient=True)
    assert G[0, 0, 0] != pytest.approx(G[0, 0, 1])


@pytest.mark.parametrize("text", [
    "exp(-(x0 - y0)^2) + 1e-12*x0*y0^2", "tanh(x0)*y0", "exp(-(x0 - 2*y0)^2)", "1/(x0 - y0)^2",
    "abs(x0 - y0)^(-0.5)", "exp(-(x0-y0)^2)*cos(1/(x0 - y0))", "exp(-(x0 - y0)^2/(2*l^2))*cos(1/(x0 - y0))",
])
def test_fuzz_F6_S1_invalid_kernels_are_refused(text):
    with pytest.raises(InvalidKernelError):
        Kernel.from_string(text, dim=1)


@pytest.mark.parametrize("text", [
    "exp(-(x0-y0)^2 - (x1-y1)^2)/sqrt((x0-y0)^2+(x1-y1)^2)", "exp(-(x0-y0)^2) + log((x0-y0)^2 + (x1-y1)^2)",
])
def test_fuzz_F6_singular_in_two_dimensions_is_refused(text):
    with pytest.raises(InvalidKernelError):
        Kernel.from_string(text, dim=2)


def test_fuzz_F8_warped_distance_under_sqrt_is_a_radius():
    """``sqrt((w(x) - w(y))^2/l^2)`` with a polynomial warp: accurate and finite near and at x = y."""
    k = Kernel.from_string("exp(-sqrt((x0 + 0.3*x0^3 - (y0 + 0.3*y0^3))^2/l^2))", dim=1, l=0.4)
    assert k.smoothness == 0 and not k.is_stationary
    X1, X2 = np.array([[0.3 + 5e-10], [0.7], [0.3]]), np.array([[0.3], [-0.2], [0.3]])
    K0, G = k(X1, X2, eval_gradient=True)
    want = [sympy_value(k, (), (), a, b, dps=80) for a, b in zip(X1[:2], X2[:2])]
    np.testing.assert_allclose(np.diag(K0)[:2], want, rtol=1e-13)
    # theta d/dtheta l of exp(-|w(x) - w(y)|/l) = (|w(x) - w(y)|/l) k: reference by hand in mpmath.
    with mpmath.workdps(60):
        for i in range(2):
            w = lambda v: mpmath.mpf(v) + mpmath.mpf("0.3") * mpmath.mpf(v) ** 3  # noqa: E731
            r = abs(w(float(X1[i, 0])) - w(float(X2[i, 0]))) / mpmath.mpf(0.4)
            assert G[i, i, 0] == pytest.approx(float(r * mpmath.exp(-r)), rel=1e-12)
    assert K0[2, 2] == 1.0 and G[2, 2, 0] == 0.0
    with pytest.raises(NotDifferentiableError):
        k(X1, X2, dx=(0,))


def test_fuzz_F8_abs_of_a_non_polynomial_warp_is_refused_cleanly():
    k = Kernel.from_string("exp(-abs(sinh(x0) - sinh(y0))^0.5)", dim=1)
    X = np.array([[0.3], [0.3 + 1e-9], [-0.5]])
    np.testing.assert_allclose(np.diag(k(X, X[[0, 0, 1]])),
                               [1.0] + [sympy_value(k, (), (), a, b, dps=80) for a, b in zip(X[1:], X[[0, 1]])],
                               rtol=1e-6)  # the difference sinh(x) - sinh(y) carries the inputs' rounding
    with pytest.raises(NotDifferentiableError):
        k(X, X, dx=(0,))


def test_fuzz_F8_scaled_difference_is_a_difference():
    """``(ell*x0 - ell*y0)/l``: recognised as a multiple of x0 - y0 (a Matern 1/2), the kink refused."""
    k = Kernel.from_string("exp(-sqrt(((ell*x0 - ell*y0)/l)^2))", dim=1, ell=0.529, l=1.33)
    assert k.is_stationary and k.smoothness == 0
    with pytest.raises(NotDifferentiableError):
        k(np.zeros((1, 1)), dy=(0,))
    X1, X2 = np.array([[0.4 + 2.8e-10], [0.1]]), np.array([[0.4], [0.9]])
    _, G = k(X1, X2, eval_gradient=True)
    for i in range(2):
        r = 0.529 * abs(X1[i, 0] - X2[i, 0]) / 1.33
        np.testing.assert_allclose(G[i, i], [-r * np.exp(-r), r * np.exp(-r)], rtol=1e-9)


def test_fuzz_F9_quadratic_form_with_cross_terms_is_a_distance():
    k = Kernel.from_string("exp(-sqrt((x0-y0)^2 + (x0-y0)*(x1-y1) + (x1-y1)^2))", dim=2)
    assert k.smoothness == 0 and len(k.prepared.radii) == 1
    X = np.array([[0.3, -0.2]])
    assert k(X, X)[0, 0] == 1.0
    with pytest.raises(NotDifferentiableError):
        k(X, X, dx=(0,))
    # exp(-r**0.5) in a positive-definite metric times a linear kernel is PSD: no warning expected.
    v = Kernel.from_string("exp(-((x0-y0)^2 + (x1-y1)^2 + 0.3*(x0-y0)*(x1-y1))^0.25)*(s^2 + x0*y0 + x1*y1)", dim=2)
    X1, X2 = _pairs(2, 8.4e-6)
    _check_against_sympy(v, [((), ())], X1, X2, rtol=1e-13, skip_coincident=True)


def test_matern_of_a_correlated_quadratic_form_keeps_its_derivatives():
    """A Matern 5/2 of ``sqrt(t^T A t)`` (A positive definite, cross terms): two derivatives per argument,
    accurate near and at x = y."""
    q = "((x0-y0)^2 + 0.6*(x0-y0)*(x1-y1) + 2*(x1-y1)^2)"
    k = Kernel.from_string(f"(1 + sqrt(5*{q}) + 5*{q}/3)*exp(-sqrt(5*{q}))", dim=2)
    assert k.smoothness == 4
    X1, X2 = _pairs(2, 1e-7)
    reqs = [((0,), (1,)), ((0, 1), ()), ((1,), (0, 1)), ((0, 0), (1, 1))]
    _check_against_sympy(k, reqs, X1, X2, rtol=1e-10, skip_coincident=True)
    # At x = y: -d2k/dx0dy1 = 5/3 * A01 (A01 = 0.3), by the Taylor expansion 1 - (5/6) q + ...
    x = X1[2:]
    assert k(x, x, dx=(0,), dy=(1,))[0, 0] == pytest.approx(5 / 3 * 0.3, rel=1e-14)
