"""Preparation for differentiation and module building, without compiling anything.

References are independent of the preparation: ``sympy.diff`` of the ORIGINAL expression, its
limit at coincident points, and known smoothness of the Matern family.
"""

from __future__ import annotations

import math

import pytest
import sympy as sp

from kernelgen import Kernel, NotDifferentiableError, kernels
from kernelgen.codegen.ir import BatchSpec, build
from kernelgen.codegen.render import checksum_ok, render
from kernelgen.symbolic.request import Output, Request


def _at(kernel: Kernel, expr: sp.Expr, x: list[float], y: list[float]) -> float:
    subs = {**dict(zip(kernel.x, x)), **dict(zip(kernel.y, y))}
    subs.update({kernel.symbol(n): v for n, v in kernel.values.items()})
    return float(expr.evalf(40, subs=subs))


def _original_derivative(kernel: Kernel, request: Request) -> sp.Expr:
    e = kernel.expr
    for i in request.dx:
        e = sp.diff(e, kernel.x[i])
    for i in request.dy:
        e = sp.diff(e, kernel.y[i])
    return e


CASES = [
    (lambda: kernels.rbf(2, length_scale=[0.7, 1.3], ard=True), Request((0,), (1,))),
    (lambda: kernels.matern(2, 2.5, length_scale=0.8), Request((0,), (0,))),
    (lambda: kernels.rational_quadratic(1, length_scale=0.9, alpha=1.7), Request((0, 0), (0,))),
    (lambda: kernels.periodic(1, length_scale=0.8, period=1.9) + kernels.linear(1), Request((0,), (0,))),
]


@pytest.mark.parametrize(("make", "request_"), CASES)
def test_general_branch_matches_sympy_diff_of_original(make, request_: Request) -> None:  # noqa: ANN001
    k = make()
    prepared = k.prepared
    x, y = [0.31, -0.4][: k.dim], [-0.2, 0.5][: k.dim]
    got = prepared.to_inputs(prepared.output(request_.dx, request_.dy))
    assert _at(k, got, x, y) == pytest.approx(_at(k, _original_derivative(k, request_), x, y), rel=1e-12)


def test_coincident_limit_matches_limit_of_original() -> None:
    k = kernels.matern(1, 2.5, length_scale=0.8, variance=1.3)
    prepared = k.prepared
    value = prepared.coincident((0,), (0,), prepared.branches[0])
    t = sp.Symbol("t", positive=True)
    original = _original_derivative(k, Request((0,), (0,))).subs({k.x[0]: t, k.y[0]: 0})
    limit = sp.limit(original.subs({k.symbol(n): v for n, v in k.values.items()}), t, 0, "+")
    assert float(value.subs({k.symbol(n): v for n, v in k.values.items()})) == pytest.approx(float(limit), rel=1e-14)


@pytest.mark.parametrize(("nu", "smoothness"), [(0.5, 0), (1.5, 2), (2.5, 4)])
def test_matern_smoothness(nu: float, smoothness: int) -> None:
    assert kernels.matern(2, nu).smoothness == smoothness
    assert math.isinf(kernels.rbf(2).smoothness)


def test_stationarity() -> None:
    assert kernels.rbf(2).is_stationary and not (kernels.rbf(2) + kernels.linear(2)).is_stationary


def test_unsupported_request_is_refused_before_any_code() -> None:
    with pytest.raises(NotDifferentiableError, match="matern32"):
        build(BatchSpec.make(kernels.matern(1, 1.5), [Request((0, 0), ())]))


def test_built_module_lists_outputs_and_symmetry() -> None:
    k = kernels.rbf(2)
    spec = BatchSpec.make(k, [Request(), Request((0,), (0,)), ((1,), ())], gradient=True)
    module = build(spec)
    assert module.outputs == spec.outputs
    assert module.outputs[:3] == (Output(Request()), Output(Request(), "variance"), Output(Request(), "length_scale"))
    assert module.symmetric_kernel and not module.symmetric  # (dx=(1,), dy=()) is not symmetric
    assert build(BatchSpec.make(k, [Request((0,), (0,))])).symmetric
    text = render(module)
    assert checksum_ok(text)
    compile(text, "<generated>", "exec")  # valid Python; numba is not involved
