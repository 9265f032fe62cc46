"""Independent high-precision reference for derivatives of Gaussian-process kernels.

This module deliberately does not import ``kernelgen``.  A kernel ``k(x, y; theta)`` is
given as a SymPy expression; only the *original* expression is lambdified (to mpmath),
and every derivative -- with respect to inputs of either argument and, optionally, with
respect to ``log(theta)`` for one hyperparameter -- is obtained numerically with
``mpmath.diff`` (central finite differences with multivariate orders) at high working
precision.  SymPy's ``diff`` is never used here, so the reference shares no symbolic
machinery with the code under test.

Step size and precision
-----------------------
Let ``p`` be the working precision in bits (``p ~ 3.32 * dps``).  ``mpmath.diff`` treats a
multivariate order ``(n_1, ..., n_m)`` as ``m`` nested one-dimensional central differences.
At a level entered with precision ``p_l`` it uses the step ``h_l = 2**-(p_l + g)`` and
evaluates its integrand at precision ``(p_l + 2 g) (n_l + 1)`` bits, where ``g`` is the
number of guard bits (``addprec``, set to :data:`GUARD_BITS` here).  Consequences:

* Rounding: an ``n``-th difference of values of size ``|f|`` loses about
  ``n (p_l + g)`` bits, so the raised precision keeps ``p_l + (n + 2) g`` bits.  Inner
  levels run at the raised precision of the enclosing level, hence with much smaller steps
  and much higher accuracy than the cancellation of the enclosing level needs.
* Truncation, smooth kernels: central differences have an ``O(h**2)`` error, i.e. about
  ``2**-(2 p)`` relative -- negligible.
* Truncation at a kink: Matern 3/2 (``|tau|**3`` term, C^2 at ``x == y``) and Matern 5/2
  (``|tau|**5`` term, C^4) are only finitely smooth at coincident points.  Where the
  requested derivative of total order ``N`` exists, a central difference straddling the
  kink has an ``O(h)`` error (for example ``|t|**3`` gives ``4 h`` for the second
  difference at 0), with a constant bounded by the one-sided ``(N + 1)``-th derivative.
  With ``h ~ 2**-(p + g)`` (``~1e-66`` at ``dps=60``) this is ``~1e-60`` relative.  The
  same holds for ``0 < |x - y| << 1``: where ``h << |x - y|`` the function is smooth on
  the stencil, otherwise the kink bound applies.

A "balanced" step such as ``h = 10**(-dps / (N + 2))`` is optimal only for smooth
functions: at a kink its ``O(h)`` error would be ``10**(-dps / (N + 2))`` (``1e-10`` at
``dps=60``, ``N=4``), far from the ``1e-20`` target.  A step far below the target accuracy
with correspondingly raised precision is therefore used instead; in mpmath the only cost
is run time.  Because each nesting level multiplies the precision by ``n_l + 1``, the cost
grows quickly with the number of distinct differentiated variables (four first-order
levels at ``dps=60`` evaluate the kernel at ~3900 bits).  Lowering ``dps`` (e.g. to 30,
still ~1e-30 accurate) roughly halves the time.

Inputs
------
Python/NumPy floats are converted to ``mpmath.mpf`` *exactly* (``mpmath.mpf(float)`` keeps
the 53-bit binary value; note that ``mpmath.mpf(repr(v))`` would not: it rounds the
shortest decimal string to the working precision, e.g. ``0.1`` -> ``0.1000...000``
instead of the double ``0.1000000000000000055511...``).  Strings are parsed at the working
precision and ``mpmath.mpf`` values are used as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache

import mpmath
import numpy as np
import sympy

__all__ = ["GUARD_BITS", "mp_derivative", "mp_derivative_matrix"]

#: Guard bits passed to ``mpmath.diff`` as ``addprec`` (mpmath's default is 10).
GUARD_BITS = 20

ScalarLike = float | int | str | mpmath.mpf


def _to_mpf(value: ScalarLike) -> mpmath.mpf:
    """Convert a scalar to ``mpmath.mpf`` without losing its binary value.

    Parameters
    ----------
    value : float, int, str or mpmath.mpf
        Floats (including NumPy floats) are converted exactly; strings are parsed at the
        current working precision.

    Returns
    -------
    mpmath.mpf
        The converted value.
    """
    if isinstance(value, mpmath.mpf):
        return value
    if isinstance(value, str):
        return mpmath.mpf(value)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return mpmath.mpf(int(value))
    return mpmath.mpf(float(value))


@lru_cache(maxsize=512)
def _lambdified(expr: sympy.Expr, args: tuple[sympy.Symbol, ...]) -> Callable[..., mpmath.mpf]:
    """Lambdify ``expr`` for mpmath once per ``(expr, args)``.

    Parameters
    ----------
    expr : sympy.Expr
        The kernel expression (never differentiated symbolically).
    args : tuple of sympy.Symbol
        Positional argument symbols.

    Returns
    -------
    callable
        ``f(*values) -> mpmath.mpf`` evaluated at the current mpmath precision.
    """
    return sympy.lambdify(args, expr, modules="mpmath")


def _parameter_symbols(
    expr: sympy.Expr,
    inputs: set[sympy.Symbol],
    params: Mapping[str, ScalarLike],
    dlog: str | None,
) -> tuple[tuple[str, ...], tuple[sympy.Symbol, ...]]:
    """Return the hyperparameter names and symbols of ``expr`` (plus ``dlog``).

    Parameters
    ----------
    expr : sympy.Expr
        Kernel expression.
    inputs : set of sympy.Symbol
        The input symbols of both arguments.
    params : mapping of str to scalar
        Hyperparameter values keyed by symbol name.
    dlog : str or None
        Name of the hyperparameter for the log-derivative, if any.

    Returns
    -------
    names : tuple of str
        Hyperparameter names, sorted.
    symbols : tuple of sympy.Symbol
        The matching symbols (a ``Dummy`` for a ``dlog`` name absent from ``expr``).

    Raises
    ------
    ValueError
        If a free symbol has no value, or two free symbols share a name.
    """
    by_name: dict[str, sympy.Symbol] = {}
    for sym in expr.free_symbols - inputs:
        name = str(sym)
        if name in by_name:
            raise ValueError(f"two different free symbols are both named {name!r}")
        if name not in params:
            raise ValueError(f"no value given for hyperparameter {name!r}")
        by_name[name] = sym
    if dlog is not None:
        if dlog not in params:
            raise ValueError(f"dlog={dlog!r} is not a key of params")
        # A hyperparameter the kernel does not depend on: a dummy argument, derivative 0.
        by_name.setdefault(dlog, sympy.Dummy(dlog))
    names = tuple(sorted(by_name))
    return names, tuple(by_name[name] for name in names)


def _check_indices(indices: Sequence[int], d: int, label: str) -> list[int]:
    """Validate derivative indices.

    Parameters
    ----------
    indices : sequence of int
        Input indices in SymPy ``diff`` convention (repetition = higher order).
    d : int
        Input dimension.
    label : str
        Argument name for error messages.

    Returns
    -------
    list of int
        The indices as Python ints.
    """
    out = []
    for i in indices:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
            raise TypeError(f"{label} must contain integer input indices, got {i!r}")
        if not 0 <= int(i) < d:
            raise IndexError(f"{label} index {i} out of range for dimension {d}")
        out.append(int(i))
    return out


def mp_derivative(
    expr: sympy.Expr,
    x_syms: Sequence[sympy.Symbol],
    y_syms: Sequence[sympy.Symbol],
    params: Mapping[str, ScalarLike],
    x: Sequence[ScalarLike],
    y: Sequence[ScalarLike],
    dx: Sequence[int] = (),
    dy: Sequence[int] = (),
    dlog: str | None = None,
    dps: int = 60,
) -> mpmath.mpf:
    """High-precision derivative of a kernel by nested central differences.

    Parameters
    ----------
    expr : sympy.Expr
        Kernel ``k(x, y; theta)``.
    x_syms, y_syms : sequence of sympy.Symbol
        Symbols of the first and second input (length ``d`` each).
    params : mapping of str to scalar
        Value of every other free symbol of ``expr``, keyed by symbol name.
    x, y : sequence of scalar
        Evaluation points (length ``d``); floats are converted exactly.
    dx, dy : sequence of int, optional
        Input indices to differentiate the first / second argument by, SymPy ``diff``
        convention: ``dx=(0, 0, 2)`` means ``d^3 / dx_0^2 dx_2``.
    dlog : str, optional
        If given, return ``theta * d/dtheta`` (derivative w.r.t. ``log theta``) of the
        input derivative, for the hyperparameter of that name.
    dps : int, optional
        Decimal digits of the result; working precision is raised internally.

    Returns
    -------
    mpmath.mpf
        The derivative, rounded to ``dps`` digits.
    """
    x_syms = tuple(x_syms)
    y_syms = tuple(y_syms)
    d = len(x_syms)
    if len(y_syms) != d or len(x) != d or len(y) != d:
        raise ValueError(
            f"dimension mismatch: {len(x_syms)} x_syms, {len(y_syms)} y_syms, {len(x)} x values, {len(y)} y values"
        )
    if dps < 15:
        raise ValueError("dps must be at least 15")
    dx_idx = _check_indices(dx, d, "dx")
    dy_idx = _check_indices(dy, d, "dy")
    expr = sympy.sympify(expr)
    param_names, param_syms = _parameter_symbols(expr, set(x_syms) | set(y_syms), params, dlog)
    func = _lambdified(expr, x_syms + y_syms + param_syms)

    # Differentiation orders per positional argument of ``func``.
    orders: dict[int, int] = {}
    for i in dx_idx:
        orders[i] = orders.get(i, 0) + 1
    for j in dy_idx:
        orders[d + j] = orders.get(d + j, 0) + 1
    theta_pos = None
    if dlog is not None:
        theta_pos = 2 * d + param_names.index(dlog)
        orders[theta_pos] = 1
    active = sorted(orders)

    with mpmath.workdps(dps):
        base = [_to_mpf(v) for v in x]
        base += [_to_mpf(v) for v in y]
        base += [_to_mpf(params[name]) for name in param_names]
        if not active:
            return +func(*base)

        def restricted(*values: mpmath.mpf) -> mpmath.mpf:
            args = list(base)
            for pos, value in zip(active, values, strict=True):
                args[pos] = value
            return func(*args)

        result = mpmath.diff(
            restricted,
            [base[pos] for pos in active],
            [orders[pos] for pos in active],
            addprec=GUARD_BITS,
        )
        if theta_pos is not None:
            result = result * base[theta_pos]
        return +result


def mp_derivative_matrix(
    expr: sympy.Expr,
    x_syms: Sequence[sympy.Symbol],
    y_syms: Sequence[sympy.Symbol],
    params: Mapping[str, ScalarLike],
    X1: np.ndarray,
    X2: np.ndarray,
    dx: Sequence[int],
    dy: Sequence[int],
    dlog: str | None = None,
    dps: int = 60,
) -> np.ndarray:
    """Matrix of :func:`mp_derivative` over all pairs of rows of ``X1`` and ``X2``.

    Parameters
    ----------
    expr, x_syms, y_syms, params, dx, dy, dlog, dps
        As in :func:`mp_derivative`.
    X1 : array_like, shape (n, d)
        First-argument points (shape ``(n,)`` allowed when ``d == 1``).
    X2 : array_like, shape (m, d)
        Second-argument points (shape ``(m,)`` allowed when ``d == 1``).

    Returns
    -------
    numpy.ndarray, shape (n, m), float64
        ``out[a, b]`` is the derivative at ``(X1[a], X2[b])`` rounded to float64.
    """
    d = len(x_syms)
    A = np.asarray(X1, dtype=np.float64)
    B = np.asarray(X2, dtype=np.float64)
    if A.ndim == 1 and d == 1:
        A = A[:, None]
    if B.ndim == 1 and d == 1:
        B = B[:, None]
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != d or B.shape[1] != d:
        raise ValueError(f"X1 and X2 must have shape (n, {d}); got {A.shape} and {B.shape}")
    out = np.empty((A.shape[0], B.shape[0]), dtype=np.float64)
    for a in range(A.shape[0]):
        for b in range(B.shape[0]):
            value = mp_derivative(expr, x_syms, y_syms, params, A[a], B[b], dx=dx, dy=dy, dlog=dlog, dps=dps)
            out[a, b] = float(value)
    return out
