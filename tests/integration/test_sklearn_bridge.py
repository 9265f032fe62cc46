"""SymbolicKernel inside GaussianProcessRegressor, and predict_derivative / predict_gradient
against central finite differences of the fitted regressor's own predictions."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ExpSineSquared, Matern, RationalQuadratic, WhiteKernel
from sklearn.gaussian_process.kernels import ConstantKernel as C

from kernelgen.sklearn import from_sklearn, parameter_map, predict_derivative, predict_gradient

rng = np.random.RandomState(3)
X1 = np.sort(rng.uniform(0, 4, 25))[:, None]
Y1 = np.sin(2.0 * X1[:, 0]) + 0.5 * X1[:, 0] + 0.05 * rng.normal(size=25) + 4.0
XS = np.linspace(0.3, 3.7, 6)[:, None]


def test_gpr_fit_matches_native():
    native = C(1.0) * RBF(1.0) + WhiteKernel(0.1)
    g0 = GaussianProcessRegressor(native, normalize_y=True, random_state=0).fit(X1, Y1)
    g1 = GaussianProcessRegressor(from_sklearn(native, dim=1), normalize_y=True, random_state=0).fit(X1, Y1)
    names = parameter_map(native, dim=1)
    fitted0 = dict(zip(names.values(), np.exp(g0.kernel_.theta)))
    fitted1 = {h.name: getattr(g1.kernel_, h.name) for h in g1.kernel_.hyperparameters}
    for n in fitted0:
        assert_allclose(fitted1[n], fitted0[n], rtol=1e-6)
    assert_allclose(g1.log_marginal_likelihood_value_, g0.log_marginal_likelihood_value_, rtol=1e-10)
    m0, s0 = g0.predict(XS, return_std=True)
    m1, s1 = g1.predict(XS, return_std=True)
    assert_allclose(m1, m0, rtol=1e-8)
    assert_allclose(s1, s0, rtol=1e-6)
    K0, G0 = g0.kernel_(X1, eval_gradient=True)
    K1, G1 = g1.kernel_(X1, eval_gradient=True)
    assert_allclose(K1, K0, rtol=1e-9)
    assert_allclose(G1, G0, rtol=1e-8, atol=1e-12)


def test_gpr_ard_matches_native():
    X = rng.uniform(-2, 2, (20, 2))
    y = np.sin(X[:, 0]) * np.cos(0.5 * X[:, 1])
    native = C(1.0) * RBF([1.0, 1.0])
    g0 = GaussianProcessRegressor(native, alpha=1e-6, random_state=0).fit(X, y)
    g1 = GaussianProcessRegressor(from_sklearn(native), alpha=1e-6, random_state=0).fit(X, y)
    assert_allclose(g1.kernel_.theta, g0.kernel_.theta, rtol=1e-5, atol=1e-6)
    assert_allclose(g1.predict(X[:5] + 0.1), g0.predict(X[:5] + 0.1), rtol=1e-6, atol=1e-8)


FIXED = {
    "rbf": C(2.0) * RBF(0.7),
    "matern32": C(1.5) * Matern(0.8, nu=1.5),
    "matern52": C(1.5) * Matern(0.8, nu=2.5),
    "rq": RationalQuadratic(0.7, 1.5),
    "periodic": ExpSineSquared(1.0, 3.0),
}


def _fd_checks(gpr, noise: float, deriv_tol_var: float) -> None:
    # Mean: central differences of gpr.predict.
    h = 1e-5
    fd = (gpr.predict(XS + h) - gpr.predict(XS - h)) / (2 * h)
    mean, std = predict_derivative(gpr, XS, (0,), return_std=True)
    assert_allclose(mean, fd, rtol=1e-6, atol=1e-6 * np.abs(fd).max())
    # Variance: second differences of the joint covariance of f at x +- h. scikit-learn's
    # return_cov adds WhiteKernel noise on its diagonal: that is observation noise, removed here.
    h = 1e-3
    for i, x in enumerate(XS[:, 0]):
        pts = np.array([[x + h], [x - h]])
        _, cov = gpr.predict(pts, return_cov=True)
        cov = cov - noise * np.eye(2)
        var_fd = (cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]) / (4 * h * h)
        assert_allclose(std[i] ** 2, var_fd, rtol=deriv_tol_var)
    # return_cov agrees with return_std, and predict_gradient with predict_derivative in 1-D.
    _, cov = predict_derivative(gpr, XS, (0,), return_cov=True)
    assert_allclose(np.sqrt(np.diag(cov)), std, rtol=1e-10)
    g, gcov = predict_gradient(gpr, XS, return_cov=True)
    assert_allclose(g[:, 0], mean, rtol=1e-12)
    assert_allclose(np.sqrt(gcov[:, 0, 0]), std, rtol=1e-10)


@pytest.mark.parametrize("normalize_y", [False, True])
@pytest.mark.parametrize("name", list(FIXED))
def test_predict_derivative_vs_finite_differences(name, normalize_y):
    gpr = GaussianProcessRegressor(FIXED[name], alpha=1e-2, optimizer=None, normalize_y=normalize_y).fit(X1, Y1)
    # Matern 3/2: the covariance has an |r|^3 term, so the second difference is only O(h) accurate.
    _fd_checks(gpr, 0.0, 2e-2 if name == "matern32" else 1e-4)


@pytest.mark.parametrize("normalize_y", [False, True])
def test_predict_derivative_composite_with_white(normalize_y):
    # alpha bounded: at alpha -> 1e5 the RQ power loses ~1e-11 relative precision (in scikit-learn too),
    # which finite differences of predict cannot resolve.
    kernel = C(1.0) * RBF(1.0) + C(0.1) * RationalQuadratic(0.5, 2.0, alpha_bounds=(0.1, 10.0)) + WhiteKernel(0.05)
    gpr = GaussianProcessRegressor(kernel, normalize_y=normalize_y, random_state=0).fit(X1, Y1)
    noise = gpr.kernel_.k2.noise_level * (gpr._y_train_std ** 2 if normalize_y else 1.0)
    _fd_checks(gpr, float(np.squeeze(noise)), 1e-4)
    # Order 0: same mean as predict; the std leaves out the white noise.
    m, s = predict_derivative(gpr, XS, (), return_std=True)
    m0, s0 = gpr.predict(XS, return_std=True)
    assert_allclose(m, m0, rtol=1e-10)
    assert_allclose(s ** 2 + float(np.squeeze(noise)), s0 ** 2, rtol=1e-8)


def test_second_derivative_and_gradient_2d():
    X = rng.uniform(-2, 2, (30, 2))
    y = np.sin(X[:, 0]) * np.cos(0.5 * X[:, 1]) + 3
    gpr = GaussianProcessRegressor(C(1.0) * RBF([1.0, 1.5]), alpha=1e-4, optimizer=None, normalize_y=True).fit(X, y)
    P = rng.uniform(-1.5, 1.5, (4, 2))
    h = 1e-3
    e0 = np.array([h, 0.0])
    fd2 = (gpr.predict(P + e0) - 2 * gpr.predict(P) + gpr.predict(P - e0)) / h**2
    assert_allclose(predict_derivative(gpr, P, (0, 0)), fd2, rtol=1e-4, atol=1e-5)
    grad = predict_gradient(gpr, P)
    for i in range(2):
        e = np.zeros(2)
        e[i] = 1e-5
        assert_allclose(grad[:, i], (gpr.predict(P + e) - gpr.predict(P - e)) / 2e-5, rtol=1e-6, atol=1e-7)


def test_multi_target_and_not_fitted():
    from sklearn.exceptions import NotFittedError

    Y2 = np.column_stack([Y1, 2 * Y1 + 1])
    gpr = GaussianProcessRegressor(FIXED["rbf"], alpha=1e-2, optimizer=None, normalize_y=True).fit(X1, Y2)
    mean, std = predict_derivative(gpr, XS, (0,), return_std=True)
    assert mean.shape == (6, 2) and std.shape == (6, 2)
    assert_allclose(mean[:, 1], 2 * mean[:, 0], rtol=1e-8)
    with pytest.raises(NotFittedError):
        predict_derivative(GaussianProcessRegressor(FIXED["rbf"]), XS)
