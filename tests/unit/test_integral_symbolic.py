"""Integral functionals without compiled code: typed requests, the decomposition, closed forms, moments.

Closed forms are checked against mpmath quadrature of the previous order (independent of the
SymPy integration that produced them and of its own differentiation check).
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
import sympy as sp

from kernelgen import Kernel, kernels
from kernelgen.runtime.integrals import as_boxes
from kernelgen.symbolic.integration import IntegralForm, T, moment
from kernelgen.symbolic.request import Antiderivative, Functional, Request


# ---------------------------------------------------------------------- typed requests
def test_integral_fields_default_to_none_and_keep_derivative_requests_unchanged() -> None:
    r = Request((0,), (1,))
    assert (r.ix, r.iy) == ((), ()) and not r.is_integral
    assert str(r) == "(dx=(0,), dy=(1,))"
    assert r == Request((0,), (1,), (), ())


def test_between_builds_the_pair_of_functionals() -> None:
    box = Functional.box(2)
    point = Functional((1,))
    r = Request.between(box, point)
    assert r == Request((), (1,), (1, 1), ())
    assert (r.first, r.second) == (box, point)
    assert r.is_integral and r.fits(2) and not r.fits(3)
    assert Functional.antiderivative(3, 2, 1) == Functional((), (0, 2, 0))


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"anchor": float("nan")}, "anchor"), ({"anchor": math.inf}, "anchor"), ({"anchor": "0"}, "anchor"),
    ({"anchor": 0.0, "order": 3}, "order must be 1 or 2"), ({"anchor": 0.0, "order": 1.5}, "order"),
    ({"anchor": 0.0, "order": True}, "order"), ({"anchor": 0.0, "dim": -1}, "dim"),
])
def test_antiderivative_validates_its_arguments(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Antiderivative(**kwargs)


def test_antiderivative_dim_is_checked_against_the_model() -> None:
    a = Antiderivative(np.float64(0.5), 2, 1)
    assert a.functional(2) == Functional((), (0, 2))
    with pytest.raises(ValueError, match=r"dim must be an integer in \[0, 1\)"):
        a.functional(1)


def test_boxes_are_validated_and_shaped() -> None:
    lo, up = as_boxes(0.0, 1.0, 1)
    assert lo.shape == up.shape == (1, 1)
    lo, up = as_boxes([0.0, 0.5], [1.0, 2.0], 1)
    assert lo.shape == (2, 1)
    lo, up = as_boxes([0.0, 0.5], [1.0, 2.0], 2)
    assert lo.shape == (1, 2)
    with pytest.raises(ValueError, match="lower contains NaN"):
        as_boxes([np.nan, 0.0], [1.0, 1.0], 2)
    with pytest.raises(ValueError, match="same shape"):
        as_boxes(np.zeros((3, 2)), np.zeros((2, 2)), 2)
    with pytest.raises(ValueError, match=r"upper must have shape \(m, 2\)"):
        as_boxes(np.zeros((3, 2)), np.zeros((3, 3)), 2)


# ---------------------------------------------------------------------- decomposition
def _structure(k: Kernel) -> list[list[tuple[tuple[int, ...], str]]]:
    return [[(p.dims, p.kind) for p in t.parts] for t in IntegralForm.of(k).terms]


def test_products_over_inputs_split_into_one_input_factors() -> None:
    assert _structure(kernels.rbf(2, length_scale=[1.0, 2.0])) == [[((0,), "stationary1d"), ((1,), "stationary1d")]]
    assert _structure(kernels.rbf(2)) == [[((0,), "stationary1d"), ((1,), "stationary1d")]]
    assert _structure(kernels.periodic(3))[0] == [((j,), "stationary1d") for j in range(3)]
    linear = _structure(kernels.linear(2))
    assert sorted(map(tuple, linear)) == [(((0,), "polynomial"),), (((1,), "polynomial"),)]


def test_euclidean_kernels_are_one_stationary_group() -> None:
    assert _structure(kernels.matern(2, 2.5)) == [[((0, 1), "group")]]
    assert _structure(kernels.rational_quadratic(2)) == [[((0, 1), "group")]]
    mixed = kernels.rbf(2) + kernels.matern(2, 1.5)
    assert sorted(map(tuple, _structure(mixed))) == sorted(
        [(((0,), "stationary1d"), ((1,), "stationary1d")), (((0, 1), "group"),)])


def test_positive_branch_of_matern_and_an_unsupported_factor() -> None:
    form = IntegralForm.of(kernels.matern(1, 0.5, length_scale=2.0))
    ell = sp.Symbol("length_scale", positive=True)
    assert sp.simplify(form.factors[0].positive - sp.exp(-T / ell)) == 0
    modulated = Kernel.from_string("x0 * y0 * exp(-(x0 - y0)**2)", 1, name="modulated")
    with pytest.raises(ValueError, match="neither a polynomial in x, y nor a function of x - y"):
        IntegralForm.of(modulated)


@pytest.mark.parametrize("factory", [lambda: kernels.rbf(1), lambda: kernels.matern(1, 0.5),
                                     lambda: kernels.matern(1, 1.5), lambda: kernels.matern(1, 2.5)])
def test_closed_forms_integrate_the_previous_order(factory) -> None:  # type: ignore[no-untyped-def]
    factor = IntegralForm.of(factory()).factors[0]
    assert factor.closed_max(4) == 4
    ell = sp.Symbol("length_scale", positive=True)
    mp.mp.dps = 30
    for n in range(1, 5):
        f_prev = sp.lambdify(T, factor.value(n - 1).subs(ell, sp.Rational(7, 10)), "mpmath")
        f_n = sp.lambdify(T, factor.value(n).subs(ell, sp.Rational(7, 10)), "mpmath")
        for t in (mp.mpf("0.3"), mp.mpf("2.5")):
            reference = mp.quad(f_prev, [0, t])
            assert abs(f_n(t) - reference) <= mp.mpf(10) ** -25 * max(1, abs(reference))


def test_no_closed_form_means_quadrature() -> None:
    assert IntegralForm.of(kernels.rational_quadratic(1)).factors[0].closed_max(4) == 0
    assert IntegralForm.of(kernels.periodic(1)).factors[0].closed_max(4) == 0


@pytest.mark.parametrize("power", [0, 1, 3])
@pytest.mark.parametrize("kind", [0, 1, 2])
def test_moments_of_monomials(power: int, kind: int) -> None:
    a, b = sp.Rational(-3, 10), sp.Rational(7, 5)
    s = sp.Symbol("s")
    value = moment(power, kind, 1 if kind == 0 else 0, a, b)
    if kind == 0:
        expected = sp.diff(s**power, s).subs(s, b)
    elif kind == 1:
        expected = sp.integrate(s**power, (s, a, b))
    else:
        expected = sp.integrate((b - s) * s**power, (s, a, b))
    assert sp.simplify(value - expected) == 0
