"""Kernel integrals from generated code against mpmath quadrature (tests.support.integral_reference).

Closed forms (RBF, Matérn 1/2, 3/2, 5/2, polynomial factors) and the one-input quadrature path
(rational quadratic, periodic) are held to 1e-12 relative, the several-input cubature (Euclidean
Matérn 5/2 in 2-D) to 1e-8, on identical, nested, overlapping, 1e-8-wide, far-apart and reversed
intervals, box x point and box x derivative pairs, single and double integrals. One batch per
kernel holds every request (compiled once; the GP tests reuse it). Set KERNELGEN_FULL_SWEEP=1 for
more Euclidean cases.
"""

from __future__ import annotations

import os

import mpmath as mp
import numpy as np
import pytest
import sympy as sp

from kernelgen import Kernel, kernels
from kernelgen.runtime import compiled_integrals
from kernelgen.symbolic.request import Functional, Request
from tests.support.integral_reference import box_pair_stationary, pair, pair_stationary, point_box_stationary

FULL = os.environ.get("KERNELGEN_FULL_SWEEP") == "1"

#: (first functional, second functional), each (kind, derivatives, a, b); kind 0 is a point at b.
CASES_1D = [
    ((1, 0, 0.0, 1.0), (1, 0, 0.0, 1.0)),  # identical
    ((1, 0, 0.0, 1.0), (1, 0, 0.3, 0.5)),  # nested
    ((1, 0, 0.0, 1.0), (1, 0, 0.5, 1.7)),  # overlapping
    ((1, 0, 0.3, 0.3 + 1e-8), (1, 0, 0.3, 0.3 + 1e-8)),  # 1e-8 wide, identical
    ((1, 0, 0.3, 0.3 + 1e-8), (1, 0, 0.9, 0.9 + 1e-8)),  # 1e-8 wide, apart
    ((1, 0, 1.0, 0.0), (1, 0, 0.2, 0.6)),  # reversed: the sign flips
    ((1, 0, 0.0, 3.0), (1, 0, 5.0, 9.0)),  # wide, far apart
    ((1, 0, 0.0, 1.0), (0, 0, 0.4, 0.4)),  # box x point inside
    ((1, 0, 0.0, 1.0), (0, 0, 2.5, 2.5)),  # box x point outside
    ((1, 0, 0.0, 1.0), (0, 1, 0.4, 0.4)),  # box x derivative
    ((2, 0, 0.0, 1.0), (0, 0, 0.4, 0.4)),  # double integral x point
    ((2, 0, 0.0, 1.0), (0, 1, 1.0, 1.0)),  # double integral x derivative at the end
    ((2, 0, 0.0, 1.0), (2, 0, 0.0, 1.0)),
    ((2, 0, 0.1, 0.8), (1, 0, 0.3, 1.4)),
    ((2, 0, 0.2, 0.2 + 1e-8), (2, 0, 0.2, 0.2 + 1e-8)),
    ((2, 0, 1.0, 0.2), (1, 0, 0.0, 0.5)),  # reversed double integral
]

#: Every pair a 1-D GP needs (training, antiderivatives of both orders, derivative observations).
REQUESTS_1D = [Request.between(Functional((), (a,)), second) for a in (1, 2)
               for second in (Functional(()), Functional((0,)), Functional((), (1,)), Functional((), (2,)))]


def _functional(kind: int, k: int) -> Functional:
    return Functional((), (kind,)) if kind else Functional((0,) * k)


def _mp_kernel(kernel: Kernel):  # type: ignore[no-untyped-def]
    """The ORIGINAL expression at the kernel's values as an mpmath function of (x, y)."""
    values = {sp.Symbol(n, positive=True): sp.Rational(repr(v)) for n, v in kernel.values.items()}
    return sp.lambdify([*kernel.x, *kernel.y], kernel.expr.xreplace(values), modules="mpmath")


def _reference(kernel: Kernel, first: tuple, second: tuple) -> mp.mpf:  # type: ignore[type-arg]
    if kernel.name == "sum":
        return mp.fsum(_reference(part, first, second) for part in COMPOSITE_PARTS)
    g = _mp_kernel(kernel)
    if kernel.is_stationary:
        return pair_stationary(lambda v: g(v, 0), first, second)
    return pair(g, first, second)


