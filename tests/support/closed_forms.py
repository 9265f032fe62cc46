"""Hand-derived closed forms for RBF and Matern kernels (float64), to check the reference.

All kernels are stationary with ARD lengthscales ``ls`` (scalar or length ``d``) and
signal variance ``s``.  With ``tau = x - y``, ``u_i = tau_i / l_i**2`` and
``r = sqrt(sum(tau_i**2 / l_i**2))``:

* RBF: ``k = s exp(-r**2 / 2)``.
* Matern 3/2: ``k = s (1 + a r) exp(-a r)`` with ``a = sqrt(3)``.  Since
  ``dk/dr = -s a**2 r exp(-a r)`` and ``dr/dx_i = u_i / r``,
  ``dk/dx_i = -s a**2 exp(-a r) u_i`` and
  ``d2k/dx_i dy_j = s a**2 exp(-a r) (delta_ij / l_i**2 - a u_i u_j / r)``;
  ``|u_i u_j| / r <= r / l_min**2``, so the ``r -> 0`` limit is ``s a**2 delta_ij / l_i**2``.
* Matern 5/2: ``k = s (1 + a r + a**2 r**2 / 3) exp(-a r)`` with ``a = sqrt(5)``.
  ``dk/dr = -(s a**2 / 3) r (1 + a r) exp(-a r)``, so
  ``dk/dx_i = -(s a**2 / 3) (1 + a r) exp(-a r) u_i`` and
  ``d2k/dx_i dy_j = (s a**2 / 3) exp(-a r) ((1 + a r) delta_ij / l_i**2 - a**2 u_i u_j)``.
  Near ``r = 0``, ``k = s (1 - z**2/6 + z**4/24 - z**5/45 + ...)`` with ``z = a r``, which
  gives the fourth-order limit in :func:`matern52_d4_at_zero`.

Functions accept scalars (1-D) or length-``d`` sequences for ``x``, ``y`` and ``ls``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "matern32",
    "matern32_dlog_l",
    "matern32_dx",
    "matern32_dxdy",
    "matern52",
    "matern52_d4_at_zero",
    "matern52_dlog_l",
    "matern52_dx",
    "matern52_dxdy",
    "rbf",
    "rbf_dlog_l",
    "rbf_dlog_s",
    "rbf_dx",
    "rbf_dxdx",
    "rbf_dxdy",
]

ArrayLike = float | Sequence[float] | np.ndarray

SQRT3 = math.sqrt(3.0)
SQRT5 = math.sqrt(5.0)


def _prep(x: ArrayLike, y: ArrayLike, ls: ArrayLike) -> tuple[np.ndarray, np.ndarray, float]:
    """Return ``tau = x - y``, lengthscales broadcast to ``tau`` and the scaled distance.

    Parameters
    ----------
    x, y : float or sequence of float
        Points.
    ls : float or sequence of float
        Lengthscale(s).

    Returns
    -------
    tau : numpy.ndarray
        Difference ``x - y``, shape ``(d,)``.
    ell : numpy.ndarray
        Lengthscales, shape ``(d,)``.
    r : float
        ``sqrt(sum(tau**2 / ell**2))``.
    """
    xa = np.atleast_1d(np.asarray(x, dtype=np.float64))
    ya = np.atleast_1d(np.asarray(y, dtype=np.float64))
    tau = xa - ya
    ell = np.broadcast_to(np.asarray(ls, dtype=np.float64), tau.shape)
    r = float(np.sqrt(np.sum((tau / ell) ** 2)))
    return tau, ell, r


# --------------------------------------------------------------------------- RBF


def rbf(x: ArrayLike, y: ArrayLike, ls: ArrayLike, s: float) -> float:
    """RBF kernel ``s exp(-r**2 / 2)``."""
    _, _, r = _prep(x, y, ls)
    return s * math.exp(-0.5 * r * r)


def rbf_dx(x: ArrayLike, y: ArrayLike, ls: ArrayLike, s: float, i: int) -> float:
    """``dk/dx_i = -k tau_i / l_i**2`` for the RBF kernel."""
    tau, ell, _ = _prep(x, y, ls)
    return -rbf(x, y, ls, s) * tau[i] / ell[i] ** 2


def rbf_dxdy(x: ArrayLike, y: ArrayLike, ls: ArrayLike, s: float, i: int, j: int) -> float:
    """``d2k/dx_i dy_j = k (delta_ij / l_i**2 - u_i u_j)`` for the RBF kernel."""
    tau, ell, _ = _prep(x, y, ls)
    u = tau / ell**2
    delta = 1.0 / ell[i] ** 2 if i == j else 0.0
    return rbf(x, y, ls, s) * (delta - u[i] * u[j])


def rbf_dxdx(x: ArrayLike, y: ArrayLike, ls: ArrayLike, s: float, i: int, j: int) -> float:
    """``d2k/dx_i dx_j = k (u_i u_j - delta_ij / l_i**2)`` for the RBF kernel."""
    return -rbf_dxdy(x, y, ls, s, i, j)


def rbf_dlog_l(x: ArrayLike, y: ArrayLike, ls: ArrayLike, s: float, i: int) -> float:
    """``l_i dk/dl_i = k tau_i**2 / l_i**2`` for the RBF kernel."""
    tau, ell, _ = _prep(x, y, ls)
    return rbf(x, y, ls, s) * (tau[i] / ell[i]) ** 2


def rbf_dlog_s(x: ArrayLike, y: ArrayLike, ls: ArrayLike, s: float) -> float:
    """``s dk/ds = k`` for the RBF kernel."""
    return rbf(x, y, ls, s)


# ----------------------------------------------------------------- Matern 3/2


def matern32(x: ArrayLike, y: ArrayLike, ls: ArrayLike, s: float) -> float:
    """Matern 3/2 kernel ``s (1 + a r) exp(-a r)``, ``a = sqrt(3)``."""
    _, _, r = _prep(x, y, ls)
    return s * (1.0 + SQRT3 * r) * math.exp(-SQRT3 * r)


def matern32_dx(x: ArrayLike, y: ArrayLike, ls: ArrayLike, s: float, i: int) -> float:
    """``dk/dx_i = -s a**2 exp(-a r) u_i`` for Matern 3/2 (0 at ``r = 0``)."""
    tau, ell, r = _prep(x, y, ls)
    return -s * 3.0 * math.exp(-SQRT3 * r) * tau[i] / ell[i] ** 2


def matern32_dxdy(x: ArrayLike, y: ArrayLike, ls: ArrayLike, s: float, i: int, j: int) -> float:
    """``d2k/dx_i dy_j`` for Matern 3/2; ``3 s delta_ij / l_i**2`` at ``r = 0``."""
    tau, ell, r = _prep(x, y, ls)
    u = tau / ell**2
    delta = 1.0 / ell[i] ** 2 if i == j else 0.0
    cross = SQRT3 * u[i] * u[j] / r if r > 0.0 else 0.0
    return s * 3.0 * math.exp(-SQRT3 * r) * (delta - cross)


def matern32_dlog_l(x: ArrayLike, y: ArrayLike, ls: ArrayLike, s: float, i: int) -> float:
    """``l_i dk/dl_i = s a**2 exp(-a r) tau_i**2 / l_i**2`` for Matern 3/2."""
    tau, ell, r = _prep(x, y, ls)
    return s * 3.0 * math.exp(-SQRT3 * r) * (tau[i] / ell[i]) ** 2


# ----------------------------------------------------------------- Matern 5/2


def matern52(x: ArrayLike, y: ArrayLike, ls: ArrayLike, s: float) -> float:
    """Matern 5/2 kernel ``s (1 + a r + a**2 r**2 / 3) exp(-a r)``, ``a = sqrt(5)``."""
    _, _, r = _prep(x, y, ls)
    return s * (1.0 + SQRT5 * r + 5.0 * r * r / 3.0) * math.exp(-SQRT5 * r)


def matern52_dx(x: ArrayLike, y: ArrayLike, ls: ArrayLike, s: float, i: int) -> float:
    """``dk/dx_i = -(s a**2 / 3) (1 + a r) exp(-a r) u_i`` for Matern 5/2."""
    tau, ell, r = _prep(x, y, ls)
    return -s * (5.0 / 3.0) * (1.0 + SQRT5 * r) * math.exp(-SQRT5 * r) * tau[i] / ell[i] ** 2


def matern52_dxdy(x: ArrayLike, y: ArrayLike, ls: ArrayLike, s: float, i: int, j: int) -> float:
    """``d2k/dx_i dy_j`` for Matern 5/2; ``5 s delta_ij / (3 l_i**2)`` at ``r = 0``."""
    tau, ell, r = _prep(x, y, ls)
    u = tau / ell**2
    delta = (1.0 + SQRT5 * r) / ell[i] ** 2 if i == j else 0.0
    return s * (5.0 / 3.0) * math.exp(-SQRT5 * r) * (delta - 5.0 * u[i] * u[j])


def matern52_dlog_l(x: ArrayLike, y: ArrayLike, ls: ArrayLike, s: float, i: int) -> float:
    """``l_i dk/dl_i = (s a**2 / 3) (1 + a r) exp(-a r) tau_i**2 / l_i**2`` for Matern 5/2."""
    tau, ell, r = _prep(x, y, ls)
    return s * (5.0 / 3.0) * (1.0 + SQRT5 * r) * math.exp(-SQRT5 * r) * (tau[i] / ell[i]) ** 2


def matern52_d4_at_zero(ls: ArrayLike, s: float, i: int, j: int, k: int, m: int, d: int = 1) -> float:
    """``d4k / dx_i dx_j dy_k dy_m`` of Matern 5/2 at ``x == y``.

    The ``z**4 / 24`` term of the expansion, ``(a**4 / 24) (sum_n w_n tau_n**2)**2`` with
    ``w_n = 1 / l_n**2``, is the only contribution (the ``|tau|**5`` term has vanishing
    fourth derivatives at 0), giving
    ``(s a**4 / 3) (w_i w_k [i=j][k=m] + w_i w_j [i=k][j=m] + w_i w_j [i=m][j=k])``;
    in 1-D this is ``25 s / l**4``.

    Parameters
    ----------
    ls : float or sequence of float
        Lengthscale(s).
    s : float
        Signal variance.
    i, j, k, m : int
        Input indices (``i, j`` on the first argument, ``k, m`` on the second).
    d : int, optional
        Input dimension (used when ``ls`` is a scalar).

    Returns
    -------
    float
        The fourth derivative.
    """
    ell = np.broadcast_to(np.asarray(ls, dtype=np.float64), (max(d, np.size(ls)),))
    w = 1.0 / ell**2
    total = 0.0
    if i == j and k == m:
        total += w[i] * w[k]
    if i == k and j == m:
        total += w[i] * w[j]
    if i == m and j == k:
        total += w[i] * w[j]
    return s * 25.0 / 3.0 * total
