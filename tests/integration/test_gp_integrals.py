"""Posterior integrals and integral observations against independent references.

* The seed answer's ``If`` / ``IIf`` (C * RBF, hand-written) from a fitted model's alpha and
  hyperparameters vs ``predict_antiderivative``.
* Posterior integrals vs Gauss-Legendre quadrature of the posterior mean and covariance of f.
* Integral observations vs a brute-force model where each observation is a dense quadrature rule
  over point values (kernel written out in NumPy).
* The log marginal likelihood gradient with integral observations vs finite differences.
* Bad input, and the sign convention for reversed limits.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.special import erf
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, WhiteKernel
from sklearn.gaussian_process.kernels import ConstantKernel as C

from kernelgen import Antiderivative, GaussianProcess, kernels
from kernelgen.sklearn import predict_antiderivative as sk_antiderivative
from kernelgen.sklearn import predict_integral as sk_integral


def _data(n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, size=(n, 1))
    return X, np.sin(2 * np.pi * X[:, 0]) + 0.1 * rng.normal(size=n)


def _gauss_legendre(a: float, b: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.legendre.leggauss(n)
    return 0.5 * (b - a) * x + 0.5 * (a + b), 0.5 * (b - a) * w


# ---------------------------------------------------------------------- the seed's formulas
def _seed_antiderivatives(x: np.ndarray, X_train: np.ndarray, alpha: np.ndarray, c: float, ell: float
                          ) -> tuple[np.ndarray, np.ndarray]:
    """The seed answer's ``If`` and ``IIf`` predictions (up to its constants C1, C2)."""
    X = x.reshape(-1, 1) - X_train.reshape(1, -1)
    f = np.exp(-(X**2) / (2 * ell**2))
    If = np.sqrt(np.pi / 2) * ell * erf(X / (np.sqrt(2) * ell))
    IIf = X * If + ell**2 * f
    return c * If @ alpha, c * IIf @ alpha


def _check_seed(F1: np.ndarray, F2: np.ndarray, x: np.ndarray, a: float, If: np.ndarray, IIf: np.ndarray,
                If_a: float, IIf_a: float) -> None:
    # int_a^x f = If(x) - If(a); int_a^x int_a^s f = IIf(x) - IIf(a) - (x - a) If(a).
    first = If - If_a
    second = IIf - IIf_a - (x - a) * If_a
    assert np.max(np.abs(F1 - first)) <= 1e-10 * np.max(np.abs(first))
    assert np.max(np.abs(F2 - second)) <= 1e-10 * np.max(np.abs(second))


def test_seed_formulas_from_a_fitted_scikit_learn_model() -> None:
    X, y = _data(60)
    gpr = GaussianProcessRegressor(C(1.0, (1e-5, 1e5)) * RBF(0.1, (1e-5, 1e5)), alpha=1e-2, n_restarts_optimizer=2,
                                   random_state=0).fit(X, y)
    c, ell = gpr.kernel_.k1.constant_value, gpr.kernel_.k2.length_scale
    x, a = np.linspace(-0.2, 1.2, 15), 0.25
    If, IIf = _seed_antiderivatives(x, gpr.X_train_, gpr.alpha_, c, ell)
    If_a, IIf_a = (v[0] for v in _seed_antiderivatives(np.array([a]), gpr.X_train_, gpr.alpha_, c, ell))
    F1 = sk_antiderivative(gpr, x[:, None], anchor=a)
    F2 = sk_antiderivative(gpr, x[:, None], anchor=a, order=2)
    _check_seed(F1, F2, x, a, If, IIf, If_a, IIf_a)


def test_seed_formulas_from_a_fitted_gaussian_process() -> None:
    X, y = _data(40)
    gp = GaussianProcess(kernels.rbf(1, length_scale=0.2)).fit(X, y)
    c, ell = gp.kernel_.values["variance"], gp.kernel_.values["length_scale"]
    x, a = np.linspace(-0.2, 1.2, 15), -0.1
    If, IIf = _seed_antiderivatives(x, gp.X_train_, gp.alpha_, c, ell)
    If_a, IIf_a = (v[0] for v in _seed_antiderivatives(np.array([a]), gp.X_train_, gp.alpha_, c, ell))
    _check_seed(gp.predict_antiderivative(x[:, None], a), gp.predict_antiderivative(x[:, None], a, order=2),
                x, a, If, IIf, If_a, IIf_a)