def _value(kernel: Kernel, first: Functional, second: Functional, r1: list[float], r2: list[float]) -> float:
    batch = compiled_integrals(kernel, [Request.between(first, second)], gradient=True)
    z = np.zeros(1, dtype=np.int64)
    table = batch.table([first], [second])
    return float(batch.selected(np.array([r1]), np.array([r2]), kernel.parameter_vector, z, z, table)[0, 0])


KERNELS_1D = {
    "rbf": lambda: kernels.rbf(1, length_scale=0.7, variance=1.3),
    "matern12": lambda: kernels.matern(1, 0.5, length_scale=0.7),
    "matern32": lambda: kernels.matern(1, 1.5, length_scale=0.7),
    "matern52": lambda: kernels.matern(1, 2.5, length_scale=0.7),
    "rational_quadratic": lambda: kernels.rational_quadratic(1, length_scale=0.7, alpha=1.5),
    "composite": lambda: sum(COMPOSITE_PARTS[1:], COMPOSITE_PARTS[0]),
}


def _composite_parts() -> list[Kernel]:
    stationary = kernels.rbf(1, length_scale=0.5) * kernels.periodic(1, length_scale=1.2, period=1.5)
    return [stationary, kernels.linear(1, variance=0.3), kernels.matern(1, 1.5, length_scale=0.9)]


#: The composite's terms: its reference is the sum of theirs (each with its own reference).
COMPOSITE_PARTS = _composite_parts()


@pytest.mark.parametrize("name", list(KERNELS_1D))
def test_one_input_integrals_match_mpmath(name: str) -> None:
    kernel = KERNELS_1D[name]()
    smooth = name != "matern12"  # Matérn 1/2 has no derivative process
    compiled_integrals(kernel, [r for r in REQUESTS_1D if smooth or not r.dy], gradient=True)  # one module
    failures = []
    for first, second in CASES_1D:
        if not smooth and second[1]:
            continue
        value = _value(kernel, _functional(first[0], first[1]), _functional(second[0], second[1]),
                       [first[2], first[3]], [second[2], second[3]])
        with mp.workdps(30 if first[3] - first[2] > 1e-6 else 40):  # margin for 1e-8-wide intervals
            reference = _reference(kernel, first, second)
        error = float(abs(value - reference) / abs(reference))
        if error > 1e-12:
            failures.append((first, second, value, float(reference), error))
    assert not failures


def test_the_reference_reduction_matches_nested_quadrature() -> None:
    """The one-quadrature reference of stationary pairs equals the nested double integral."""
    g = _mp_kernel(KERNELS_1D["matern32"]())
    with mp.workdps(20):
        for first, second in (CASES_1D[2], CASES_1D[13]):
            reduced = pair_stationary(lambda v: g(v, 0), first, second)
            assert abs(reduced - pair(g, first, second)) <= mp.mpf(10) ** -17 * abs(reduced)


def test_reversed_intervals_flip_the_sign() -> None:
    kernel = KERNELS_1D["matern32"]()
    box, point = Functional((), (1,)), Functional(())
    forward = _value(kernel, box, point, [0.0, 1.0], [0.4, 0.4])
    assert _value(kernel, box, point, [1.0, 0.0], [0.4, 0.4]) == pytest.approx(-forward, rel=1e-15)
    both = _value(kernel, box, box, [1.0, 0.0], [2.0, 0.5])
    assert both == pytest.approx(_value(kernel, box, box, [0.0, 1.0], [0.5, 2.0]), rel=1e-14)


