"""Integrals with the everyday features: several targets, noise per type, alpha, scikit-learn kernels.

References are independent: each target fitted on its own, the same model written with a plain
noise variance, and Gauss-Legendre quadrature of scikit-learn's own predictions.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, WhiteKernel
from sklearn.gaussian_process.kernels import ConstantKernel as C

from kernelgen import Antiderivative, GaussianProcess, kernels
from kernelgen.sklearn import predict_antiderivative as sk_antiderivative
from kernelgen.sklearn import predict_integral as sk_integral


def _targets(n: int = 30, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, size=(n, 1))
    Y = np.column_stack([np.sin(2 * np.pi * X[:, 0]), np.cos(3 * X[:, 0]) + 2.0]) + 0.05 * rng.normal(size=(n, 2))
    return X, Y


def _fixed(**kw: object) -> GaussianProcess:
    return GaussianProcess(kernels.rbf(1, length_scale=0.3), noise=1e-2, noise_bounds="fixed", optimizer=None, **kw)


def _gauss_legendre(a: float, b: float, n: int = 80) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.legendre.leggauss(n)
    return 0.5 * (b - a) * x + 0.5 * (a + b), 0.5 * (b - a) * w


@pytest.mark.parametrize("normalize_y", [False, True])
def test_several_targets_integrate_column_by_column(normalize_y: bool) -> None:
    X, Y = _targets()
    gp = _fixed(normalize_y=normalize_y).fit(X, Y)
    lower, upper = np.array([0.0, 0.2]), np.array([1.0, 0.5])
    x = np.array([[0.3], [0.8]])
    total, std = gp.predict_integral(lower, upper, return_std=True)
    F2, cov = gp.predict_antiderivative(x, 0.1, order=2, return_cov=True)
    joint, _ = gp.predict_joint(x, [(), Antiderivative(0.1)], cov="diag")
    assert total.shape == std.shape == (2, 2) and F2.shape == (2, 2) and cov.shape == (2, 2, 2)
    for t in range(2):
        one = _fixed(normalize_y=normalize_y).fit(X, Y[:, t])
        ref, ref_std = one.predict_integral(lower, upper, return_std=True)
        np.testing.assert_allclose(total[:, t], ref, rtol=1e-12)
        np.testing.assert_allclose(std[:, t], ref_std, rtol=1e-12)
        ref2, ref_cov = one.predict_antiderivative(x, 0.1, order=2, return_cov=True)
        np.testing.assert_allclose(F2[:, t], ref2, rtol=1e-12)
        np.testing.assert_allclose(cov[..., t], ref_cov, rtol=1e-10)
        np.testing.assert_allclose(joint[:, 1, t], one.predict_antiderivative(x, 0.1), rtol=1e-12)


def test_integral_observations_need_one_target() -> None:
    X, Y = _targets()
    with pytest.raises(ValueError, match="one target"):
        _fixed().fit(X, Y, integrals=(np.array([0.0]), np.array([1.0]), np.array([0.0])))


def test_a_noise_dict_is_refused_with_integral_observations() -> None:
    X, Y = _targets()
    gp = GaussianProcess(kernels.rbf(1), noise={(): 1e-2}, optimizer=None)
    with pytest.raises(ValueError, match="noise must be one variance"):
        gp.fit(X, Y[:, 0], integrals=(np.array([0.0]), np.array([1.0]), np.array([0.0])))


def test_alpha_covers_the_integral_observations() -> None:
    X, Y = _targets(12)
    edges = np.linspace(0, 1, 6)
    values = (np.cos(2 * np.pi * edges[:-1]) - np.cos(2 * np.pi * edges[1:])) / (2 * np.pi)
    integrals = (edges[:-1], edges[1:], values)
    plain = _fixed().fit(X, Y[:, 0], integrals=integrals)
    known = GaussianProcess(kernels.rbf(1, length_scale=0.3), noise=0.0, noise_bounds="fixed", optimizer=None,
                            alpha=np.full(12 + 5, 1e-2)).fit(X, Y[:, 0], integrals=integrals)
    x = np.linspace(0, 1, 7)[:, None]
    np.testing.assert_allclose(known.predict(x), plain.predict(x), rtol=1e-12)
    assert known.log_marginal_likelihood_value_ == pytest.approx(plain.log_marginal_likelihood_value_, rel=1e-12)
    with pytest.raises(ValueError, match="alpha must be a float or have one entry per observation"):
        GaussianProcess(kernels.rbf(1), alpha=np.full(12, 1e-2), optimizer=None).fit(X, Y[:, 0], integrals=integrals)


def test_a_white_kernel_is_the_noise_of_integral_observations() -> None:
    X, Y = _targets(12)
    edges = np.linspace(0, 1, 6)
    values = (np.cos(2 * np.pi * edges[:-1]) - np.cos(2 * np.pi * edges[1:])) / (2 * np.pi)
    kernel = C(1.0, "fixed") * RBF(0.3, "fixed") + WhiteKernel(1e-2, "fixed")
    sk = GaussianProcess(kernel, optimizer=None).fit(X, Y[:, 0], integrals=(edges[:-1], edges[1:], values))
    plain = _fixed().fit(X, Y[:, 0], integrals=(edges[:-1], edges[1:], values))
    np.testing.assert_allclose(sk.predict_integral(0.1, 0.9), plain.predict_integral(0.1, 0.9), rtol=1e-12)
    assert sk.log_marginal_likelihood_value_ == pytest.approx(plain.log_marginal_likelihood_value_, rel=1e-12)


def test_scikit_learn_several_targets() -> None:
    X, Y = _targets()
    gpr = GaussianProcessRegressor(C(1.0) * RBF(0.3) + WhiteKernel(1e-2), normalize_y=True).fit(X, Y)
    noise = gpr.kernel_.k2.noise_level * gpr._y_train_std**2
    total, std = sk_integral(gpr, 0.1, 0.7, return_std=True)
    F = sk_antiderivative(gpr, np.array([[0.7]]), 0.1)
    t, w = _gauss_legendre(0.1, 0.7)
    mean, cov = gpr.predict(t[:, None], return_cov=True)
    assert total.shape == std.shape == F.shape == (1, 2)
    for c in range(2):
        latent = cov[..., c] - noise[c] * np.eye(t.size)
        assert total[0, c] == pytest.approx(w @ mean[:, c], rel=1e-10)
        assert F[0, c] == pytest.approx(w @ mean[:, c], rel=1e-10)
        assert std[0, c] == pytest.approx(np.sqrt(w @ latent @ w), rel=1e-8)


@pytest.mark.parametrize(("call", "match"), [
    (lambda g: sk_antiderivative(g, [[0.5]], 0.0, order=0), "order must be 1 or 2"),
    (lambda g: sk_antiderivative(g, [[0.5]], 0.0, dim=3), r"dim must be an integer in \[0, 1\)"),
    (lambda g: sk_integral(g, [0.0, np.nan], [1.0, 1.0]), "lower contains NaN"),
    (lambda g: sk_integral(g, [0.0, 0.1], [1.0]), "same shape"),
])
def test_scikit_learn_bad_input(call, match: str) -> None:  # type: ignore[no-untyped-def]
    X, Y = _targets()
    gpr = GaussianProcessRegressor(C(1.0) * RBF(0.3), optimizer=None).fit(X, Y[:, 0])
    with pytest.raises(ValueError, match=match):
        call(gpr)