# ---------------------------------------------------------------------- posterior vs quadrature of f
@pytest.mark.parametrize(("factory", "nodes", "tol"), [
    (lambda: kernels.rbf(1, length_scale=0.2), 80, 1e-10),
    (lambda: kernels.matern(1, 2.5, length_scale=0.2), 300, 1e-7),  # C^4 kink: Gauss-Legendre converges slowly
])
def test_posterior_integrals_match_quadrature_of_the_posterior(factory, nodes: int, tol: float) -> None:  # type: ignore[no-untyped-def]
    X, y = _data(30)
    gp = GaussianProcess(factory(), noise=1e-2, noise_bounds="fixed", optimizer=None).fit(X, y)
    for a, b in ((0.0, 1.0), (0.3, 0.32), (1.0, 0.4)):
        t, w = _gauss_legendre(a, b, nodes)
        mean, cov = gp.predict(t[:, None], return_cov=True)
        total, s = gp.predict_integral(a, b, return_std=True)
        assert total[0] == pytest.approx(w @ mean, rel=tol, abs=tol * 1e-3)
        assert s[0] == pytest.approx(np.sqrt(w @ cov @ w), rel=tol * 10, abs=1e-12)
    x = np.array([[0.2], [0.7], [-0.1]])
    F, sF = gp.predict_antiderivative(x, 0.05, return_std=True)
    for i, xi in enumerate(x[:, 0]):
        t, w = _gauss_legendre(0.05, xi, nodes)
        mean, cov = gp.predict(t[:, None], return_cov=True)
        assert F[i] == pytest.approx(w @ mean, rel=tol)
        assert sF[i] == pytest.approx(np.sqrt(w @ cov @ w), rel=10 * tol)


def test_box_integrals_in_two_inputs_match_quadrature() -> None:
    rng = np.random.default_rng(3)
    X = rng.uniform(0, 1, size=(40, 2))
    y = np.sin(3 * X[:, 0]) * np.cos(2 * X[:, 1])
    gp = GaussianProcess(kernels.rbf(2, length_scale=[0.4, 0.6]), noise=1e-3, noise_bounds="fixed",
                         optimizer=None).fit(X, y)
    lower, upper = np.array([[0.1, 0.2], [0.0, 0.0]]), np.array([[0.6, 0.5], [1.0, 1.0]])
    total, cov = gp.predict_integral(lower, upper, return_cov=True)
    rules = []
    for lo, up in zip(lower, upper):
        t0, w0 = _gauss_legendre(lo[0], up[0], 30)
        t1, w1 = _gauss_legendre(lo[1], up[1], 30)
        rules.append((np.array([[a, b] for a in t0 for b in t1]), np.outer(w0, w1).reshape(-1)))
    points = np.vstack([r[0] for r in rules])
    weights = np.zeros((2, points.shape[0]))
    weights[0, :900], weights[1, 900:] = rules[0][1], rules[1][1]
    mean, full = gp.predict(points, return_cov=True)
    np.testing.assert_allclose(total, weights @ mean, rtol=1e-10)
    np.testing.assert_allclose(cov, weights @ full @ weights.T, rtol=1e-9)


