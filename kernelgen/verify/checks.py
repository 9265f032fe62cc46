"""The checks: a scikit-learn kernel's values and gradients, and user callables for derivatives."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.gaussian_process import kernels as skk

from ..sklearn import SymbolicKernel, from_sklearn, infer_dim, parameter_map, sklearn_names, to_kernelgen
from ..symbolic.kernel import Kernel
from .report import DEFAULT_TOL, LOG_CONVENTION, Check, Report, compare

__all__ = ["hyperparameter_derivative", "input_derivative", "sklearn_kernel", "sklearn_kernels"]


def _points(rng: np.random.Generator, n: int, dim: int, spread: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """X with two duplicated rows; Y sharing three rows with X (coincident pairs) plus new rows."""
    base = rng.normal(0.0, spread, size=(max(n - 2, 2), dim))
    X = np.vstack([base, base[:2]])
    Y = np.vstack([X[:3], rng.normal(0.0, spread, size=(max(n - 3, 1), dim))])
    return X, Y


def _away_from_one(rng: np.random.Generator, size: int) -> np.ndarray:
    low = rng.uniform(np.log(0.25), np.log(0.7), size)
    high = rng.uniform(np.log(1.4), np.log(4.0), size)
    return np.where(rng.random(size) < 0.5, low, high)


def sklearn_kernel(kernel: Any, *, dim: int | None = None, n_points: int = 7, n_trials: int = 3,
                   tol: float = DEFAULT_TOL, seed: int = 0, randomize: bool = True) -> Report:
    """Check a scikit-learn kernel's ``__call__``, ``diag`` and ``eval_gradient`` against kernelgen.

    Parameters
    ----------
    kernel : sklearn.gaussian_process.kernels.Kernel
        Any kernel :func:`kernelgen.sklearn.from_sklearn` converts (subclasses are checked against
        the formula of their scikit-learn base class, which is how a hand-written gradient in a
        subclass gets caught).
    dim : int, optional
        Input dimension (default: inferred, else 2).
    n_points, n_trials : int
        Points per trial (two duplicated rows; the cross matrix shares three rows) and number of
        random hyperparameter draws.
    tol : float
        Relative tolerance (see the module docstring).
    seed : int
    randomize : bool
        Draw random hyperparameters (away from 1); ``False`` keeps the kernel's values.

    Returns
    -------
    Report
        Quantities ``K(X)``, ``K(X, Y)``, ``diag(X)`` and ``dK/dlog <name>`` per free hyperparameter
        (scikit-learn names), worst over the trials.
    """
    dim = dim or infer_dim(kernel) or 2
    rng = np.random.default_rng(seed)
    worst: dict[str, Check] = {}
    name_map = parameter_map(kernel, dim)
    for _ in range(max(1, n_trials)):
        k = kernel
        if randomize and kernel.theta.size:
            k = kernel.clone_with_theta(_away_from_one(rng, kernel.theta.size))
        X, Y = _points(rng, n_points, dim)
        for c in _trial(k, from_sklearn(k, dim), X, Y, name_map, tol):
            if c.quantity not in worst or c.relative_error > worst[c.quantity].relative_error:
                worst[c.quantity] = c
    notes = (f"{n_trials} random hyperparameter draws, {n_points} points in {dim} dimensions, coincident pairs "
             "included; kernelgen names: " + ", ".join(f"{s}->{o}" for s, o in name_map.items()),)
    return Report(f"scikit-learn kernel {kernel!r}", LOG_CONVENTION, tol, tuple(worst.values()), notes)


def _trial(k: Any, ref: SymbolicKernel, X: np.ndarray, Y: np.ndarray, name_map: dict[str, str],
           tol: float) -> list[Check]:
    """Values, diagonal and every gradient column of ``k`` against ``ref`` at one draw."""
    K, G = k(X, eval_gradient=True)
    K_ref, G_ref = ref(X, eval_gradient=True)
    fallback = float(np.max(np.abs(K_ref))) or 1.0
    checks = [
        compare("K(X)", K, K_ref, X, X, tol, fallback),
        compare("K(X, Y)", k(X, Y), ref(X, Y), X, Y, tol, fallback),
        compare("diag(X)", k.diag(X)[:, None], ref.diag(X)[:, None], X, X, tol, fallback),
    ]
    labels = sklearn_names(k, free_only=True)
    if G.shape != (X.shape[0], X.shape[0], len(labels)):
        expected = (X.shape[0], X.shape[0], len(labels))
        raise ValueError(f"eval_gradient returned shape {G.shape}, expected {expected}")
    ref_free = [h.name for h in ref.hyperparameters if not h.fixed]
    values = {n: float(np.exp(t)) for n, t in zip(ref_free, ref.theta)}
    for col, label in enumerate(labels):
        ours = name_map[label]
        truth = G_ref[:, :, ref_free.index(ours)]
        checks.append(compare(f"dK/dlog {label}", G[:, :, col], truth, X, X, tol, fallback,
                              _log_alternatives(label, truth, values[ours])))
    return checks


def _log_alternatives(label: str, truth: np.ndarray, v: float) -> list[tuple[str, np.ndarray]]:
    """The usual wrong conventions for ``dK/dlog label``, each with the values it would give."""
    return [
        (f"dK/d{label} (linear space: the chain-rule factor {label} is missing), not "
         f"{label}*dK/d{label} = dK/dlog {label}", truth / v),
        (f"{label}^2*dK/d{label} (one factor {label} too many)", truth * v),
        (f"-dK/dlog {label} (sign error)", -truth),
    ]


def sklearn_kernels(dim: int = 2) -> dict[str, Any]:
    """One instance of every scikit-learn kernel (and composite) that ``from_sklearn`` converts."""
    return {
        "RBF": skk.RBF(1.3),
        "RBF (anisotropic)": skk.RBF([0.6] * dim),
        "Matern nu=0.5": skk.Matern(0.8, nu=0.5),
        "Matern nu=1.5": skk.Matern(0.8, nu=1.5),
        "Matern nu=2.5": skk.Matern(0.8, nu=2.5),
        "Matern nu=2.5 (anisotropic)": skk.Matern([0.8] * dim, nu=2.5),
        "Matern nu=inf": skk.Matern(0.8, nu=np.inf),
        "RationalQuadratic": skk.RationalQuadratic(0.7, 1.5),
        "ExpSineSquared": skk.ExpSineSquared(0.9, 2.0),
        "DotProduct": skk.DotProduct(1.5),
        "ConstantKernel * RBF + WhiteKernel": skk.ConstantKernel(2.0) * skk.RBF(0.5) + skk.WhiteKernel(0.1),
        "DotProduct ** 2": skk.DotProduct(0.8) ** 2,
        "RationalQuadratic * ExpSineSquared + Matern": skk.RationalQuadratic(0.7, 1.5) * skk.ExpSineSquared(0.9, 2.0)
        + skk.Matern(0.8, nu=1.5),
    }


# ---------------------------------------------------------------------- (b) user callables
def _as_kernelgen(kernel: Any, dim: int | None) -> tuple[Kernel, dict[str, str]]:
    """(kernelgen Kernel, name lookup) for a kernelgen Kernel, SymbolicKernel or scikit-learn kernel."""
    if isinstance(kernel, Kernel):
        return kernel, {}
    if isinstance(kernel, SymbolicKernel):
        return kernel.latent_for(kernel.dim or dim), {}
    conv = to_kernelgen(kernel, dim)
    if conv.latent is None:
        raise ValueError("the kernel has no latent (non-noise) part to differentiate")
    return conv.latent, dict(conv.names)


def _call(func: Callable[..., Any], X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    return np.asarray(func(X.copy(), Y.copy()), dtype=np.float64)


def input_derivative(kernel: Any, func: Callable[[np.ndarray, np.ndarray], np.ndarray], dx: Sequence[int] = (0,),
                     dy: Sequence[int] = (), *, dim: int | None = None, n_points: int = 7, tol: float = DEFAULT_TOL,
                     seed: int = 0, X: np.ndarray | None = None, Y: np.ndarray | None = None) -> Report:
    """Check ``func(X, Y)`` against the input derivative ``d^dx/dx d^dy/dy k(X, Y)``.

    Parameters
    ----------
    kernel : kernelgen.Kernel, SymbolicKernel or scikit-learn kernel
        The kernel at its current hyperparameter values (white noise is ignored).
    func : callable
        ``func(X, Y) -> ndarray (n, m)``, claimed to be the derivative; ``dx`` differentiates the
        first argument ``X``, ``dy`` the second (SymPy tuples: ``(0, 0)`` is d²/dx0²).
    dim : int, optional
        Input dimension for scikit-learn kernels without an anisotropic length scale (default 1).
    X, Y : ndarray, optional
        Points to use; default random with coincident pairs.

    Returns
    -------
    Report
        With a diagnosis when the claim fails: e.g. the derivative with respect to the other
        argument, the opposite sign, or a constant factor.
    """
    k, _ = _as_kernelgen(kernel, dim or 1)
    rng = np.random.default_rng(seed)
    if X is None or Y is None:
        X, Y = _points(rng, n_points, k.dim)
    X, Y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
    truth = k(X, Y, dx=dx, dy=dy)
    label = _derivative_label(dx, dy)
    alternatives = [(f"-{label} (sign error)", -truth)]
    if tuple(dx) != tuple(dy):
        swapped = k(X, Y, dx=dy, dy=dx)
        other = _derivative_label(dy, dx)
        alternatives = [(f"{other} (derivative taken with respect to the other argument), not {label}", swapped),
                        *alternatives]
    check = compare(label, _call(func, X, Y), truth, X, Y, tol, float(np.max(np.abs(k(X, Y)))), alternatives)
    convention = (f"claimed: {label} of k(x, y) between rows x of X and y of Y (dx: first argument, "
                  "dy: second argument)")
    return Report(f"input derivative {getattr(func, '__name__', func)!r} of {k.name}", convention, tol, (check,))


def _derivative_label(dx: Sequence[int], dy: Sequence[int]) -> str:
    parts = [f"d/dx{i}" for i in dx] + [f"d/dy{i}" for i in dy]
    return " ".join(parts) + " k" if parts else "k"


def hyperparameter_derivative(kernel: Any, func: Callable[[np.ndarray, np.ndarray], np.ndarray], name: str, *,
                              log: bool = True, dim: int | None = None, n_points: int = 7, tol: float = DEFAULT_TOL,
                              seed: int = 0, X: np.ndarray | None = None, Y: np.ndarray | None = None) -> Report:
    """Check ``func(X, Y)`` against the derivative of ``k(X, Y)`` with respect to a hyperparameter.

    Parameters
    ----------
    kernel : kernelgen.Kernel, SymbolicKernel or scikit-learn kernel
        At its current values (pick values away from 1 to tell the conventions apart).
    func : callable
        ``func(X, Y) -> ndarray (n, m)``.
    name : str
        kernelgen name, or scikit-learn name (e.g. ``"k2__length_scale"``) for scikit-learn kernels.
    log : bool
        ``True``: the claim is ``dk/dlog(theta) = theta * dk/dtheta`` (scikit-learn's
        ``eval_gradient``); ``False``: the claim is ``dk/dtheta``.

    Returns
    -------
    Report
        On failure the diagnosis says which convention ``func`` does match, if any.
    """
    k, names = _as_kernelgen(kernel, dim or 1)
    ours = names.get(name, name)
    h = k.hyperparameter(ours)
    if h.fixed:
        k = k.with_bounds(**{ours: h.bounds})
    rng = np.random.default_rng(seed)
    if X is None or Y is None:
        X, Y = _points(rng, n_points, k.dim)
    X, Y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
    K, G = k(X, Y, eval_gradient=True)
    g_log = G[:, :, k.hyperparameter_names.index(ours)]
    v = h.value
    g_lin = g_log / v
    log_label, lin_label = f"{name}*dk/d{name} = dk/dlog {name}", f"dk/d{name}"
    if log:
        truth, label = g_log, log_label
        alternatives = [(f"{lin_label} (linear space: the chain-rule factor {name} is missing), not {log_label}",
                         g_lin), (f"{name}^2*dk/d{name} (one factor {name} too many)", g_log * v),
                        (f"-{log_label} (sign error)", -g_log)]
    else:
        truth, label = g_lin, lin_label
        alternatives = [(f"{log_label} (log space), not {lin_label}", g_log),
                        (f"-{lin_label} (sign error)", -g_lin)]
    notes = () if abs(np.log(v)) > 0.1 else (
        f"{name} = {v:g} is close to 1, where dk/dlog {name} and dk/d{name} nearly coincide",)
    check = compare(label, _call(func, X, Y), truth, X, Y, tol, float(np.max(np.abs(K))), alternatives)
    convention = (f"claimed: {label} ({'log-space, as scikit-learn eval_gradient' if log else 'linear space'}), "
                  f"at {name} = {v:g}")
    return Report(f"hyperparameter derivative {getattr(func, '__name__', func)!r} of {k.name}", convention, tol,
                  (check,), notes)
