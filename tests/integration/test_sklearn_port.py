"""Our versions of the generic tests in scikit-learn's ``gaussian_process/tests/test_kernels.py``,
run against :class:`SymbolicKernel` equivalents (``from_sklearn``) of scikit-learn's test kernels.

Ported: kernel_gradient (our own central differences), kernel_theta, auto_vs_cross, kernel_diag,
kernel_operator_commutative, kernel_anisotropic, kernel_stationary, kernel_input_type,
kernel_clone, kernel_clone_after_set_params (values and bounds only), matern_kernel (special
cases through conversion), kernel_versus_pairwise, set_get_params, repr_kernels,
rational_quadratic_kernel (anisotropic RQ is refused), plus pickling.

Left out: the PairwiseKernel entries (not convertible: from_sklearn raises, tested below);
compound_kernel_input_type (CompoundKernel class); the isotropic -> anisotropic switch in
clone_after_set_params and Matern with non-special nu (a SymbolicKernel's structure is fixed).
"""

from __future__ import annotations

import pickle
from inspect import signature

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.gaussian_process.kernels import (
    RBF,
    ConstantKernel,
    DotProduct,
    ExpSineSquared,
    Matern,
    PairwiseKernel,
    RationalQuadratic,
    WhiteKernel,
)
from sklearn.metrics.pairwise import pairwise_kernels

from kernelgen import kernels
from kernelgen.sklearn import SymbolicKernel, UnsupportedKernelError, from_sklearn

X = np.random.RandomState(0).normal(0, 1, (5, 2))
Y = np.random.RandomState(1).normal(0, 1, (6, 2))

NATIVE = {
    "rbf": RBF(length_scale=2.0),
    "rbf_bounds": RBF(length_scale_bounds=(0.5, 2.0)),
    "constant": ConstantKernel(constant_value=10.0),
    "c_rbf_fixed": 2.0 * RBF(length_scale=0.33, length_scale_bounds="fixed"),
    "c_rbf": 2.0 * RBF(length_scale=0.5),
    "rbf_white": RBF(length_scale=2.0) + WhiteKernel(noise_level=3.0),
    "c_rbf_ard": 2.0 * RBF(length_scale=[0.5, 2.0]),
    "c_matern_fixed": 2.0 * Matern(length_scale=0.33, length_scale_bounds="fixed"),
    "c_matern12": 2.0 * Matern(length_scale=0.5, nu=0.5),
    "c_matern32": 2.0 * Matern(length_scale=1.5, nu=1.5),
    "c_matern52": 2.0 * Matern(length_scale=2.5, nu=2.5),
    "c_matern12_ard": 2.0 * Matern(length_scale=[0.5, 2.0], nu=0.5),
    "c_matern32_ard": 3.0 * Matern(length_scale=[2.0, 0.5], nu=1.5),
    "c_matern52_ard": 4.0 * Matern(length_scale=[0.5, 0.5], nu=2.5),
    "rq": RationalQuadratic(length_scale=0.5, alpha=1.5),
    "ess": ExpSineSquared(length_scale=0.5, periodicity=1.5),
    "dot": DotProduct(sigma_0=2.0),
    "dot_sq": DotProduct(sigma_0=2.0) ** 2,
    "rbf_1elem": RBF(length_scale=[2.0]),
    "matern_1elem": Matern(length_scale=[2.0]),
}
IDS = list(NATIVE)


@pytest.fixture(params=IDS)
def pair(request):
    native = clone(NATIVE[request.param])
    return request.param, native, from_sklearn(native, dim=2)


def test_equivalent_to_native(pair):
    _, native, kernel = pair
    K, G = kernel(X, eval_gradient=True)
    K0, G0 = native(X, eval_gradient=True)
    assert_allclose(K, K0, rtol=1e-12, atol=1e-14)
    # noise (if any) is last in our theta; in these trees it is also last in scikit-learn's.
    assert_allclose(G, G0, rtol=1e-11, atol=1e-13)
    assert_allclose(kernel(X, Y), native(X, Y), rtol=1e-12, atol=1e-14)


def test_kernel_gradient(pair):
    _, _, kernel = pair
    K, G = kernel(X, eval_gradient=True)
    assert G.shape == (X.shape[0], X.shape[0], kernel.theta.shape[0])
    h = 1e-6
    for i in range(kernel.theta.size):
        e = np.zeros_like(kernel.theta)
        e[i] = h
        fd = (kernel.clone_with_theta(kernel.theta + e)(X) - kernel.clone_with_theta(kernel.theta - e)(X)) / (2 * h)
        assert_allclose(G[:, :, i], fd, atol=1e-7 * max(1.0, np.abs(K).max()))


def test_kernel_theta(pair):
    _, _, kernel = pair
    theta = kernel.theta
    _, G = kernel(X, eval_gradient=True)
    args = [p for p in signature(type(kernel).__init__).parameters if p not in ("self", "kernel", "hyperparameters")]
    assert "noise_level_bounds" in args  # explicit; the rest come from get_params
    params = kernel.get_params()
    assert {h.name for h in kernel.hyperparameters} <= {k[: -len("_bounds")] for k in params if k.endswith("_bounds")}
    free = [h for h in kernel.hyperparameters if not h.fixed]
    for i, h in enumerate(free):
        assert theta[i] == np.log(getattr(kernel, h.name))
    # Fixing one hyperparameter removes exactly its entry and gradient column.
    for i, h in enumerate(free):
        fixed = SymbolicKernel(**{**kernel.get_params(), h.name + "_bounds": "fixed"})
        _, G_new = fixed(X, eval_gradient=True)
        assert fixed.theta.shape[0] == theta.shape[0] - 1
        assert_array_equal(np.delete(theta, i), fixed.theta)
        assert_array_equal(np.delete(G, i, axis=2), G_new)
    # theta and attributes stay in sync both ways.
    for i, h in enumerate(free):
        t = kernel.theta.copy()
        t[i] = np.log(42)
        kernel.theta = t
        assert_allclose(getattr(kernel, h.name), 42)
        setattr(kernel, h.name, 43)
        assert_allclose(kernel.theta[i], np.log(43))