# ---------------------------------------------------------------------- two inputs
def test_ard_rbf_product_in_two_inputs() -> None:
    kernel = kernels.rbf(2, length_scale=[0.6, 1.3], variance=1.7)
    box, point = Functional.box(2), Functional(())
    g0 = _mp_kernel(kernels.rbf(1, length_scale=0.6, variance=1.0))
    g1 = _mp_kernel(kernels.rbf(1, length_scale=1.3, variance=1.0))
    compiled_integrals(kernel, [Request.between(box, box), Request.between(box, point),
                                Request.between(Functional.antiderivative(2, 1, 1), point)], gradient=True)
    mp.mp.dps = 40
    A, B = ((0.0, 1.0), (0.2, 0.9)), ((0.5, 1.5), (0.1, 0.3))
    value = _value(kernel, box, box, [A[0][0], A[1][0], A[0][1], A[1][1]], [B[0][0], B[1][0], B[0][1], B[1][1]])
    # Fubini: the product kernel's box integral is the product of one-input integrals.
    reference = mp.mpf("1.7") * pair(g0, (1, 0, *A[0]), (1, 0, *B[0])) * pair(g1, (1, 0, *A[1]), (1, 0, *B[1]))
    assert abs(value - reference) <= 1e-12 * abs(reference)
    narrow = [0.3, 0.2, 0.3 + 1e-8, 0.2 + 1e-8]
    value = _value(kernel, box, box, narrow, narrow)
    reference = mp.mpf("1.7") * pair(g0, (1, 0, 0.3, 0.3 + 1e-8), (1, 0, 0.3, 0.3 + 1e-8)) * pair(
        g1, (1, 0, 0.2, 0.2 + 1e-8), (1, 0, 0.2, 0.2 + 1e-8))
    assert abs(value - reference) <= 1e-12 * abs(reference)
    value = _value(kernel, Functional.antiderivative(2, 1, 1), point, [0.4, 0.1, 0.4, 0.9], [0.5, 0.7, 0.5, 0.7])
    reference = mp.mpf("1.7") * g0(0.4, 0.5) * pair(g1, (1, 0, 0.1, 0.9), (0, 0, 0.7, 0.7))
    assert abs(value - reference) <= 1e-12 * abs(reference)


def test_product_of_one_input_materns() -> None:
    kernel = Kernel.from_string(
        "s*exp(-abs(x0-y0)/l0)*(1+sqrt(5)*abs(x1-y1)/l1+5*(x1-y1)**2/(3*l1**2))*exp(-sqrt(5)*abs(x1-y1)/l1)",
        2, s=1.2, l0=0.8, l1=0.5, name="maternproduct")
    h0 = _mp_kernel(kernels.matern(1, 0.5, length_scale=0.8))
    h1 = _mp_kernel(kernels.matern(1, 2.5, length_scale=0.5))
    box, point = Functional.box(2), Functional(())
    along0 = Functional.antiderivative(2, 1, 0)
    compiled_integrals(kernel, [Request.between(box, box), Request.between(along0, point)], gradient=True)
    mp.mp.dps = 40
    for A, B in (((0.0, 1.0), (0.0, 1.0)), ((0.0, 1.0), (0.25, 0.5))):
        value = _value(kernel, box, box, [A[0], B[0], A[1], B[1]], [A[0], B[0], A[1], B[1]])
        reference = mp.mpf("1.2") * pair(h0, (1, 0, *A), (1, 0, *A)) * pair(h1, (1, 0, *B), (1, 0, *B))
        assert abs(value - reference) <= 1e-12 * abs(reference)
    value = _value(kernel, along0, point, [0.1, 0.4, 0.9, 0.4], [0.5, 0.7, 0.5, 0.7])
    reference = mp.mpf("1.2") * pair(h0, (1, 0, 0.1, 0.9), (0, 0, 0.5, 0.5)) * h1(0.4, 0.7)
    assert abs(value - reference) <= 1e-12 * abs(reference)


def _euclidean_matern52(ell: float):  # type: ignore[no-untyped-def]
    def kappa(u0: mp.mpf, u1: mp.mpf) -> mp.mpf:
        r = mp.sqrt(u0 * u0 + u1 * u1) / mp.mpf(ell)
        return (1 + mp.sqrt(5) * r + 5 * r * r / 3) * mp.exp(-mp.sqrt(5) * r)
    return kappa


EUCLIDEAN_BOXES = [
    (((0.0, 1.0), (0.0, 1.0)), ((0.0, 1.0), (0.0, 1.0))),  # identical
    (((0.0, 1.0), (0.0, 0.5)), ((0.2, 0.4), (0.1, 0.3))),  # nested
    (((0.0, 1.0), (0.0, 1.0)), ((0.5, 1.5), (0.3, 1.2))),  # overlapping
]


