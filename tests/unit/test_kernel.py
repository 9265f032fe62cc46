"""Kernel objects: parsing safety, algebra and name clashes, hyperparameters (nothing compiled)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import sympy as sp

import kernelgen
from kernelgen import Hyperparameter, Kernel, KernelParseError, kernels


class TestFromString:
    def test_caret_is_power_with_python_precedence(self) -> None:
        a = Kernel.from_string("exp(-(x0-y0)^2/(2*l^2))", dim=1)
        b = Kernel.from_string("exp(-(x0-y0)**2/(2*l**2))", dim=1)
        assert sp.simplify(a.expr - b.expr) == 0

    @pytest.mark.parametrize(
        ("text", "fragment"),
        [
            ("__import__('os').system('true')", "calling anything but a plain function name"),
            ("x0.real * y0", "attribute access"),
            ("(lambda: 1)()", "calling anything but a plain function name"),
            ("open('f')", "unknown function 'open'"),
            ("eval('1')", "unknown function 'eval'"),
            ("[x0][0]", "syntax"),
            ("x0 if y0 else 1", "syntax"),
            ("exp(x0, y0)", "exactly one argument"),
            ("exp(z=1)", "keyword"),
            ("x3 * y0", "refers to input dimension 3"),
            ("_secret * x0", "name '_secret'"),
            ("'text'", "constant"),
            ("x0 +", "cannot parse"),
        ],
    )
    def test_refuses_anything_but_arithmetic(self, text: str, fragment: str) -> None:
        with pytest.raises(KernelParseError, match=None) as info:
            Kernel.from_string(text, dim=2)
        assert fragment in str(info.value)

    def test_values_for_unknown_symbols(self) -> None:
        with pytest.raises(ValueError, match="not symbols"):
            Kernel.from_string("exp(-(x0-y0)**2/l)", dim=1, m=2.0)

    @pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
    def test_non_positive_hyperparameter(self, bad: float) -> None:
        with pytest.raises(ValueError, match="positive and finite"):
            Kernel.from_string("exp(-(x0-y0)**2/l)", dim=1, l=bad)

    @pytest.mark.parametrize("dim", [0, -1, 1.5])
    def test_bad_dim(self, dim: object) -> None:
        with pytest.raises(ValueError, match="dim"):
            Kernel.from_string("x0*y0", dim=dim)  # type: ignore[arg-type]


class TestSympyConstructor:
    def test_symbols_are_canonicalised(self) -> None:
        a, b, ell = sp.symbols("a b ell")
        k = Kernel(sp.exp(-((a - b) ** 2) / ell**2), x=[a], y=[b], hyperparameters={"ell": 2.0})
        assert k.expr == sp.exp(-((sp.Symbol("x0") - sp.Symbol("y0")) ** 2) / sp.Symbol("ell", positive=True) ** 2)
        assert k.values == {"ell": 2.0}

    def test_unknown_symbol(self) -> None:
        a, b, ell, z = sp.symbols("a b ell z")
        with pytest.raises(ValueError, match=r"\['z'\]"):
            Kernel(sp.exp(-((a - b) ** 2) / ell**2) * z, x=[a], y=[b], hyperparameters={"ell": 2.0})

    def test_listed_but_unused(self) -> None:
        a, b = sp.symbols("a b")
        with pytest.raises(ValueError, match="do not appear"):
            Kernel(a * b, x=[a], y=[b], hyperparameters={"ell": 2.0})

    def test_string_is_redirected(self) -> None:
        with pytest.raises(TypeError, match="from_string"):
            Kernel("x0*y0", x=[], y=[])  # type: ignore[arg-type]


class TestAlgebra:
    def test_sum_renames_clashing_names_on_the_right(self) -> None:
        k = kernels.rbf(1, length_scale=0.5) + kernels.rbf(1, length_scale=2.0)
        assert k.all_hyperparameter_names == ("variance", "length_scale", "variance_2", "length_scale_2")
        assert k.values["length_scale"] == 0.5 and k.values["length_scale_2"] == 2.0
        k3 = k + kernels.rbf(1, length_scale=3.0)
        assert k3.values["length_scale_3"] == 3.0

    def test_dimension_mismatch(self) -> None:
        with pytest.raises(ValueError, match="dimension"):
            kernels.rbf(1) + kernels.rbf(2)

    @pytest.mark.parametrize("bad", [-1.0, float("nan")])
    def test_bad_scalars(self, bad: float) -> None:
        with pytest.raises(ValueError):
            bad * kernels.rbf(1)
        with pytest.raises(ValueError):
            kernels.rbf(1) ** bad


class TestHyperparameters:
    def test_with_bounds(self) -> None:
        k = kernels.rbf(1).with_bounds(length_scale=(0.1, 10.0))
        assert k.hyperparameter("length_scale").bounds == (0.1, 10.0)
        with pytest.raises(ValueError, match="bounds"):
            kernels.rbf(1).with_bounds(length_scale=(2.0, 1.0))
        with pytest.raises(ValueError, match="unknown hyperparameters"):
            kernels.rbf(1).with_values(nope=1.0)

    def test_rename(self) -> None:
        k = kernels.rbf(1).rename(length_scale="ell")
        assert k.all_hyperparameter_names == ("variance", "ell")
        assert sp.Symbol("ell", positive=True) in k.expr.free_symbols

    def test_immutable_and_picklable(self) -> None:
        k = kernels.matern(2, 2.5, length_scale=0.7)
        k2 = pickle.loads(pickle.dumps(k))
        assert k2 == k and hash(k2) == hash(k)
        with pytest.raises(AttributeError):
            k.dim = 3  # type: ignore[misc]
        assert isinstance(k.hyperparameters[0], Hyperparameter)


def test_not_differentiable_names_kernel_and_order() -> None:
    with pytest.raises(kernelgen.NotDifferentiableError, match=r"matern12.*dx=\(0,\)"):
        kernels.matern(1, 0.5)(np.zeros((1, 1)), dx=(0,))


def test_symmetry_detection() -> None:
    a = Kernel.from_string("x0*y0 + exp(-(x0-y0)**2)", dim=1)
    assert a.prepared.symmetric
    # An asymmetric expression is not a covariance function: refused at construction.
    with pytest.raises(kernelgen.InvalidKernelError, match="not symmetric"):
        Kernel.from_string("x0*y0**2", dim=1)


@pytest.mark.parametrize("constant", [sp.zoo, sp.nan, sp.I, sp.oo, -sp.oo])
def test_a_non_real_or_infinite_constant_is_an_invalid_kernel(constant: sp.Expr) -> None:
    x0, y0 = sp.symbols("x0 y0", real=True)
    expr = sp.Add(sp.exp(-(x0 - y0) ** 2), sp.Mul(constant, x0 * y0, evaluate=False), evaluate=False)
    with pytest.raises(kernelgen.InvalidKernelError, match="not real and finite"):
        Kernel(expr, x=[x0], y=[y0])