def test_auto_vs_cross_and_diag(pair):
    name, _, kernel = pair
    if name != "rbf_white":  # the noise term is on the diagonal of k(X) only, as in scikit-learn
        assert_allclose(kernel(X), kernel(X, X), rtol=1e-12, atol=1e-14)
    assert_allclose(np.diag(kernel(X)), kernel.diag(X), rtol=1e-12)


def test_kernel_operator_commutative():
    k = from_sklearn(RBF(2.0), dim=2)
    assert_allclose((k + 1.0)(X), (1.0 + k)(X))
    assert_allclose((3.0 * k)(X), (k * 3.0)(X))


def test_kernel_anisotropic():
    kernel = from_sklearn(3.0 * RBF([0.5, 2.0]))
    iso = from_sklearn(3.0 * RBF(2.0), dim=2)
    X1 = X.copy()
    X1[:, 0] *= 4
    assert_allclose(kernel(X), iso(X1), rtol=1e-12)
    kernel.theta = kernel.theta + np.log(2)
    assert_allclose(kernel.theta, np.log([6.0, 1.0, 4.0]))
    assert_allclose([kernel.length_scale_0, kernel.length_scale_1], [1.0, 4.0])


def test_kernel_stationary(pair):
    _, native, kernel = pair
    assert kernel.is_stationary() == native.is_stationary()
    if kernel.is_stationary():
        K = kernel(X, X + 1)
        assert_allclose(K[0, 0], np.diag(K))
    assert kernel.requires_vector_input


def test_kernel_clone(pair):
    _, _, kernel = pair
    cloned = clone(kernel)
    assert cloned == kernel and cloned is not kernel
    assert kernel.get_params() == cloned.get_params()
    for attr in set(dir(kernel)) | set(dir(cloned)):
        if attr.startswith("hyperparameter_"):
            assert getattr(kernel, attr) == getattr(cloned, attr)
    assert any(a.startswith("hyperparameter_") for a in dir(kernel))


def test_kernel_clone_after_set_params(pair):
    _, _, kernel = pair
    params = kernel.get_params()
    for h in kernel.hyperparameters:
        params[h.name] = 1.7
        params[h.name + "_bounds"] = (1e-3, 1e3)
    cloned = clone(kernel)
    cloned.set_params(**params)
    again = clone(cloned)
    assert again.get_params() == cloned.get_params() and again is not cloned
    assert again.theta.shape[0] == len(kernel.hyperparameters)
    assert_allclose(again(X), cloned(X))


def test_matern_special_cases():
    K = from_sklearn(Matern(nu=1.5, length_scale=1.0), dim=2)(X)
    assert_allclose(np.diag(K), 1.0)
    d = np.sqrt(((X[:, None, :] - X[None, :, :]) ** 2).sum(-1))
    assert_allclose(from_sklearn(Matern(nu=0.5, length_scale=1.0), dim=2)(X), np.exp(-d), rtol=1e-12)
    assert_allclose(from_sklearn(Matern(nu=np.inf, length_scale=1.0), dim=2)(X), RBF(1.0)(X), rtol=1e-12)
    with pytest.raises(UnsupportedKernelError, match="nu=1.7"):
        from_sklearn(Matern(nu=1.7), dim=2)


def test_kernel_versus_pairwise(pair):
    name, _, kernel = pair
    if name != "rbf_white":
        assert_allclose(kernel(X), pairwise_kernels(X, metric=kernel), rtol=1e-12, atol=1e-14)
    assert_allclose(kernel(X, Y), pairwise_kernels(X, Y, metric=kernel), rtol=1e-12, atol=1e-14)


def test_set_get_params(pair):
    _, _, kernel = pair
    params = kernel.get_params()
    free = [h for h in kernel.hyperparameters if not h.fixed]
    for i, h in enumerate(free):
        assert_allclose(np.exp(kernel.theta[i]), params[h.name])
    for i, h in enumerate(free):
        kernel.set_params(**{h.name: 10})
        assert_allclose(np.exp(kernel.theta[i]), 10)
    with pytest.raises(ValueError, match="invalid parameter"):
        kernel.set_params(not_a_parameter=1.0)


def test_repr_and_pickle(pair):
    _, _, kernel = pair
    text = repr(kernel)
    assert text.startswith("SymbolicKernel(")
    back = pickle.loads(pickle.dumps(kernel))
    assert back == kernel
    assert_allclose(back(X), kernel(X))


def test_rational_quadratic_anisotropic_refused():
    with pytest.raises(UnsupportedKernelError, match="isotropic"):
        from_sklearn(RationalQuadratic(length_scale=[1.0, 1.0]), dim=2)


def test_unsupported_kernels_named():
    with pytest.raises(UnsupportedKernelError, match="PairwiseKernel"):
        from_sklearn(PairwiseKernel(gamma=1.0, metric="rbf") + RBF(), dim=2)
    with pytest.raises(UnsupportedKernelError, match="WhiteKernel .* inside a Product"):
        from_sklearn(ConstantKernel() * WhiteKernel(), dim=2)


def test_reserved_names_refused():
    k = kernels.rbf(1).rename(length_scale="theta")
    with pytest.raises(ValueError, match="clash"):
        SymbolicKernel(k)
