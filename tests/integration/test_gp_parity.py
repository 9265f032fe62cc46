"""scikit-learn parity of GaussianProcess (issue 11): sampling, several targets, alpha, noise per
derivative type, scikit-learn kernels, and errors that name the user's argument.

References: ``GaussianProcessRegressor`` (alpha arrays, several targets, its LML gradient), a NumPy
log marginal likelihood assembled from the closed-form RBF derivative covariances (noise per
type), per-target fits, Monte-Carlo moments against ``predict``, finite differences of joint draws.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, Matern, WhiteKernel
from sklearn.gaussian_process.kernels import ConstantKernel as C

from kernelgen import GaussianProcess, NotDifferentiableError, kernels
from kernelgen.sklearn import predict_derivative

SF2, ELL = 1.3, 0.35


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(11)


def data(rng: np.random.Generator, n: int = 30, targets: int = 0) -> tuple[np.ndarray, np.ndarray]:
    X = rng.uniform(0, 2, size=(n, 1))
    y = np.sin(3 * X[:, 0]) + 0.05 * rng.standard_normal(n)
    if targets:
        y = np.column_stack([y * (j + 1) + 2 * j + 0.05 * rng.standard_normal(n) for j in range(targets)])
    return X, y


def rbf() -> object:
    return kernels.rbf(1, length_scale=ELL, variance=SF2)


# ---------------------------------------------------------------------- sample_y, sample_joint
def _assert_moments(draws: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> None:
    """Sample mean and covariance within 5 Monte-Carlo standard errors of the exact moments."""
    N = draws.shape[1]
    sd = np.sqrt(np.clip(np.diag(cov), 0, None))
    assert np.all(np.abs(draws.mean(axis=1) - mean) <= 5 * sd / np.sqrt(N) + 1e-12)
    var_of_cov = (np.outer(sd**2, sd**2) + cov**2) / N
    assert np.all(np.abs(np.cov(draws) - cov) <= 5 * np.sqrt(var_of_cov) + 1e-12)


def test_sample_y_moments_match_predict(rng: np.random.Generator) -> None:
    X, y = data(rng)
    gp = GaussianProcess(rbf(), noise=1e-2, optimizer=None).fit(X, y)
    Xs = np.array([[0.1], [0.5], [0.55], [1.7]])
    for deriv in [(), (0,), (0, 0)]:
        draws = gp.sample_y(Xs, n_samples=20000, random_state=1, deriv=deriv)
        assert draws.shape == (4, 20000)
        mean, cov = gp.predict(Xs, deriv=deriv, return_cov=True)
        _assert_moments(draws, mean, cov)
    # scikit-learn's default random_state=0: the same draws on every call.
    assert_allclose(gp.sample_y(Xs, 3), gp.sample_y(Xs, 3))
    assert gp.sample_y(Xs).shape == (4, 1)


def test_sample_joint_moments_and_consistency(rng: np.random.Generator) -> None:
    X, y = data(rng)
    gp = GaussianProcess(rbf(), noise=1e-2, optimizer=None).fit(X, y)
    Xs = np.array([[0.3], [1.2]])
    derivs = [(), (0,), (0, 0)]
    draws = gp.sample_joint(Xs, derivs, n_samples=20000, random_state=2)
    assert draws.shape == (2, 3, 20000)
    mean, cov = gp.predict_joint(Xs, derivs, cov="full")
    _assert_moments(draws.reshape(6, -1), mean.reshape(6), cov)
    # One draw is one function: its derivative entries are derivatives of its values.
    h = 1e-3
    pts = np.array([[0.8 - h], [0.8], [0.8 + h]])
    joint = gp.sample_joint(pts, [(), (0,)], n_samples=5, random_state=3)
    fd = (joint[2, 0] - joint[0, 0]) / (2 * h)
    assert_allclose(fd, joint[1, 1], rtol=0, atol=2e-3 * np.abs(joint[1, 1]).max())


def test_sampling_several_targets_has_scikit_learn_shapes(rng: np.random.Generator) -> None:
    X, Y = data(rng, targets=3)
    gp = GaussianProcess(rbf(), noise=1e-2, optimizer=None).fit(X, Y)
    Xs = np.linspace(0, 2, 5)[:, None]
    assert gp.sample_y(Xs, n_samples=7).shape == (5, 3, 7)
    assert gp.sample_joint(Xs, [(), (0,)], n_samples=7).shape == (5, 2, 3, 7)
    ref = GaussianProcessRegressor(C(SF2) * RBF(ELL), alpha=1e-2, optimizer=None).fit(X, Y)
    assert ref.sample_y(Xs, n_samples=7).shape == (5, 3, 7)
    draws = gp.sample_y(Xs, n_samples=20000, random_state=4)
    mean, cov = gp.predict(Xs, return_cov=True)
    for t in range(3):
        _assert_moments(draws[:, t], mean[:, t], cov[:, :, t])
    with pytest.raises(ValueError, match="n_samples"):
        gp.sample_y(Xs, n_samples=0)


# ---------------------------------------------------------------------- several targets
@pytest.mark.parametrize("normalize_y", [False, True])
def test_several_targets_equal_per_target_fits(rng: np.random.Generator, normalize_y: bool) -> None:
    X, Y = data(rng, targets=3)
    gp = GaussianProcess(rbf(), noise=1e-2, normalize_y=normalize_y).fit(X, Y)
    Xs = rng.uniform(0, 2, size=(6, 1))
    mean, std = gp.predict(Xs, return_std=True)
    dmean, dcov = gp.predict(Xs, deriv=(0,), return_cov=True)
    grad, gstd = gp.predict_gradient(Xs, return_std=True)
    assert mean.shape == std.shape == dmean.shape == (6, 3) and dcov.shape == (6, 6, 3) and grad.shape == (6, 1, 3)
    for t in range(3):
        one = GaussianProcess(gp.kernel_, noise=gp.noise_, noise_bounds="fixed", optimizer=None,
                              normalize_y=normalize_y).fit(X, Y[:, t])
        m, s = one.predict(Xs, return_std=True)
        assert_allclose(mean[:, t], m, rtol=1e-10, atol=1e-12)
        assert_allclose(std[:, t], s, rtol=1e-10, atol=1e-12)
        dm, dc = one.predict(Xs, deriv=(0,), return_cov=True)
        assert_allclose(dmean[:, t], dm, rtol=1e-10, atol=1e-12)
        assert_allclose(dcov[:, :, t], dc, rtol=1e-9, atol=1e-12)
        assert_allclose(gstd[:, 0, t], one.predict(Xs, deriv=(0,), return_std=True)[1], rtol=1e-10)
    # One column is one target, as in scikit-learn.
    col = GaussianProcess(rbf(), optimizer=None).fit(X, Y[:, :1])
    assert col.predict(Xs).shape == (6,)


@pytest.mark.parametrize("one_buffer", [False, True])
def test_several_targets_lml_and_gradient_match_sklearn(rng: np.random.Generator, one_buffer: bool,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import kernelgen.posterior.likelihood as likelihood

    if one_buffer:  # the large-n path: K^-1 and the weights share one (n, n) buffer
        monkeypatch.setattr(likelihood, "IN_PLACE_THRESHOLD", 0)
    X, Y = data(rng, targets=2)
    ours = GaussianProcess(rbf(), noise=1e-2, optimizer=None).fit(X, Y)
    ref = GaussianProcessRegressor(C(SF2) * RBF(ELL) + WhiteKernel(1e-2), alpha=0.0, optimizer=None).fit(X, Y)
    for shift in (0.0, 0.3):
        theta = ref.kernel_.theta + shift
        lml_r, grad_r = ref.log_marginal_likelihood(theta, eval_gradient=True)
        lml, grad = ours.log_marginal_likelihood(theta, eval_gradient=True)
        assert_allclose(lml, lml_r, rtol=1e-10)
        assert_allclose(grad, grad_r, rtol=1e-9, atol=1e-9 * np.abs(grad_r).max())
    mean, std = ours.predict(X[:5] + 0.01, return_std=True)
    mean_r, std_r = GaussianProcessRegressor(C(SF2) * RBF(ELL), alpha=1e-2, optimizer=None).fit(X, Y).predict(
        X[:5] + 0.01, return_std=True)
    assert_allclose(mean, mean_r, rtol=1e-10)
    assert_allclose(std, std_r, rtol=1e-9)


# ---------------------------------------------------------------------- alpha
@pytest.mark.parametrize("normalize_y", [False, True])
def test_alpha_array_equals_sklearn(rng: np.random.Generator, normalize_y: bool) -> None:
    X, y = data(rng)
    y = 4 * y + 3
    alpha = rng.uniform(1e-3, 5e-2, size=len(y))
    Xs = rng.uniform(0, 2, size=(7, 1))
    ours = GaussianProcess(rbf(), noise=0.0, noise_bounds="fixed", alpha=alpha, optimizer=None,
                           normalize_y=normalize_y).fit(X, y)
    ref = GaussianProcessRegressor(C(SF2) * RBF(ELL), alpha=alpha, optimizer=None, normalize_y=normalize_y).fit(X, y)
    mean, std = ours.predict(Xs, return_std=True)
    mean_r, std_r = ref.predict(Xs, return_std=True)
    assert_allclose(mean, mean_r, rtol=1e-10, atol=1e-10)
    assert_allclose(std, std_r, rtol=1e-10, atol=1e-10)
    assert_allclose(ours.predict(Xs, return_cov=True)[1], ref.predict(Xs, return_cov=True)[1], rtol=1e-10, atol=1e-10)
    assert_allclose(ours.log_marginal_likelihood_value_, ref.log_marginal_likelihood_value_, rtol=1e-10)


def test_alpha_on_top_of_fitted_noise_matches_sklearn_whitekernel(rng: np.random.Generator) -> None:
    X, y = data(rng)
    alpha = rng.uniform(1e-3, 5e-2, size=len(y))
    ours = GaussianProcess(rbf(), noise=1e-2, alpha=alpha, optimizer=None).fit(X, y)
    ref = GaussianProcessRegressor(C(SF2) * RBF(ELL) + WhiteKernel(1e-2), alpha=alpha, optimizer=None).fit(X, y)
    theta = ref.kernel_.theta + np.array([0.2, -0.1, 0.5])
    lml_r, grad_r = ref.log_marginal_likelihood(theta, eval_gradient=True)
    lml, grad = ours.log_marginal_likelihood(theta, eval_gradient=True)
    assert_allclose(lml, lml_r, rtol=1e-10)
    assert_allclose(grad, grad_r, rtol=1e-10, atol=1e-10 * np.abs(grad_r).max())
    with pytest.raises(ValueError, match="alpha"):
        GaussianProcess(rbf(), alpha=np.ones(3)).fit(X, y)
    with pytest.raises(ValueError, match="alpha"):
        GaussianProcess(rbf(), alpha=-1.0).fit(X, y)


# ---------------------------------------------------------------------- noise per derivative type
def _numpy_lml(log_params: np.ndarray, X: np.ndarray, y: np.ndarray, deriv: list[tuple[int, ...]],
               alpha: np.ndarray) -> float:
    """LML of values and first derivatives for the 1-D RBF, assembled from closed forms.

    ``log_params`` = log(variance, length_scale, noise of f, noise of df/dx).
    """
    s, ell, n_f, n_d = np.exp(log_params)
    x = X[:, 0]
    r = x[:, None] - x[None, :]
    e = s * np.exp(-(r**2) / (2 * ell**2))
    a = np.array([len(d) for d in deriv])
    A, B = a[:, None], a[None, :]
    K = np.where((A == 0) & (B == 0), e, 0.0)
    K = np.where((A == 0) & (B == 1), e * r / ell**2, K)        # cov(f(x), f'(x'))
    K = np.where((A == 1) & (B == 0), -e * r / ell**2, K)       # cov(f'(x), f(x'))
    K = np.where((A == 1) & (B == 1), e * (1 / ell**2 - r**2 / ell**4), K)
    K = K + np.diag(np.where(a == 0, n_f, n_d) + alpha)
    sign, logdet = np.linalg.slogdet(K)
    assert sign > 0
    return float(-0.5 * y @ np.linalg.solve(K, y) - 0.5 * logdet - 0.5 * len(y) * np.log(2 * np.pi))


def test_noise_per_derivative_type_lml_matches_numpy(rng: np.random.Generator) -> None:
    Xv = rng.uniform(0, 2, size=(20, 1))
    Xd = rng.uniform(0, 2, size=(15, 1))
    X = np.vstack([Xv, Xd])
    y = np.concatenate([np.sin(3 * Xv[:, 0]), 3 * np.cos(3 * Xd[:, 0])]) + 0.05 * rng.standard_normal(35)
    deriv = [()] * 20 + [(0,)] * 15
    alpha = np.concatenate([np.zeros(20), rng.uniform(0, 1e-2, 15)])
    gp = GaussianProcess(rbf(), noise={(): 1e-2, (0,): 1e-1}, alpha=alpha, optimizer=None).fit(X, y, deriv=deriv)
    assert set(gp.noise_) == {(), (0,)}
    for theta in (gp.theta_, gp.theta_ + np.array([0.3, -0.2, 0.5, -0.4])):
        lml, grad = gp.log_marginal_likelihood(theta, eval_gradient=True)
        assert_allclose(lml, _numpy_lml(theta, X, y, deriv, alpha), rtol=1e-10)
        h = 1e-5
        fd = [(_numpy_lml(theta + h * e, X, y, deriv, alpha) - _numpy_lml(theta - h * e, X, y, deriv, alpha)) / (2 * h)
              for e in np.eye(4)]
        assert_allclose(grad, fd, rtol=1e-6, atol=1e-6)
    # Bounds per type: the derivative noise fixed, the value noise fitted.
    fixed = GaussianProcess(rbf(), noise={(): 1e-2, (0,): 1e-1}, noise_bounds={(): (1e-6, 1.0), (0,): "fixed"},
                            alpha=alpha).fit(X, y, deriv=deriv)
    assert fixed.theta_.shape == (3,) and fixed.noise_[(0,)] == 1e-1
    assert_allclose(fixed.log_marginal_likelihood(), _numpy_lml(np.append(fixed.theta_, np.log(0.1)), X, y, deriv,
                                                                alpha), rtol=1e-10)


def test_noise_per_type_is_recovered(rng: np.random.Generator) -> None:
    X = rng.uniform(0, 2, size=(80, 1))
    deriv = [()] * 80 + [(0,)] * 80
    y = np.concatenate([np.sin(3 * X[:, 0]) + 0.03 * rng.standard_normal(80),
                        3 * np.cos(3 * X[:, 0]) + 0.3 * rng.standard_normal(80)])
    gp = GaussianProcess(kernels.rbf(1, length_scale=0.5), noise={(): 1e-2, (0,): 1e-2}).fit(np.vstack([X, X]), y,
                                                                                            deriv=deriv)
    assert 0.03**2 / 3 < gp.noise_[()] < 0.03**2 * 3
    assert 0.3**2 / 3 < gp.noise_[(0,)] < 0.3**2 * 3


def test_noise_dict_errors_name_the_argument(rng: np.random.Generator) -> None:
    X, y = data(rng, 10)
    with pytest.raises(ValueError, match=r"noise must have one entry per observed derivative type.*missing \[\(\)\]"):
        GaussianProcess(rbf(), noise={(0,): 1e-2}).fit(X, y)
    with pytest.raises(ValueError, match=r"not observed \[\(0,\)\]"):
        GaussianProcess(rbf(), noise={(): 1e-2, (0,): 1e-2}).fit(X, y)
    with pytest.raises(ValueError, match=r"noise\[\(\)\]"):
        GaussianProcess(rbf(), noise={(): -1.0}).fit(X, y)
    with pytest.raises(ValueError, match="noise_bounds"):
        GaussianProcess(rbf(), noise=1e-2, noise_bounds={(): "fixed"}).fit(X, y)


# ---------------------------------------------------------------------- scikit-learn kernels
def test_sklearn_kernel_is_converted_and_whitekernel_is_the_noise(rng: np.random.Generator) -> None:
    X, y = data(rng, 40)
    kernel = C(1.0) * RBF(0.5) + WhiteKernel(0.05, noise_level_bounds=(1e-6, 1.0))
    ours = GaussianProcess(kernel).fit(X, y)
    ref = GaussianProcessRegressor(kernel, alpha=0.0).fit(X, y)
    assert ours.kernel_.hyperparameter_names == ("constant_value", "length_scale")
    assert ours.log_marginal_likelihood_value_ >= ref.log_marginal_likelihood_value_ - 1e-6
    assert_allclose(ours.theta_, ref.kernel_.theta, atol=2e-3)
    assert_allclose(ours.noise_, ref.kernel_.k2.noise_level, rtol=5e-3)
    with pytest.raises(ValueError, match="WhiteKernel"):
        GaussianProcess(kernel, noise=0.1).fit(X, y)
    # Isotropic scikit-learn kernels take their dimension from X, as they do in scikit-learn.
    X2 = rng.uniform(size=(20, 2))
    gp2 = GaussianProcess(C(1.0) * RBF(0.5), optimizer=None).fit(X2, X2[:, 0] ** 2)
    assert gp2.predict_gradient(X2[:3]).shape == (3, 2)
    with pytest.raises(ValueError, match="scikit-learn kernel"):
        GaussianProcess(kernel="rbf").fit(X, y)


# ---------------------------------------------------------------------- errors name the argument
def test_errors_name_the_argument_the_user_passed(rng: np.random.Generator) -> None:
    X, y = data(rng, 10)
    gp = GaussianProcess(kernels.matern(1, 1.5), optimizer=None).fit(X, y)
    with pytest.raises(ValueError, match=r"^deriv entries"):
        gp.predict(X, deriv=(2,))
    with pytest.raises(NotDifferentiableError, match=r"^deriv=\(0, 0\)"):
        gp.predict(X, deriv=(0, 0), return_std=True)
    with pytest.raises(NotDifferentiableError, match=r"^deriv=\(0, 0\)"):
        gp.sample_y(X, deriv=(0, 0))
    with pytest.raises(NotDifferentiableError, match=r"^derivs=\[\(\), \(0, 0\)\]"):
        gp.predict_joint(X, [(), (0, 0)])
    with pytest.raises(NotDifferentiableError, match=r"^predict_hessian"):
        gp.predict_hessian(X)
    with pytest.raises(NotDifferentiableError, match=r"^deriv=\["):
        GaussianProcess(kernels.matern(1, 1.5), optimizer=None).fit(np.vstack([X, X]), np.append(y, y),
                                                                     deriv=[()] * 10 + [(0, 0)] * 10)
    with pytest.raises(ValueError, match=r"^derivs entries"):
        gp.sample_joint(X, [(1,)])
    gpr = GaussianProcessRegressor(Matern(0.5, nu=1.5), optimizer=None).fit(X, y)
    with pytest.raises(NotDifferentiableError, match=r"^deriv=\(0, 0\)"):
        predict_derivative(gpr, X, deriv=(0, 0))
