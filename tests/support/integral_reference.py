"""Independent mpmath references for integrals of kernels (this module does not import kernelgen).

A one-input functional is ``(kind, k, a, b)``: kind 0 is the ``k``-th derivative at the point ``b``;
kind 1 is ``int_a^b``, kind 2 the double integral ``int_a^b (b - s) . ds``, both oriented
(``a > b`` flips the sign). ``pair(g, first, second)`` applies the first functional to ``x`` and the
second to ``y`` of ``g(x, y)`` by iterated ``mpmath.quad`` (tanh-sinh), each integral split where the
kernel has its kink (``s = r``) and at the other interval's ends; derivatives at points by
``mpmath.diff``. Nothing here uses antiderivatives, so cancellation cannot hide in the reference.

``pair_stationary`` does the same for ``g(x - y)`` and two integrals through the exact identity
``int int W1(s) W2(r) g(s - r) = int g(v) w(v) dv``, ``w(v) = int W1(s) W2(s - v) ds`` (a polynomial
integral, evaluated exactly by Simpson's rule): one ``mpmath.quad`` instead of a nested one.
``box_pair_stationary`` integrates a stationary ``kappa(u)`` of two inputs over two boxes through
the exact identity ``int_A int_B kappa(x - y) = int kappa(u) w_0(u_0) w_1(u_1) du`` with
``w_j(u) = |[l_A, u_A] cap [l_B + u, u_B + u]|`` (the overlap length): a 2-D ``mpmath.quad`` split at
the breakpoints of ``w`` and at the kink ``u = 0``.
"""

from __future__ import annotations

from collections.abc import Callable

import mpmath as mp

Functional1 = tuple[int, int, float, float]


def _mpf(v: float) -> mp.mpf:
    return mp.mpf(float(v))


def _points(lo: mp.mpf, hi: mp.mpf, extra: list[mp.mpf]) -> list[mp.mpf]:
    inside = sorted({e for e in extra if lo < e < hi})
    return [lo, *inside, hi]


def _weight(kind: int, b: mp.mpf, s: mp.mpf) -> mp.mpf:
    return mp.mpf(1) if kind == 1 else b - s


def pair(g: Callable[[mp.mpf, mp.mpf], mp.mpf], first: Functional1, second: Functional1) -> mp.mpf:
    """``L1^x L2^y g(x, y)`` for one-input functionals (see the module docstring)."""
    kind1, k1, a1, b1 = first[0], first[1], _mpf(first[2]), _mpf(first[3])
    kind2, k2, a2, b2 = second[0], second[1], _mpf(second[2]), _mpf(second[3])

    def at_y(s: mp.mpf) -> mp.mpf:
        """Second functional applied to y of g(s, y)."""
        if kind2 == 0:
            if k2 == 0:
                return g(s, b2)
            return mp.diff(lambda yy: g(s, yy), b2, k2)
        lo, hi = min(a2, b2), max(a2, b2)
        sign = 1 if b2 >= a2 else -1
        return sign * mp.quad(lambda r: _weight(kind2, b2, r) * g(s, r), _points(lo, hi, [s]))

    if kind1 == 0:
        if k1 == 0:
            return at_y(b1)
        return mp.diff(at_y, b1, k1)
    lo, hi = min(a1, b1), max(a1, b1)
    sign = 1 if b1 >= a1 else -1
    kinks = [b2] if kind2 == 0 else [a2, b2]
    return sign * mp.quad(lambda s: _weight(kind1, b1, s) * at_y(s), _points(lo, hi, kinks))


def overlap(u: mp.mpf, a1: mp.mpf, b1: mp.mpf, a2: mp.mpf, b2: mp.mpf) -> mp.mpf:
    """Length of ``[a1, b1] cap [a2 + u, b2 + u]`` (intervals with a <= b)."""
    return max(min(b1, b2 + u) - max(a1, a2 + u), mp.mpf(0))


def box_pair_stationary(kappa: Callable[[mp.mpf, mp.mpf], mp.mpf], box_a: tuple[tuple[float, float], ...],
                        box_b: tuple[tuple[float, float], ...]) -> mp.mpf:
    """``int_A int_B kappa(x - y) dy dx`` for two 2-D boxes ``((l0, u0), (l1, u1))`` with l <= u."""
    pieces = []
    limits = []
    for (a1, b1), (a2, b2) in zip(box_a, box_b):
        a1, b1, a2, b2 = map(_mpf, (a1, b1, a2, b2))
        lo, hi = a1 - b2, b1 - a2
        pieces.append(_points(lo, hi, [a1 - a2, b1 - b2, mp.mpf(0)]))
        limits.append((a1, b1, a2, b2))

    def integrand(u0: mp.mpf, u1: mp.mpf) -> mp.mpf:
        return kappa(u0, u1) * overlap(u0, *limits[0]) * overlap(u1, *limits[1])

    return mp.quad(integrand, pieces[0], pieces[1])


def point_box_stationary(kappa: Callable[[mp.mpf, mp.mpf], mp.mpf], x: tuple[float, float],
                         box: tuple[tuple[float, float], ...]) -> mp.mpf:
    """``int_B kappa(x - y) dy`` for a point and a 2-D box, split at the kink ``y = x``."""
    x0, x1 = map(_mpf, x)
    (a0, b0), (a1, b1) = ((_mpf(a), _mpf(b)) for a, b in box)
    return mp.quad(lambda y0, y1: kappa(x0 - y0, x1 - y1), _points(a0, b0, [x0]), _points(a1, b1, [x1]))


def pair_stationary(g: Callable[[mp.mpf], mp.mpf], first: Functional1, second: Functional1) -> mp.mpf:
    """:func:`pair` for a stationary kernel ``g(x - y)``, one quadrature over ``v = x - y`` for two integrals."""
    if first[0] == 0 or second[0] == 0:
        return pair(lambda x, y: g(x - y), first, second)
    kind1, a1, b1 = first[0], _mpf(first[2]), _mpf(first[3])
    kind2, a2, b2 = second[0], _mpf(second[2]), _mpf(second[3])
    lo1, hi1, lo2, hi2 = min(a1, b1), max(a1, b1), min(a2, b2), max(a2, b2)
    sign = (1 if b1 >= a1 else -1) * (1 if b2 >= a2 else -1)

    def w(v: mp.mpf) -> mp.mpf:
        lo, hi = max(lo1, lo2 + v), min(hi1, hi2 + v)
        if hi <= lo:
            return mp.mpf(0)
        mid = (lo + hi) / 2
        f = [_weight(kind1, b1, s) * _weight(kind2, b2, s - v) for s in (lo, mid, hi)]
        return (hi - lo) * (f[0] + 4 * f[1] + f[2]) / 6

    points = _points(lo1 - hi2, hi1 - lo2, [lo1 - lo2, hi1 - hi2, mp.mpf(0)])
    return sign * mp.quad(lambda v: g(v) * w(v), points)
