"""Kernel integrals against emukit's Bayesian-quadrature kernels (an independent library).

emukit (the ``emukit`` extra: emukit and GPy) integrates RBF and product-Matérn kernels over one
box under the Lebesgue measure: ``qK(X)`` = int_B k(x, X) dx and ``qKq`` = int_B int_B k. kernelgen
gives the same numbers as its box x point and box x box covariances, and emukit's posterior of the
integral (its ``WarpedBayesianQuadratureModel``, vanilla BQ) equals ``predict_integral``. Skipped
without emukit, except in CI: ``.ci/run`` installs the extra and requires it.
"""

from __future__ import annotations

import numpy as np
import pytest

from kernelgen import GaussianProcess, Kernel, kernels
from kernelgen.posterior.functionals import Rows, cross_covariance
from tests.support.optional import optional_import

emukit = optional_import("emukit")  # required in CI (KERNELGEN_REQUIRE_ENGINES=1)
GPy = optional_import("GPy")

from emukit.model_wrappers import gpy_quadrature_wrappers as wrappers  # noqa: E402
from emukit.quadrature import kernels as qkernels  # noqa: E402
from emukit.quadrature.measures import BoxDomain, LebesgueMeasure  # noqa: E402

BOX = [(0.1, 0.8), (-0.3, 0.4)]


def _measure(bounds: list[tuple[float, float]]) -> LebesgueMeasure:
    return LebesgueMeasure(BoxDomain(bounds=bounds))


def _ours(kernel: Kernel, X: np.ndarray, bounds: list[tuple[float, float]]) -> tuple[np.ndarray, float]:
    lower, upper = np.array([[b[0] for b in bounds]]), np.array([[b[1] for b in bounds]])
    box = Rows.boxes(lower, upper)
    points = Rows.points(X, [()], np.zeros(X.shape[0], dtype=np.int64))
    params = kernel.parameter_vector
    return cross_covariance(kernel, box, points, params)[0], float(cross_covariance(kernel, box, box, params)[0, 0])


def _product_matern(nu: str, lengths: tuple[float, float], variance: float) -> Kernel:
    factor = {"32": "(1+sqrt(3)*abs({t})/{l})*exp(-sqrt(3)*abs({t})/{l})",
              "52": "(1+sqrt(5)*abs({t})/{l}+5*({t})**2/(3*{l}**2))*exp(-sqrt(5)*abs({t})/{l})"}[nu]
    text = "s*" + "*".join(factor.format(t=f"x{j}-y{j}", l=f"l{j}") for j in range(2))
    return Kernel.from_string(text, 2, s=variance, l0=lengths[0], l1=lengths[1], name=f"matern{nu}product")


@pytest.mark.parametrize("case", ["rbf_1d", "rbf_ard", "matern32", "matern52"])
def test_kernel_means_match_emukit(case: str) -> None:
    rng = np.random.default_rng(3)
    variance, lengths = 1.7, (0.3, 0.6)
    if case == "rbf_1d":
        bounds = BOX[:1]
        ours = kernels.rbf(1, length_scale=lengths[0], variance=variance)
        theirs = qkernels.QuadratureRBFLebesgueMeasure(
            wrappers.RBFGPy(GPy.kern.RBF(1, variance=variance, lengthscale=lengths[0])), _measure(bounds))
    elif case == "rbf_ard":
        bounds = BOX
        ours = kernels.rbf(2, length_scale=list(lengths), variance=variance)
        theirs = qkernels.QuadratureRBFLebesgueMeasure(
            wrappers.RBFGPy(GPy.kern.RBF(2, variance=variance, lengthscale=list(lengths), ARD=True)), _measure(bounds))
    else:
        bounds = BOX
        ours = _product_matern(case[-2:], lengths, variance)
        wrapper = {"matern32": wrappers.ProductMatern32GPy, "matern52": wrappers.ProductMatern52GPy}[case]
        kernel_class = {"matern32": qkernels.QuadratureProductMatern32LebesgueMeasure,
                        "matern52": qkernels.QuadratureProductMatern52LebesgueMeasure}[case]
        theirs = kernel_class(wrapper(lengthscales=np.array(lengths), variance=variance), _measure(bounds))
    # emukit's product-Matern kernel means assume x inside the box (outside they are wrong, even
    # negative; kernelgen's agree with mpmath there): its RBF ones hold everywhere.
    corners = np.array(bounds)
    lo, hi = (-0.5, 1.0) if case.startswith("rbf") else (corners[:, 0], corners[:, 1])
    X = rng.uniform(lo, hi, size=(9, len(bounds)))
    X[0] = [b[0] for b in bounds]  # on the box's corner and at its centre
    X[1] = [0.5 * (b[0] + b[1]) for b in bounds]
    q, qq = _ours(ours, X, bounds)
    np.testing.assert_allclose(q, theirs.qK(X)[0], rtol=1e-12)
    assert qq == pytest.approx(float(theirs.qKq()), rel=1e-12)


def test_posterior_integral_matches_emukit_bayesian_quadrature() -> None:
    from emukit.quadrature.methods import VanillaBayesianQuadrature

    rng = np.random.default_rng(4)
    X = rng.uniform(0, 1, size=(15, 1))
    y = np.sin(2 * np.pi * X[:, 0]) + 0.05 * rng.standard_normal(15)
    variance, ell, noise = 1.3, 0.2, 1e-3
    gpy = GPy.models.GPRegression(X, y[:, None], GPy.kern.RBF(1, variance=variance, lengthscale=ell),
                                  noise_var=noise)
    qkernel = qkernels.QuadratureRBFLebesgueMeasure(wrappers.RBFGPy(gpy.kern), _measure([(0.0, 1.0)]))
    # noise_free=False: emukit otherwise replaces the model's noise by 1e-10.
    base = wrappers.BaseGaussianProcessGPy(kern=qkernel, gpy_model=gpy, noise_free=False)
    bq = VanillaBayesianQuadrature(base_gp=base, X=X, Y=y[:, None])
    mean, var = bq.integrate()
    # GPy's exact inference adds 1e-8 to the noise variance on the diagonal.
    gp = GaussianProcess(kernels.rbf(1, length_scale=ell, variance=variance), noise=noise + 1e-8,
                         noise_bounds="fixed", optimizer=None).fit(X, y)
    ours, std = gp.predict_integral(0.0, 1.0, return_std=True)
    assert ours[0] == pytest.approx(mean, rel=1e-10)
    assert std[0] == pytest.approx(np.sqrt(var), rel=1e-8)