@pytest.mark.parametrize("boxes", EUCLIDEAN_BOXES if FULL else EUCLIDEAN_BOXES[:1])
def test_euclidean_matern52_box_pairs(boxes) -> None:  # type: ignore[no-untyped-def]
    kernel = kernels.matern(2, 2.5, length_scale=0.7)
    box, point = Functional.box(2), Functional(())
    compiled_integrals(kernel, [Request.between(box, box), Request.between(box, point),
                                Request.between(Functional.antiderivative(2, 1, 0), point)], gradient=True)
    A, B = boxes
    value = _value(kernel, box, box, [A[0][0], A[1][0], A[0][1], A[1][1]], [B[0][0], B[1][0], B[0][1], B[1][1]])
    with mp.workdps(12):  # 2-D tanh-sinh; 12 digits are ample for a 1e-8 check
        reference = box_pair_stationary(_euclidean_matern52(0.7), A, B)
    assert abs(value - reference) <= 1e-8 * abs(reference)


def test_euclidean_matern52_narrow_and_point_pairs() -> None:
    kernel = kernels.matern(2, 2.5, length_scale=0.7)
    box, point = Functional.box(2), Functional(())
    kappa = _euclidean_matern52(0.7)
    narrow = (((0.3, 0.3 + 1e-8), (0.2, 0.2 + 1e-8)),) * 2
    value = _value(kernel, box, box, [0.3, 0.2, 0.3 + 1e-8, 0.2 + 1e-8], [0.3, 0.2, 0.3 + 1e-8, 0.2 + 1e-8])
    with mp.workdps(30):
        reference = box_pair_stationary(kappa, *narrow)
    assert abs(value - reference) <= 1e-8 * abs(reference)
    value = _value(kernel, box, point, [0.0, 0.0, 1.0, 1.0], [0.4, 0.6, 0.4, 0.6])
    with mp.workdps(12):
        reference = point_box_stationary(kappa, (0.4, 0.6), ((0.0, 1.0), (0.0, 1.0)))
    assert abs(value - reference) <= 1e-8 * abs(reference)
    along0 = Functional.antiderivative(2, 1, 0)
    with mp.workdps(30):
        for x1, y1 in ((0.4, 0.4), (0.4, 0.7)):  # the kink on the line, and off it
            value = _value(kernel, along0, point, [0.1, x1, 0.9, x1], [0.5, y1, 0.5, y1])
            offset = mp.mpf(x1) - mp.mpf(y1)
            reference = pair(lambda s, r, d=offset: kappa(s - r, d), (1, 0, 0.1, 0.9), (0, 0, 0.5, 0.5))
            assert abs(value - reference) <= 1e-8 * abs(reference)


# ---------------------------------------------------------------------- log-hyperparameter gradients
GRADIENT_CASES = [((1,), (1,), [0.0, 1.0], [0.0, 1.0]), ((2,), (), [0.0, 1.0], [0.4, 0.4]),
                  ((2,), (2,), [0.1, 0.8], [0.3, 1.4]), ((1,), (1,), [0.0, 2.0], [3.0, 5.0])]


@pytest.mark.parametrize("name", ["rbf", "matern52", "rational_quadratic"])
def test_log_hyperparameter_gradients_match_finite_differences(name: str) -> None:
    kernel = KERNELS_1D[name]()
    batch = compiled_integrals(kernel, REQUESTS_1D, gradient=True)
    z = np.zeros(1, dtype=np.int64)
    p0 = kernel.parameter_vector
    for o1, o2, r1, r2 in GRADIENT_CASES:
        first, second = Functional((), o1), Functional((), o2)
        table = batch.table([first], [second])
        R1, R2 = np.array([r1]), np.array([r2])
        gradient = batch.contract(R1, R2, p0, z, z, table, np.ones((1, 1)))
        for g in range(p0.size):
            h = 1e-5
            up, down = p0.copy(), p0.copy()
            up[g] *= np.exp(h)
            down[g] *= np.exp(-h)
            fd = (batch.selected(R1, R2, up, z, z, table) - batch.selected(R1, R2, down, z, z, table))[0, 0] / (2 * h)
            assert gradient[g] == pytest.approx(fd, rel=1e-7, abs=1e-12)