def test_joint_prediction_with_antiderivatives_beside_derivatives() -> None:
    X, y = _data(25)
    gp = GaussianProcess(kernels.rbf(1, length_scale=0.25), noise=1e-2, noise_bounds="fixed", optimizer=None).fit(X, y)
    x = np.array([[0.2], [0.55]])
    entries = [(), (0,), Antiderivative(0.0), Antiderivative(0.1, order=2)]
    mean, cov = gp.predict_joint(x, entries, cov="full")
    np.testing.assert_allclose(mean[:, 0], gp.predict(x), rtol=1e-12)
    np.testing.assert_allclose(mean[:, 1], gp.predict(x, deriv=(0,)), rtol=1e-12)
    np.testing.assert_allclose(mean[:, 2], gp.predict_antiderivative(x, 0.0), rtol=1e-12)
    F2, cov2 = gp.predict_antiderivative(x, 0.1, order=2, return_cov=True)
    np.testing.assert_allclose(mean[:, 3], F2, rtol=1e-12)
    np.testing.assert_allclose(cov[3::4, 3::4], cov2, rtol=1e-10)
    np.testing.assert_allclose(cov, cov.T, atol=1e-14)
    # cov(f(x), F(x')) by quadrature of the posterior covariance of f over [0, x'].
    t, w = _gauss_legendre(0.0, 0.55, 60)
    _, full = gp.predict(np.vstack([x, t[:, None]]), return_cov=True)
    assert cov[0, 6] == pytest.approx(full[0, 2:] @ w, rel=1e-9)
    point_mean, point_cov = gp.predict_joint(x, entries, cov="point")
    np.testing.assert_allclose(point_cov[1], cov[4:, 4:], rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(point_mean, mean)


# ---------------------------------------------------------------------- integral observations
def _rbf(a: np.ndarray, b: np.ndarray, variance: float, ell: np.ndarray) -> np.ndarray:
    d = (a[:, None, :] - b[None, :, :]) / ell
    return variance * np.exp(-0.5 * np.sum(d * d, axis=2))


def _brute_force(points: np.ndarray, y: np.ndarray, lower: np.ndarray, upper: np.ndarray, values: np.ndarray,
                 test: np.ndarray, variance: float, ell: np.ndarray, noise: float, nodes: int = 24
                 ) -> tuple[np.ndarray, np.ndarray, float]:
    """Each box integral replaced by a tensor Gauss-Legendre rule over point values of f."""
    d = points.shape[1] if points.size else lower.shape[1]
    rows, cols, entries = [], [], []
    rule_points = [points]
    offset = points.shape[0]
    for i in range(points.shape[0]):
        rows.append(i), cols.append(i), entries.append(1.0)
    for k, (lo, up) in enumerate(zip(lower, upper)):
        grids = [_gauss_legendre(lo[j], up[j], nodes) for j in range(d)]
        mesh = np.stack(np.meshgrid(*[g[0] for g in grids], indexing="ij"), -1).reshape(-1, d)
        weight = np.prod(np.stack(np.meshgrid(*[g[1] for g in grids], indexing="ij"), -1).reshape(-1, d), axis=1)
        rule_points.append(mesh)
        for j in range(mesh.shape[0]):
            rows.append(points.shape[0] + k), cols.append(offset + j), entries.append(weight[j])
        offset += mesh.shape[0]
    allpoints = np.vstack(rule_points)
    B = np.zeros((points.shape[0] + lower.shape[0], allpoints.shape[0]))
    B[rows, cols] = entries
    K = B @ _rbf(allpoints, allpoints, variance, ell) @ B.T + noise * np.eye(B.shape[0])
    target = np.concatenate([y, values])
    cross = _rbf(test, allpoints, variance, ell) @ B.T
    L = np.linalg.cholesky(K)
    alpha = np.linalg.solve(L.T, np.linalg.solve(L, target))
    V = np.linalg.solve(L, cross.T)
    var = variance - np.sum(V * V, axis=0)
    lml = -0.5 * target @ alpha - np.sum(np.log(np.diag(L))) - 0.5 * target.size * np.log(2 * np.pi)
    return cross @ alpha, var, lml


def _bins(n: int, a: float = 0.0, b: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    edges = np.linspace(a, b, n + 1)
    lo, up = edges[:-1], edges[1:]
    return lo, up, (np.cos(2 * np.pi * lo) - np.cos(2 * np.pi * up)) / (2 * np.pi)


def test_integral_observations_match_a_brute_force_quadrature_model() -> None:
    X, y = _data(8, seed=2)
    lo, up, values = _bins(10)
    gp = GaussianProcess(kernels.rbf(1, length_scale=0.3, variance=1.4), noise=1e-4, noise_bounds="fixed",
                         optimizer=None).fit(X, y, integrals=(lo, up, values))
    test = np.linspace(-0.1, 1.1, 13)[:, None]
    mean, std = gp.predict(test, return_std=True)
    ref_mean, ref_var, ref_lml = _brute_force(X, y, lo[:, None], up[:, None], values, test, 1.4, np.array([0.3]), 1e-4)
    np.testing.assert_allclose(mean, ref_mean, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(std, np.sqrt(ref_var), rtol=1e-8)
    assert gp.log_marginal_likelihood_value_ == pytest.approx(ref_lml, rel=1e-10)


def test_box_observations_in_two_inputs_match_brute_force() -> None:
    rng = np.random.default_rng(5)
    lower = rng.uniform(0, 0.8, size=(12, 2))
    upper = lower + rng.uniform(0.05, 0.3, size=(12, 2))
    values = rng.normal(size=12) * np.prod(upper - lower, axis=1)
    ell = np.array([0.5, 0.8])
    gp = GaussianProcess(kernels.rbf(2, length_scale=list(ell)), noise=1e-5, noise_bounds="fixed",
                         optimizer=None).fit(np.empty((0, 2)), np.empty(0), integrals=(lower, upper, values))
    test = rng.uniform(0, 1, size=(7, 2))
    mean, std = gp.predict(test, return_std=True)
    ref_mean, ref_var, _ = _brute_force(np.empty((0, 2)), np.empty(0), lower, upper, values, test, 1.0, ell, 1e-5,
                                        nodes=12)
    np.testing.assert_allclose(mean, ref_mean, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(std, np.sqrt(ref_var), rtol=1e-8)


def test_f_is_recovered_from_twenty_bin_totals() -> None:
    lo, up, values = _bins(20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the optimizer converges, no jitter needed
        gp = GaussianProcess(kernels.rbf(1, length_scale=0.2), noise=1e-6).fit(
            np.empty((0, 1)), np.empty(0), integrals=(lo, up, values))
    x = np.linspace(0.02, 0.98, 97)[:, None]
    rmse = np.sqrt(np.mean((gp.predict(x) - np.sin(2 * np.pi * x[:, 0])) ** 2))
    assert rmse < 1e-3
    assert gp.predict_integral(0.0, 1.0)[0] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("factory", [lambda: kernels.matern(1, 2.5, length_scale=0.3),
                                     lambda: kernels.rational_quadratic(1, length_scale=0.3, alpha=2.0)])
def test_lml_gradient_with_integral_observations(factory) -> None:  # type: ignore[no-untyped-def]
    X, y = _data(10, seed=4)
    lo, up, values = _bins(6)
    deriv = [()] * 8 + [(0,)] * 2
    gp = GaussianProcess(factory(), noise=1e-2, optimizer=None).fit(X, y, deriv=deriv, integrals=(lo, up, values))
    theta = gp.theta_ + np.array([0.1, -0.2, 0.05, 0.3][: gp.theta_.size])
    _, grad = gp.log_marginal_likelihood(theta, eval_gradient=True)
    for g in range(theta.size):
        h = 1e-6
        up_, down = theta.copy(), theta.copy()
        up_[g] += h
        down[g] -= h
        fd = (gp.log_marginal_likelihood(up_) - gp.log_marginal_likelihood(down)) / (2 * h)
        assert grad[g] == pytest.approx(fd, rel=1e-6, abs=1e-7)


def test_hyperparameters_are_fitted_from_integral_observations() -> None:
    lo, up, values = _bins(15, 0.0, 2.0)
    X = np.array([[0.5], [1.5]])
    gp = GaussianProcess(kernels.matern(1, 2.5, length_scale=1.0), noise=1e-3).fit(
        X, np.sin(2 * np.pi * X[:, 0]), integrals=(lo, up, values))
    assert gp.kernel_.values["length_scale"] < 0.9  # moved from the start towards the period's scale
    lml, grad = gp.log_marginal_likelihood(eval_gradient=True)
    assert lml == pytest.approx(gp.log_marginal_likelihood_value_)
    assert np.all(np.abs(grad) < 1e-2 * max(1.0, abs(lml)))  # an optimum of the marginal likelihood


# ---------------------------------------------------------------------- scikit-learn, normalize_y
def test_scikit_learn_integrals_with_normalize_y_and_white_noise() -> None:
    X, y = _data(40)
    y = y + 3.0  # a mean for normalize_y to shift
    gpr = GaussianProcessRegressor(C(1.0) * RBF(0.2) + WhiteKernel(0.01), normalize_y=True, random_state=0).fit(X, y)
    noise = gpr.kernel_.k2.noise_level * gpr._y_train_std**2  # predict scales the white noise too
    for a, b in ((0.0, 1.0), (0.7, 0.2)):
        t, w = _gauss_legendre(a, b, 80)
        mean, cov = gpr.predict(t[:, None], return_cov=True)
        cov -= noise * np.eye(t.size)  # the latent f: WhiteKernel is observation noise
        total, s = sk_integral(gpr, a, b, return_std=True)
        assert total[0] == pytest.approx(w @ mean, rel=1e-10)
        assert s[0] == pytest.approx(np.sqrt(w @ cov @ w), rel=1e-8)
    x = np.array([[0.3], [0.9]])
    F, sF = sk_antiderivative(gpr, x, anchor=0.1, return_std=True)
    F2 = sk_antiderivative(gpr, x, anchor=0.1, order=2)
    for i, xi in enumerate(x[:, 0]):
        t, w = _gauss_legendre(0.1, xi, 80)
        mean, cov = gpr.predict(t[:, None], return_cov=True)
        cov -= noise * np.eye(t.size)
        assert F[i] == pytest.approx(w @ mean, rel=1e-10)
        assert sF[i] == pytest.approx(np.sqrt(w @ cov @ w), rel=1e-8)
        assert F2[i] == pytest.approx(w @ ((xi - t) * mean), rel=1e-10)


def test_normalize_y_with_integral_observations_only() -> None:
    lo, up, values = _bins(12, 0.0, 1.5)
    values = values + 2.0 * (up - lo)  # f = sin(2 pi x) + 2
    gp = GaussianProcess(kernels.rbf(1, length_scale=0.2), noise=1e-6, noise_bounds="fixed", normalize_y=True,
                         optimizer=None).fit(np.empty((0, 1)), np.empty(0), integrals=(lo, up, values))
    # The documented policy: statistics of the bin averages; integrals shifted by mean * volume.
    volume = up - lo
    m, s = np.sum(values) / np.sum(volume), np.std(values / volume)
    assert gp.y_train_mean_ == pytest.approx(m) and gp.y_train_std_ == pytest.approx(s)
    x = np.linspace(-0.1, 1.6, 9)[:, None]
    ref_mean, ref_var, _ = _brute_force(np.empty((0, 1)), np.empty(0), lo[:, None], up[:, None],
                                        (values - m * volume) / s, x, 1.0, np.array([0.2]), 1e-6)
    mean, std = gp.predict(x, return_std=True)
    np.testing.assert_allclose(mean, ref_mean * s + m, rtol=1e-8)
    np.testing.assert_allclose(std, np.sqrt(ref_var) * s, rtol=1e-7)
    t, w = _gauss_legendre(0.2, 0.9, 60)
    assert gp.predict_integral(0.2, 0.9)[0] == pytest.approx(w @ gp.predict(t[:, None]), rel=1e-10)
    F2 = gp.predict_antiderivative(np.array([[0.9]]), 0.2, order=2)
    assert F2[0] == pytest.approx(w @ ((0.9 - t) * gp.predict(t[:, None])), rel=1e-10)


# ---------------------------------------------------------------------- bad input and orientation
@pytest.fixture(scope="module")
def fitted() -> GaussianProcess:
    X, y = _data(20)
    gp = GaussianProcess(kernels.rbf(1, length_scale=0.25), noise=1e-2, noise_bounds="fixed", optimizer=None)
    return gp.fit(X, y)


def test_reversed_limits_follow_the_sign_convention(fitted: GaussianProcess) -> None:
    forward, s1 = fitted.predict_integral(0.1, 0.8, return_std=True)
    backward, s2 = fitted.predict_integral(0.8, 0.1, return_std=True)
    assert backward[0] == pytest.approx(-forward[0], rel=1e-14)
    assert s2[0] == pytest.approx(s1[0], rel=1e-12)
    # F(x) = int_a^x f is -int_x^a f below the anchor.
    assert fitted.predict_antiderivative([[0.1]], 0.8)[0] == pytest.approx(-forward[0], rel=1e-14)


@pytest.mark.parametrize(("call", "match"), [
    (lambda gp: gp.predict_integral(np.nan, 1.0), "lower contains NaN"),
    (lambda gp: gp.predict_integral([0.0, 0.1], [1.0]), "same shape"),
    (lambda gp: gp.predict_integral(np.zeros((2, 2)), np.ones((2, 2))), r"shape \(m, 1\)"),
    (lambda gp: gp.predict_antiderivative([[0.5]], 0.0, order=3), "order must be 1 or 2"),
    (lambda gp: gp.predict_antiderivative([[0.5]], 0.0, dim=1), r"dim must be an integer in \[0, 1\)"),
    (lambda gp: gp.predict_antiderivative([[0.5]], np.inf), "anchor must be a finite number"),
    (lambda gp: gp.predict_antiderivative([[np.nan]], 0.0), "NaN"),
    (lambda gp: gp.predict_joint([[0.5]], [Antiderivative(0.0, dim=2)]), r"dim must be an integer in \[0, 1\)"),
])
def test_bad_input_gets_a_clear_error(fitted: GaussianProcess, call, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=match):
        call(fitted)


@pytest.mark.parametrize(("integrals", "match"), [
    ((np.array([0.0, np.nan]), np.array([1.0, 2.0]), np.array([1.0, 1.0])), "integrals lower contains NaN"),
    ((np.array([0.0, 1.0]), np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0])), "same shape"),
    ((np.array([0.0, 1.0]), np.array([1.0, 2.0]), np.array([1.0])), "integrals values must have shape"),
    ((np.array([0.0]), np.array([1.0])), r"integrals must be a tuple \(lower, upper, values\)"),
    ((np.array([0.0]), np.array([1.0]), np.array([np.inf])), "values contain NaN"),
])
def test_bad_integral_observations_get_a_clear_error(integrals, match: str) -> None:  # type: ignore[no-untyped-def]
    gp = GaussianProcess(kernels.rbf(1), optimizer=None)
    with pytest.raises(ValueError, match=match):
        gp.fit(np.empty((0, 1)), np.empty(0), integrals=integrals)
