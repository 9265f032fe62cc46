"""SymbolicKernel and from_sklearn without a dimension: isotropic kernels on inputs of any width,
against the native scikit-learn kernels (values, gradients, fits), plus SymbolicKernel(SymbolicKernel)."""

from __future__ import annotations

import pickle
from functools import partial

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, DotProduct, Matern, RationalQuadratic, WhiteKernel
from sklearn.gaussian_process.kernels import ConstantKernel as C

from kernelgen import kernels
from kernelgen.sklearn import KernelFamily, SymbolicKernel, from_sklearn

NATIVE = {
    "c_rbf_white": C(2.0) * RBF(0.5) + WhiteKernel(0.1),
    "matern32": Matern(0.8, nu=1.5),
    "rq_plus_dot": RationalQuadratic(0.7, 1.5) + DotProduct(0.5),
}


@pytest.mark.parametrize("name", list(NATIVE))
def test_isotropic_kernels_work_on_any_dimension(name: str) -> None:
    native = NATIVE[name]
    ours = from_sklearn(native)
    assert ours.dim is None
    for d in (1, 2, 3):
        X = np.random.RandomState(d).normal(size=(6, d))
        Y = np.random.RandomState(d + 10).normal(size=(4, d))
        K, G = ours(X, eval_gradient=True)
        K0, G0 = native(X, eval_gradient=True)
        assert_allclose(K, K0, rtol=1e-12, atol=1e-14)
        assert_allclose(G, G0, rtol=1e-11, atol=1e-13)
        assert_allclose(ours(X, Y), native(X, Y), rtol=1e-12, atol=1e-14)
        assert_allclose(ours.diag(X), native.diag(X), rtol=1e-12)


def test_fit_in_two_dimensions_matches_native() -> None:
    rng = np.random.RandomState(0)
    X = rng.uniform(-2, 2, (25, 2))
    y = np.sin(X[:, 0]) * np.cos(X[:, 1]) + 0.05 * rng.normal(size=25)
    native = C(1.0) * RBF(1.0) + WhiteKernel(0.1)
    g0 = GaussianProcessRegressor(native, random_state=0).fit(X, y)
    g1 = GaussianProcessRegressor(from_sklearn(native), random_state=0).fit(X, y)
    assert_allclose(g1.kernel_.theta, g0.kernel_.theta, rtol=1e-5, atol=1e-6)
    assert_allclose(g1.predict(X[:5] + 0.1), g0.predict(X[:5] + 0.1), rtol=1e-6, atol=1e-8)


def test_symbolic_kernel_of_a_symbolic_kernel() -> None:
    native = C(2.0) * RBF(0.5) + WhiteKernel(0.1)
    X = np.random.RandomState(3).normal(size=(5, 2))
    for base in (from_sklearn(native), from_sklearn(native, dim=2)):
        again = SymbolicKernel(base)
        assert again == base and again.noise_level == 0.1
        assert_allclose(again(X), native(X), rtol=1e-12)
        shorter = SymbolicKernel(base, length_scale=0.25)
        assert shorter.length_scale == 0.25 and shorter.constant_value == 2.0
        assert_allclose(shorter(X), (C(2.0) * RBF(0.25) + WhiteKernel(0.1))(X), rtol=1e-12)
        # scikit-learn's own machinery: clone, pickle, clone_with_theta, set_params
        assert clone(again) == again and pickle.loads(pickle.dumps(again)) == again
        moved = again.clone_with_theta(again.theta + 0.1)
        assert_allclose(moved.theta, again.theta + 0.1)
        assert again.set_params(length_scale=0.4).length_scale == 0.4


def test_factories_give_kernels_of_any_dimension() -> None:
    X = np.random.RandomState(4).normal(size=(7, 3))
    matern = SymbolicKernel(partial(kernels.matern, nu=2.5), length_scale=0.7)
    assert_allclose(matern(X), Matern(0.7, nu=2.5)(X), rtol=1e-12, atol=1e-15)
    assert isinstance(matern.kernel, KernelFamily) and "any input dimension" in repr(matern)
    assert_allclose(SymbolicKernel(kernels.rbf)(X[:, :2]), RBF(1.0)(X[:, :2]), rtol=1e-12)
    ard = SymbolicKernel(partial(kernels.rbf, ard=True))
    with pytest.raises(ValueError, match="hyperparameters"):
        ard(X)  # one length scale per dimension: not one family of names
    with pytest.raises(TypeError, match="from_sklearn"):
        SymbolicKernel(RBF())
    with pytest.raises(ValueError, match="n_features"):
        matern(np.zeros(3))
