"""GaussianProcess and kernelgen.posterior against independent references.

References: scikit-learn's GaussianProcessRegressor (order 0, LML and its gradient), the closed-form
RBF gradient mean of the seed thread, central finite differences of the posterior mean and of the
posterior covariance of difference quotients, prior derivative variances -k''(0) in closed form.
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, WhiteKernel
from sklearn.gaussian_process.kernels import ConstantKernel as C

from kernelgen import GaussianProcess, NotDifferentiableError, kernels
from kernelgen.posterior import JitterWarning, TrainingProblem, predict_derivatives

SF2, ELL, NOISE = 1.3, (0.3, 0.5, 0.7), 1e-2


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def ard_data(rng: np.random.Generator, n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    X = rng.uniform(size=(n, 3))
    y = np.sin(3 * X[:, 0]) + X[:, 1] ** 2 - 0.5 * X[:, 2] + 0.1 * rng.standard_normal(n)
    return X, y


def sk_kernel() -> object:
    return C(SF2) * RBF(list(ELL)) + WhiteKernel(NOISE)


def kg_gp(**kw: object) -> GaussianProcess:
    return GaussianProcess(kernels.rbf(3, length_scale=list(ELL), variance=SF2), noise=NOISE, **kw)


# ---------------------------------------------------------------------- scikit-learn references
@pytest.mark.parametrize("normalize_y", [False, True])
def test_order0_matches_sklearn(rng: np.random.Generator, normalize_y: bool) -> None:
    X, y = ard_data(rng)
    y = 3.0 * y + 5.0
    Xs = rng.uniform(size=(25, 3))
    ours = kg_gp(optimizer=None, normalize_y=normalize_y).fit(X, y)
    ref = GaussianProcessRegressor(C(SF2) * RBF(list(ELL)), alpha=NOISE, optimizer=None,
                                   normalize_y=normalize_y).fit(X, y)
    mu, sd = ours.predict(Xs, return_std=True)
    mu_r, sd_r = ref.predict(Xs, return_std=True)
    assert_allclose(mu, mu_r, rtol=1e-8, atol=1e-10)
    assert_allclose(sd, sd_r, rtol=1e-7, atol=1e-10)
    _, cov = ours.predict(Xs, return_cov=True)
    _, cov_r = ref.predict(Xs, return_cov=True)
    assert_allclose(cov, cov_r, rtol=1e-7, atol=1e-10)


def test_lml_and_gradient_match_sklearn(rng: np.random.Generator) -> None:
    X, y = ard_data(rng, 60)
    ours = kg_gp(optimizer=None).fit(X, y)
    ref = GaussianProcessRegressor(sk_kernel(), alpha=0.0, optimizer=None).fit(X, y)
    # sklearn theta: log(c), log(ell_0..2), log(noise); ours: log(variance), log(ell_i), log(noise).
    for shift in (0.0, 0.3):
        theta = ref.kernel_.theta + shift * np.arange(5) / 5
        lml_r, grad_r = ref.log_marginal_likelihood(theta, eval_gradient=True)
        lml, grad = ours.log_marginal_likelihood(theta, eval_gradient=True)
        assert_allclose(lml, lml_r, rtol=1e-8)
        assert_allclose(grad, grad_r, rtol=1e-8, atol=1e-8 * np.abs(grad_r).max())


def test_fit_reaches_sklearn_optimum(rng: np.random.Generator) -> None:
    X, y = ard_data(rng, 50)
    ours = kg_gp().fit(X, y)
    ref = GaussianProcessRegressor(sk_kernel(), alpha=0.0, n_restarts_optimizer=0).fit(X, y)
    assert ours.log_marginal_likelihood_value_ >= ref.log_marginal_likelihood_value_ - 1e-5
    assert_allclose(ours.theta_, ref.kernel_.theta, atol=2e-3)


# ---------------------------------------------------------------------- derivative means
def test_rbf_gradient_mean_closed_form(rng: np.random.Generator) -> None:
    """Seed thread: E[grad f(x*)] = sum_i alpha_i k(x*, x_i) (x_i - x*) / ell^2 (per dimension)."""
    X, y = ard_data(rng)
    gp = kg_gp(optimizer=None).fit(X, y)
    Xs = rng.uniform(size=(20, 3))
    ell = np.array(ELL)
    diff = X[None, :, :] - Xs[:, None, :]
    k = SF2 * np.exp(-0.5 * np.sum((diff / ell) ** 2, axis=-1))
    alpha = np.linalg.solve(SF2 * np.exp(-0.5 * np.sum(((X[:, None] - X[None]) / ell) ** 2, -1))
                            + NOISE * np.eye(len(X)), y)
    expected = np.einsum("ij,ijk,j->ik", k, diff / ell**2, alpha)
    assert_allclose(gp.predict_gradient(Xs), expected, rtol=1e-8, atol=1e-10)
    assert_allclose(gp.predict(Xs, deriv=(1,)), expected[:, 1], rtol=1e-8, atol=1e-10)


def test_mean_derivatives_match_finite_differences(rng: np.random.Generator) -> None:
    X, y = ard_data(rng)
    gp = GaussianProcess(kernels.matern(3, nu=2.5, length_scale=[0.4, 0.6, 0.5], variance=1.1),
                         noise=NOISE, optimizer=None, normalize_y=True).fit(X, 2 * y + 1)
    Xs = rng.uniform(0.1, 0.9, size=(8, 3))
    h = 1e-5
    f = gp.predict
    grad = gp.predict_gradient(Xs)
    H = gp.predict_hessian(Xs)
    for i in range(3):
        e = np.zeros(3)
        e[i] = h
        assert_allclose(grad[:, i], (f(Xs + e) - f(Xs - e)) / (2 * h), rtol=1e-5, atol=1e-6)
        g_fd = (gp.predict_gradient(Xs + e) - gp.predict_gradient(Xs - e)) / (2 * h)
        assert_allclose(H[:, i, :], g_fd, rtol=1e-4, atol=1e-5)


def test_variances_match_difference_quotient_covariance(rng: np.random.Generator) -> None:
    """Var of df/dx0 = lim Var of (f(x+h) - f(x-h)) / 2h computed from the full order-0 covariance."""
    X, y = ard_data(rng, 30)
    gp = kg_gp(optimizer=None, normalize_y=True).fit(X, y)
    Xs = rng.uniform(size=(5, 3))
    h = 1e-3
    _, std = gp.predict_gradient(Xs, return_std=True)
    _, cov_point = gp.predict_gradient(Xs, return_cov=True)
    for i in range(3):
        e = np.zeros(3)
        e[i] = h
        for p in range(len(Xs)):
            pts = np.vstack([Xs[p] + e, Xs[p] - e])
            _, cov = gp.predict(pts, return_cov=True)
            w = np.array([1.0, -1.0]) / (2 * h)
            assert_allclose(std[p, i] ** 2, w @ cov @ w, rtol=1e-4)
    # Mixed entries: cov(df/dx0, df/dx1) from quotients in both directions.
    e0, e1 = np.array([h, 0, 0]), np.array([0, h, 0])
    p = 0
    pts = np.vstack([Xs[p] + e0, Xs[p] - e0, Xs[p] + e1, Xs[p] - e1])
    _, cov = gp.predict(pts, return_cov=True)
    w0 = np.array([1, -1, 0, 0]) / (2 * h)
    w1 = np.array([0, 0, 1, -1]) / (2 * h)
    assert_allclose(cov_point[p, 0, 1], w0 @ cov @ w1, rtol=1e-4, atol=1e-8)


def test_normalize_y_scales_derivatives_not_shifts(rng: np.random.Generator) -> None:
    X, y = ard_data(rng, 30)
    a, b = 7.0, -3.0
    plain = kg_gp(optimizer=None, normalize_y=False).fit(X, y)
    # normalize_y on a*y + b with the *same* model in normalized units: fit the plain model on the
    # standardized target and compare after transforming back by hand.
    ys = a * y + b
    mu, sd = ys.mean(), ys.std()
    norm = kg_gp(optimizer=None, normalize_y=True).fit(X, ys)
    base = kg_gp(optimizer=None).fit(X, (ys - mu) / sd)
    Xs = rng.uniform(size=(6, 3))
    g, gs = norm.predict_gradient(Xs, return_std=True)
    g0, gs0 = base.predict_gradient(Xs, return_std=True)
    assert_allclose(g, sd * g0, rtol=1e-10)
    assert_allclose(gs, sd * gs0, rtol=1e-10)
    f, fs = norm.predict(Xs, return_std=True)
    f0, fs0 = base.predict(Xs, return_std=True)
    assert_allclose(f, sd * f0 + mu, rtol=1e-10)
    assert_allclose(fs, sd * fs0, rtol=1e-10)
    assert plain is not None


# ---------------------------------------------------------------------- prior variances
@pytest.mark.parametrize(("nu", "factor"), [(1.5, 3.0), (2.5, 5.0 / 3.0), (np.inf, 1.0)])
def test_prior_derivative_variance_far_from_data(nu: float, factor: float) -> None:
    sf2, ell = 1.7, 0.4
    k = kernels.rbf(1, length_scale=ell, variance=sf2) if np.isinf(nu) else kernels.matern(1, nu, ell, sf2)
    X = np.linspace(0, 1, 10)[:, None]
    gp = GaussianProcess(k, noise=1e-2, optimizer=None).fit(X, np.sin(X[:, 0]))
    _, std = gp.predict(np.array([[50.0], [-40.0]]), deriv=(0,), return_std=True)
    assert_allclose(std**2, factor * sf2 / ell**2, rtol=1e-10)


def test_matern32_second_derivative_raises() -> None:
    X = np.linspace(0, 1, 5)[:, None]
    gp = GaussianProcess(kernels.matern(1, 1.5), optimizer=None).fit(X, X[:, 0])
    with pytest.raises(NotDifferentiableError):
        gp.predict(X, deriv=(0, 0), return_std=True)


# ---------------------------------------------------------------------- derivative observations
def test_gradient_observations_recover_gradient(rng: np.random.Generator) -> None:
    """Observe f(x) = x0^2 + sin(2 x1) through values and gradients: the gradient comes back."""
    def grad_f(Z: np.ndarray) -> np.ndarray:
        return np.column_stack([2 * Z[:, 0], 2 * np.cos(2 * Z[:, 1])])

    Xo = rng.uniform(size=(25, 2))
    f = Xo[:, 0] ** 2 + np.sin(2 * Xo[:, 1])
    g = grad_f(Xo)
    X = np.vstack([Xo, Xo, Xo])
    y = np.concatenate([f, g[:, 0], g[:, 1]])
    deriv = [()] * 25 + [(0,)] * 25 + [(1,)] * 25
    gp = GaussianProcess(kernels.rbf(2, length_scale=[0.7, 0.7]), noise=1e-6, noise_bounds="fixed")
    gp.fit(X, y, deriv=deriv)
    Xs = rng.uniform(0.2, 0.8, size=(30, 2))
    mean, std = gp.predict_gradient(Xs, return_std=True)
    assert np.max(np.abs(mean - grad_f(Xs))) < 1e-3
    assert np.all(std < 1e-2)


def test_derivative_observations_only_and_lml_gradient(rng: np.random.Generator) -> None:
    """Gradient-only observations (f up to a constant); LML gradient vs central differences."""
    X = rng.uniform(size=(15, 2))
    y = np.concatenate([np.cos(X[:, 0]), -np.sin(X[:, 1]), X[:, 0] * 0])
    Xall = np.vstack([X, X, X])
    deriv = [(0,)] * 15 + [(1,)] * 15 + [(0, 1)] * 15
    gp = GaussianProcess(kernels.rbf(2, length_scale=[0.8, 0.6], variance=1.2), noise=1e-3,
                         optimizer=None).fit(Xall, y, deriv=deriv)
    theta = gp.theta_ + 0.1
    lml, grad = gp.log_marginal_likelihood(theta, eval_gradient=True)
    h = 1e-6
    fd = [(gp.log_marginal_likelihood(theta + h * e) - gp.log_marginal_likelihood(theta - h * e)) / (2 * h)
          for e in np.eye(theta.size)]
    assert_allclose(grad, fd, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------- joint predictions
def test_joint_covariance_orderings_agree(rng: np.random.Generator) -> None:
    X, y = ard_data(rng, 30)
    gp = kg_gp(optimizer=None).fit(X, y)
    Xs = rng.uniform(size=(7, 3))
    derivs = [(), (0,), (2,), (0, 1)]
    m0, _ = gp.predict_joint(Xs, derivs)
    m1, var = gp.predict_joint(Xs, derivs, cov="diag")
    m2, point = gp.predict_joint(Xs, derivs, cov="point", chunk_size=3)
    m3, full = gp.predict_joint(Xs, derivs, cov="full", chunk_size=2)
    for m in (m1, m2, m3):
        assert_allclose(m, m0, rtol=1e-10, atol=1e-12)
    q = len(derivs)
    blocks = np.array([full[i * q:(i + 1) * q, i * q:(i + 1) * q] for i in range(len(Xs))])
    assert_allclose(point, blocks, rtol=1e-9, atol=1e-12)
    assert_allclose(var, np.diagonal(point, axis1=1, axis2=2), rtol=1e-9, atol=1e-12)
    # Mean of f and of the individual predictions agree too.
    assert_allclose(m0[:, 0], gp.predict(Xs), rtol=1e-10)
    assert_allclose(m0[:, 3], gp.predict_hessian(Xs)[:, 0, 1], rtol=1e-10)


# ---------------------------------------------------------------------- fitting behaviour
def test_fixed_hyperparameters_are_honoured(rng: np.random.Generator) -> None:
    X, y = ard_data(rng, 30)
    k = kernels.rbf(3, length_scale=list(ELL), variance=SF2).fix("length_scale_1")
    gp = GaussianProcess(k, noise=NOISE, noise_bounds="fixed").fit(X, y)
    assert gp.kernel_.values["length_scale_1"] == ELL[1]
    assert gp.noise_ == NOISE
    assert gp.theta_.shape == (3,)


def test_restarts_are_reproducible(rng: np.random.Generator) -> None:
    X, y = ard_data(rng, 30)
    a = kg_gp(n_restarts=2, random_state=0).fit(X, y)
    b = kg_gp(n_restarts=2, random_state=0).fit(X, y)
    assert_allclose(a.theta_, b.theta_)
    assert a.log_marginal_likelihood_value_ >= kg_gp().fit(X, y).log_marginal_likelihood_value_ - 1e-6


def test_nonconvergence_warns(rng: np.random.Generator) -> None:
    X, y = ard_data(rng, 30)

    def one_step(obj, theta0, bounds):  # noqa: ANN001, ANN202
        return theta0, obj(theta0)[0]

    gp = kg_gp(optimizer=one_step).fit(X, y)
    assert_allclose(gp.theta_, np.log([SF2, *ELL, NOISE]))
    from scipy.optimize import minimize
    from sklearn.exceptions import ConvergenceWarning

    import kernelgen.gp as gpmod
    orig = gpmod.minimize

    def short(*args, **kw):  # noqa: ANN002, ANN003, ANN202
        kw["options"] = {"maxiter": 1}
        return minimize(*args, **kw)

    gpmod.minimize = short
    try:
        with pytest.warns(ConvergenceWarning):
            kg_gp().fit(X, y)
    finally:
        gpmod.minimize = orig


# ---------------------------------------------------------------------- robustness
def test_bad_inputs_name_the_argument(rng: np.random.Generator) -> None:
    X, y = ard_data(rng, 10)
    gp = kg_gp(optimizer=None)
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="X"):
        gp.fit(Xn, y)
    yi = y.copy()
    yi[1] = np.inf
    with pytest.raises(ValueError, match="y"):
        gp.fit(X, yi)
    with pytest.raises(ValueError, match="inconsistent|samples"):
        gp.fit(X, y[:-1])
    with pytest.raises(ValueError, match="deriv"):
        gp.fit(X, y, deriv=[()] * 9)
    with pytest.raises(ValueError, match="deriv"):
        gp.fit(X, y, deriv=[(5,)] * 10)
    gp.fit(X, y)
    with pytest.raises(ValueError, match="features"):
        gp.predict(X[:, :2])
    with pytest.raises(ValueError, match="theta"):
        gp.log_marginal_likelihood(np.zeros(2))


def test_duplicates_and_jitter(rng: np.random.Generator) -> None:
    X, y = ard_data(rng, 10)
    Xd, yd = np.vstack([X, X]), np.concatenate([y, y + 0.01])
    gp = kg_gp(optimizer=None).fit(Xd, yd)
    assert np.all(np.isfinite(gp.predict(X)))
    with pytest.warns(JitterWarning):
        GaussianProcess(kernels.rbf(3, length_scale=list(ELL)), noise=0.0, noise_bounds="fixed",
                        optimizer=None).fit(Xd, yd)
    k = kernels.rbf(3, length_scale=list(ELL))
    problem = TrainingProblem(k, Xd, yd, ((),), np.zeros(20, np.int64))
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        problem.cholesky(k.parameter_vector, -1.0, warn=False)


def test_clone_pickle_params(rng: np.random.Generator) -> None:
    X, y = ard_data(rng, 15)
    gp = kg_gp(optimizer=None).fit(X, y)
    assert set(gp.get_params()) == {"kernel", "noise", "noise_bounds", "normalize_y", "optimizer", "alpha",
                                    "n_restarts", "random_state"}
    c = clone(gp).set_params(noise=0.1)
    assert c.noise == 0.1 and not hasattr(c, "kernel_")
    g2 = pickle.loads(pickle.dumps(gp))
    assert_allclose(g2.predict_gradient(X), gp.predict_gradient(X))
    assert_allclose(g2.log_marginal_likelihood(), gp.log_marginal_likelihood_value_)


def test_predict_derivatives_state_directly(rng: np.random.Generator) -> None:
    X, y = ard_data(rng, 20)
    gp = kg_gp(optimizer=None).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mean, var = predict_derivatives(gp._state, X[:4], [(0,), (1,)], cov="diag")
    assert mean.shape == (4, 2) and var.shape == (4, 2)
    with pytest.raises(ValueError, match="cov"):
        predict_derivatives(gp._state, X[:4], [(0,)], cov="bogus")  # type: ignore[arg-type]


def test_lml_gradient_single_buffer_path(rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch) -> None:
    """The large-n path (K^-1 mirrored in place in the one (n, n) buffer) gives the same gradient."""
    import kernelgen.posterior.likelihood as posterior

    X, y = ard_data(rng, 40)
    gp = kg_gp(optimizer=None).fit(X, y)
    theta = gp.theta_ + 0.2
    lml, grad = gp.log_marginal_likelihood(theta, eval_gradient=True)
    monkeypatch.setattr(posterior, "IN_PLACE_THRESHOLD", 0)
    lml2, grad2 = gp.log_marginal_likelihood(theta, eval_gradient=True)
    assert_allclose(lml2, lml, rtol=1e-13)
    assert_allclose(grad2, grad, rtol=1e-11)