def test_euclidean_gradient_matches_finite_differences() -> None:
    kernel = kernels.matern(2, 2.5, length_scale=0.7, variance=1.1)
    box = Functional.box(2)
    batch = compiled_integrals(kernel, [Request.between(box, box)], gradient=True)
    z = np.zeros(1, dtype=np.int64)
    table = batch.table([box], [box])
    R1, R2 = np.array([[0.0, 0.0, 1.0, 0.5]]), np.array([[0.2, 0.1, 0.6, 1.0]])
    p0 = kernel.parameter_vector
    gradient = batch.contract(R1, R2, p0, z, z, table, np.ones((1, 1)))
    for g in range(p0.size):
        h = 1e-4
        up, down = p0.copy(), p0.copy()
        up[g] *= np.exp(h)
        down[g] *= np.exp(-h)
        fd = (batch.selected(R1, R2, up, z, z, table) - batch.selected(R1, R2, down, z, z, table))[0, 0] / (2 * h)
        assert gradient[g] == pytest.approx(fd, rel=1e-6)


@pytest.mark.parametrize("gap", [0.0, 1e-4])  # adjacent intervals, then ten length scales apart
def test_a_kernel_much_narrower_than_the_intervals(gap: float) -> None:
    """Matérn 5/2 with length 1e-5 on intervals 0.133 wide: the closed form cancels, and quadrature
    must find the kernel's peak at the shared end (no Gauss node of a wide cell falls near it)."""
    ell = 1e-5
    kernel = kernels.matern(1, 2.5, length_scale=ell)
    batch = compiled_integrals(kernel, [Request.between(Functional((), (1,)), Functional((), (1,)))])
    edges = np.linspace(0.0, 2.0, 16)
    first, second = (0.0, edges[2], edges[3]), (0.0, edges[3] + gap, edges[4] + gap)
    R1 = np.array([[first[1], first[2]]])
    R2 = np.array([[second[1], second[2]]])
    table = batch.table([Functional((), (1,))], [Functional((), (1,))])
    zero = np.zeros(1, dtype=np.int64)
    value = batch.selected(R1, R2, kernel.parameter_vector, zero, zero, table)[0, 0]
    # Intervals 13000 length scales wide: up to terms of size exp(-sqrt(5) 13000) the pair is
    # ell^2 int_0^inf s k(gap / ell + s) ds in units of ell (the weight grows linearly from the gap).
    with mp.workdps(30):
        s5, delta = mp.sqrt(5), mp.mpf(gap) / ell
        ref = ell**2 * mp.quad(lambda t: t * (1 + s5 * (delta + t) + mp.mpf(5) / 3 * (delta + t) ** 2)
                               * mp.exp(-s5 * (delta + t)), [0, 1, mp.inf])
    assert ref > 0
    assert abs(value - float(ref)) <= 1e-9 * float(ref)


def test_boxes_whose_kernel_underflows_give_zero_not_an_error() -> None:
    """RBF of length 0.02 between boxes 0.75 apart: exp(-703) ~ 1e-305, below the relative allowance."""
    kernel = kernels.rbf(1, length_scale=0.02, variance=20.0)
    box = Functional((), (1,))
    batch = compiled_integrals(kernel, [Request.between(box, box)])
    zero = np.zeros(1, dtype=np.int64)
    value = batch.selected(np.array([[0.0, 0.05]]), np.array([[0.8, 0.85]]), kernel.parameter_vector, zero, zero,
                           batch.table([box], [box]))[0, 0]
    with mp.workdps(30):  # the integrand is below exp(-703) everywhere on the boxes
        bound = 20.0 * 0.05 * 0.05 * mp.exp(-mp.mpf(0.75) ** 2 / (2 * mp.mpf(0.02) ** 2))
    assert 0.0 <= value <= float(bound) + 1e-280
