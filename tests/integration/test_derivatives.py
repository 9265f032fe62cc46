"""Derivative accuracy in one dimension against the mpmath finite-difference reference.

For every built-in kernel and two composites (``rbf*periodic+linear`` and
``matern52*rbf+rq``), every supported request ``(dx, dy)`` up to total order 4 is compiled
in ONE batch per kernel (with log-hyperparameter gradients) and compared, at seven point
pairs -- two random pairs, an exactly coincident pair, and pairs at distances 1, 1e-3,
1e-8 and 1e-15 -- with :func:`reference.mp_derivative`: nested mpmath central differences
of the ORIGINAL expression ``kernel.expr`` (exact at kinks, inputs converted exactly).
Both the derivative and ``theta * d/dtheta`` of it for every hyperparameter are checked.
The criterion (relative error <= 1e-12, exact zeros to 1e-12 of the output's scale) is
documented in ``derivative_cases.py``.
"""

from __future__ import annotations

import functools

import pytest

import kernelgen.runtime as rt
from tests.support.derivative_cases import (
    Report,
    check,
    kernels_1d,
    make_points,
    request_id,
    supported_requests,
)
from tests.support.reference import mp_derivative

KERNELS = kernels_1d()

#: (max total order of values, max total order with gradients) where lower than (4, 4).
#: Empty since power bases became symbols (the rational quadratic no longer explodes).
RQ_CAPS: dict[str, tuple[int, int]] = {}

POINTS = make_points(1, seed=20240601)


def _caps(name: str) -> tuple[int, int]:
    return RQ_CAPS.get(name, (4, 4))


@functools.cache
def kernel(name: str):
    return KERNELS[name]()


@functools.cache
def batches(name: str):
    """``(values batch, gradient batch)``; one compile each (the same object if uncapped)."""
    k = kernel(name)
    vmax, gmax = _caps(name)
    grad = rt.compiled(k, supported_requests(k, gmax), gradient=True)
    vals = grad if vmax == gmax else rt.compiled(k, supported_requests(k, vmax), gradient=False)
    return vals, grad


@functools.cache
def outputs(name: str):
    """Generated values at the (X1[i], X2[i]) pairs: ``(values, gradients)`` of shape (n, outputs)."""
    k = kernel(name)
    vals, grad = batches(name)
    idx = range(len(POINTS))
    v = vals.fill(POINTS.X1, POINTS.X2, k.parameter_vector)[idx, idx, :]
    g = grad.fill(POINTS.X1, POINTS.X2, k.parameter_vector)[idx, idx, :]
    return v, g


def _reference(k, dx, dy, dlog=None):
    return [
        mp_derivative(k.expr, k.x, k.y, k.values, POINTS.X1[i], POINTS.X2[i], dx=dx, dy=dy, dlog=dlog,
                      dps=POINTS.dps[i])
        for i in range(len(POINTS))
    ]


def compare(name: str, dx, dy) -> Report:
    """Compare one request (value and all log-hyperparameter gradients) with the reference."""
    k = kernel(name)
    vals, grad = batches(name)
    v, g = outputs(name)
    _, gmax = _caps(name)
    kscale = max(abs(float(r)) for r in _reference(k, (), ()))
    rep = check(v[:, vals.index(dx, dy)], _reference(k, dx, dy), POINTS, f"{name} dx={dx} dy={dy}", kscale)
    if len(dx) + len(dy) <= gmax:
        for p in k.hyperparameter_names:
            rep.merge(check(g[:, grad.index(dx, dy, p)], _reference(k, dx, dy, p), POINTS,
                            f"{name} dx={dx} dy={dy} d/dlog {p}", kscale))
    return rep


CASES = [
    pytest.param(name, dx, dy, id=f"{name}-{request_id((dx, dy))}")
    for name in KERNELS
    for dx, dy in supported_requests(KERNELS[name](), _caps(name)[0])
]


@pytest.mark.parametrize(("name", "dx", "dy"), CASES)
def test_derivative_1d_matches_mpmath(name, dx, dy):
    rep = compare(name, dx, dy)
    assert not rep.failures, "\n".join(rep.failures)


@pytest.mark.parametrize("name", list(KERNELS))
def test_every_supported_request_up_to_order_4_is_generated(name):
    """The batch covers exactly the supported requests (no silent omission by smoothness)."""
    k = kernel(name)
    expected = {"matern12": 1, "matern32": 4, "matern52": 9, "matern52*rbf+rq": 9}.get(name, 15)
    assert len(supported_requests(k)) == expected
    vmax, _ = _caps(name)
    vals, _ = batches(name)
    assert {(o.dx, o.dy) for o in vals.outputs} == set(supported_requests(k, vmax))


# ------------------------------------------------------------------ unsupported requests
UNSUPPORTED = [
    pytest.param("matern12", 0.5, (0,), (), id="matern12-dx0"),
    pytest.param("matern12", 0.5, (), (0,), id="matern12-dy0"),
    pytest.param("matern32", 1.5, (0, 0), (), id="matern32-dx00"),
    pytest.param("matern32", 1.5, (0,), (0, 0), id="matern32-dx0-dy00"),
    pytest.param("matern52", 2.5, (0, 0, 0), (), id="matern52-dx000"),
    pytest.param("matern52", 2.5, (0,), (0, 0, 0), id="matern52-dx0-dy000"),
]


@pytest.mark.parametrize(("tag", "nu", "dx", "dy"), UNSUPPORTED)
@pytest.mark.parametrize("dim", [1, 3])
def test_unsupported_derivative_raises_naming_kernel_and_order(tag, nu, dx, dy, dim):
    import re

    import numpy as np

    import kernelgen
    from kernelgen import kernels as K

    k = K.matern(dim, nu, length_scale=0.7, variance=1.3)
    X = np.zeros((2, dim))
    with pytest.raises(kernelgen.NotDifferentiableError, match=re.escape(tag)) as info:
        k(X, X, dx=dx, dy=dy)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert f"dx={dx}" in message and f"dy={dy}" in message
    # Also refused when only compiling (generation time), not just when evaluating.
    with pytest.raises(kernelgen.NotDifferentiableError, match=re.escape(tag)):
        rt.compiled(k, [(dx, dy)])


def test_matern_supported_neighbours_work():
    """The largest supported requests next to the refused ones, with exact r = 0 limits."""
    import numpy as np

    from kernelgen import kernels as K

    s, ell = 1.3, 0.7
    x = np.array([[0.37]])
    m32 = K.matern(1, 1.5, length_scale=ell, variance=s)
    assert m32(x, x, dx=(0,), dy=(0,))[0, 0] == pytest.approx(3 * s / ell**2, rel=1e-14)
    assert m32(x, x, dx=(0,))[0, 0] == 0.0
    m52 = K.matern(1, 2.5, length_scale=ell, variance=s)
    assert m52(x, x, dx=(0, 0), dy=(0, 0))[0, 0] == pytest.approx(25 * s / ell**4, rel=1e-14)
    assert m52(x, x, dx=(0, 0), dy=(0,))[0, 0] == 0.0
    m12 = K.matern(1, 0.5, length_scale=ell, variance=s)
    assert m12(x, x)[0, 0] == pytest.approx(s, rel=1e-15)
