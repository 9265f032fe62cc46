"""Kernel objects evaluated: values of parsed and combined kernels, gradients, input validation."""

from __future__ import annotations

import numpy as np
import pytest

from kernelgen import Kernel, kernels


class TestFromString:
    def test_inputs_and_hyperparameters(self) -> None:
        k = Kernel.from_string("s * exp(-((x0 - y0)^2 + (x1 - y1)^2) / (2 * l^2))", dim=2, l=0.3)
        assert k.dim == 2
        assert k.hyperparameter_names == ("s", "l")
        assert k.values == {"s": 1.0, "l": 0.3}
        # Same value as the hand-written formula at one point.
        x, y = np.array([[0.1, 0.2]]), np.array([[0.4, -0.3]])
        expected = np.exp(-((0.3) ** 2 + 0.5**2) / (2 * 0.09))
        assert k(x, y)[0, 0] == pytest.approx(expected, rel=1e-14)


class TestAlgebra:
    def test_sum_and_product_values(self) -> None:
        X = np.random.default_rng(0).uniform(size=(6, 2))
        a, b = kernels.rbf(2, length_scale=0.4), kernels.linear(2, variance=0.7)
        np.testing.assert_allclose((a + b)(X), a(X) + b(X), rtol=1e-14)
        np.testing.assert_allclose((a * b)(X), a(X) * b(X), rtol=1e-14)
        np.testing.assert_allclose((2.5 * a)(X), 2.5 * a(X), rtol=1e-14)
        np.testing.assert_allclose((a + 0.5)(X), a(X) + 0.5, rtol=1e-14)
        np.testing.assert_allclose((a**2)(X), a(X) ** 2, rtol=1e-14)
        assert sum([a, b]) == a + b


class TestHyperparameters:
    def test_theta_bounds_fixed(self) -> None:
        k = kernels.rbf(2, length_scale=[0.3, 0.5], variance=1.3).fix("variance")
        assert k.hyperparameter_names == ("length_scale_0", "length_scale_1")
        np.testing.assert_allclose(k.theta, np.log([0.3, 0.5]))
        np.testing.assert_allclose(k.bounds, np.log([[1e-5, 1e5], [1e-5, 1e5]]))
        k2 = k.with_theta(np.log([0.2, 0.6]))
        assert k2.values == {"variance": 1.3, "length_scale_0": 0.2, "length_scale_1": 0.6}
        X = np.random.default_rng(1).uniform(size=(4, 2))
        _, G = k(X, eval_gradient=True)
        assert G.shape == (4, 4, 2)


class TestEvaluationInputs:
    @pytest.mark.parametrize(
        ("X", "fragment"),
        [
            (np.ones((3, 3)), r"X1 must have shape \(n, 2\)"),
            (np.array([[0.0, np.nan]]), "X1 contains NaN or inf"),
            (np.array([[0.0, np.inf]]), "X1 contains NaN or inf"),
            ([["a", "b"]], "X1 must be a numeric array"),
        ],
    )
    def test_bad_points(self, X: object, fragment: str) -> None:
        with pytest.raises(ValueError, match=fragment):
            kernels.rbf(2)(X)

    def test_bad_second_argument(self) -> None:
        with pytest.raises(ValueError, match="X2"):
            kernels.rbf(2)(np.ones((2, 2)), np.ones((2, 3)))

    @pytest.mark.parametrize("dx", [(2,), (-1,), ("a",), (0.5,)])
    def test_bad_request(self, dx: tuple) -> None:
        with pytest.raises(ValueError, match="dx"):
            kernels.rbf(2)(np.ones((2, 2)), dx=dx)

    def test_one_dimensional_input_accepted_for_dim_1(self) -> None:
        k = kernels.rbf(1)
        np.testing.assert_array_equal(k(np.array([0.0, 1.0])), k(np.array([[0.0], [1.0]])))

    def test_diag(self) -> None:
        k = kernels.matern(2, 1.5, length_scale=0.5, variance=2.0)
        X = np.random.default_rng(2).uniform(size=(5, 2))
        np.testing.assert_allclose(k.diag(X), 2.0)
        # Matern 3/2: -d2k/dr2 at 0 is 3 sigma^2 / l^2 for each coordinate.
        np.testing.assert_allclose(k.diag(X, dx=(0,), dy=(0,)), 3 * 2.0 / 0.25, rtol=1e-14)
