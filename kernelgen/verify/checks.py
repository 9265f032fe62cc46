"""The checks: a scikit-learn kernel's values and gradients, and user callables for derivatives."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.gaussian_process import kernels as skk

from ..sklearn import SymbolicKernel, from_sklearn, infer_dim, parameter_map, sklearn_names, to_kernelgen
from ..symbolic.kernel import Kernel
from .report import DEFAULT_TOL, LOG_CONVENTION, Check, Report, compare

__all__ = ["choose_values", "hyperparameter_derivative", "input_derivative", "sklearn_kernel", "sklearn_kernels"]


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
        (f"dK/d{label}, the derivative in linear space (the chain-rule factor {label} is missing)", truth / v),
        (f"{label}^2*dK/d{label} (one factor {label} too many)", truth * v),
        (f"-dK/dlog {label} (the sign is wrong)", -truth),
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


def _as_kernelgen(kernel: Any, dim: int | None) -> tuple[Kernel, dict[str, str]]:
    """(kernelgen Kernel, name lookup) for a kernelgen Kernel, SymbolicKernel or scikit-learn kernel."""
    if isinstance(kernel, Kernel):
        return kernel, {}
    if isinstance(kernel, SymbolicKernel):
        return kernel.latent_for(kernel.dim or dim or 1), {}
    if not isinstance(kernel, skk.Kernel):
        raise TypeError(f"expected a kernelgen Kernel, a scikit-learn kernel or a function k(X, Y), got "
                        f"{type(kernel).__name__}")
    conv = to_kernelgen(kernel, dim or infer_dim(kernel) or 1)
    if conv.latent is None:
        raise ValueError("the kernel has no latent (non-noise) part to differentiate")
    return conv.latent, dict(conv.names)


# ---------------------------------------------------------------------- (b) user callables
class _Reference:
    """The truth for a user's callable: a kernelgen kernel (exact) or a plain function (numerical).

    ``values`` maps every hyperparameter to the value used; a plain function ``k(X, Y, **values)``
    is differentiated by Richardson-extrapolated central differences (about 1e-9 relative for
    smooth kernels and up to two derivatives).
    """

    def __init__(self, kernel: Any, dim: int | None) -> None:
        self.function: Callable[..., Any] | None = None
        self.names: dict[str, str] = {}
        if _is_plain_function(kernel):
            self.function = kernel
            self.values = _keyword_defaults(kernel)
            self.dim = dim or 1
            self.label = f"function {getattr(kernel, '__name__', kernel)!r}"
            return
        self.kernel, self.names = _as_kernelgen(kernel, dim)
        self.values = {h.name: h.value for h in self.kernel.hyperparameters}
        self.dim = self.kernel.dim
        self.label = self.kernel.name

    def own(self, name: str) -> str:
        """Our name for a user's (possibly scikit-learn) hyperparameter name."""
        ours = self.names.get(name, name)
        if ours not in self.values:
            raise ValueError(f"unknown hyperparameter {name!r}; the reference has {sorted(self.values)}")
        return ours

    def _at(self, values: dict[str, float]) -> Kernel:
        return self.kernel.with_values(**values)

    def value(self, X: np.ndarray, Y: np.ndarray, values: dict[str, float]) -> np.ndarray:
        if self.function is not None:
            return _call(self.function, X, Y, values)
        return self._at(values)(X, Y)

    def derivative(self, X: np.ndarray, Y: np.ndarray, dx: Sequence[int], dy: Sequence[int],
                   values: dict[str, float]) -> np.ndarray:
        if self.function is not None:
            return _numerical_derivative(lambda A, B: _call(self.function, A, B, values), X, Y, tuple(dx), tuple(dy))
        return self._at(values)(X, Y, dx=dx, dy=dy)

    def log_gradient(self, X: np.ndarray, Y: np.ndarray, name: str, values: dict[str, float]) -> np.ndarray:
        """``dk/dlog(name) = name * dk/dname`` at ``values``."""
        if self.function is not None:
            def at(t: float) -> np.ndarray:
                return _call(self.function, X, Y, {**values, name: float(np.exp(t))})
            return _richardson(at, float(np.log(values[name])), 1e-3)
        k = self._at(values)
        h = k.hyperparameter(name)
        if h.fixed:
            k = k.with_bounds(**{name: h.bounds})
        _, G = k(X, Y, eval_gradient=True)
        return G[:, :, k.hyperparameter_names.index(name)]


def _is_plain_function(obj: Any) -> bool:
    return callable(obj) and not isinstance(obj, (Kernel, skk.Kernel)) and not inspect.isclass(obj)


def _keyword_defaults(func: Callable[..., Any]) -> dict[str, float]:
    """Hyperparameters of a plain ``k(X, Y, l=1.0, ...)``: its keyword arguments with numeric defaults."""
    out = {}
    for p in list(inspect.signature(func).parameters.values())[2:]:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.default is p.empty or not isinstance(p.default, (int, float)) or isinstance(p.default, bool):
            raise ValueError(f"the reference function {getattr(func, '__name__', func)!r} must be k(X, Y) or "
                             f"k(X, Y, name=default, ...) with numeric defaults; {p.name!r} has none")
        out[p.name] = float(p.default)
    return out


def _accepted(func: Callable[..., Any], names: Sequence[str]) -> set[str]:
    """The hyperparameter names ``func`` takes as keyword arguments (all of them with ``**kwargs``)."""
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return set()
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return set(names)
    return {n for n in names if n in params and params[n].kind in (params[n].POSITIONAL_OR_KEYWORD,
                                                                     params[n].KEYWORD_ONLY)}


def _call(func: Callable[..., Any], X: np.ndarray, Y: np.ndarray, values: dict[str, float] | None = None) -> np.ndarray:
    kwargs = {} if not values else {n: values[n] for n in _accepted(func, list(values))}
    return np.asarray(func(X.copy(), Y.copy(), **kwargs), dtype=np.float64)


def _richardson(f: Callable[[float], np.ndarray], t0: float, h: float) -> np.ndarray:
    """d f / d t at t0: central differences at h and h/2, extrapolated (error O(h^4))."""
    def central(step: float) -> np.ndarray:
        return (f(t0 + step) - f(t0 - step)) / (2 * step)
    return (4 * central(h / 2) - central(h)) / 3


def _numerical_derivative(k: Callable[[np.ndarray, np.ndarray], np.ndarray], X: np.ndarray, Y: np.ndarray,
                          dx: tuple[int, ...], dy: tuple[int, ...]) -> np.ndarray:
    """``d^dx/dx d^dy/dy k(X, Y)`` by nested extrapolated central differences in each input component."""
    if not dx and not dy:
        return k(X, Y)
    if dx:
        i, rest = dx[0], dx[1:]

        def shifted_x(s: float) -> np.ndarray:
            A = X.copy()
            A[:, i] += s
            return _numerical_derivative(k, A, Y, rest, dy)
        return _richardson(shifted_x, 0.0, 2e-3 * max(1.0, float(np.max(np.abs(X[:, i])))))
    j, rest = dy[0], dy[1:]

    def shifted_y(s: float) -> np.ndarray:
        B = Y.copy()
        B[:, j] += s
        return _numerical_derivative(k, X, B, dx, rest)
    return _richardson(shifted_y, 0.0, 2e-3 * max(1.0, float(np.max(np.abs(Y[:, j])))))


def choose_values(ref_values: dict[str, float], func: Callable[..., Any], given: dict[str, float] | None,
                  randomize: bool, rng: np.random.Generator, func_label: str) -> dict[str, float]:
    """The hyperparameter values of one trial.

    ``given`` values are used as they are; the others are drawn away from 1 when ``randomize`` and
    ``func`` takes them as keyword arguments, else kept at the reference's values. With
    ``randomize``, a hyperparameter that ``func`` neither takes nor was given is an error: its
    value inside ``func`` is unknown.
    """
    given = dict(given or {})
    unknown = sorted(set(given) - set(ref_values))
    if unknown:
        raise ValueError(f"--value/values name unknown hyperparameters {unknown}; the reference has "
                         f"{sorted(ref_values)}")
    takes = _accepted(func, list(ref_values))
    values = dict(ref_values)
    values.update(given)
    if not randomize:
        return values
    missing = sorted(n for n in ref_values if n not in given and n not in takes)
    if missing:
        raise ValueError(
            f"{func_label} does not take the hyperparameters {', '.join(missing)} as arguments, so their values "
            f"inside it are unknown: state them with --value {missing[0]}=... (values={{...}} from Python), or "
            f"let it take them (def {getattr(func, '__name__', 'f')}(X, Y, {', '.join(missing)}): ...) to be "
            "checked at random values")
    draws = np.exp(_away_from_one(rng, len(ref_values)))
    for n, v in zip(ref_values, draws):
        if n not in given:
            values[n] = float(v)
    return values


def _how(randomize: bool, ref_values: dict[str, float], given: dict[str, float], n_trials: int) -> str:
    drawn = sorted(set(ref_values) - set(given)) if randomize else []
    if drawn:
        return f"{', '.join(drawn)} drawn at random away from 1, worst of {n_trials} draws"
    return "the stated values" if given else "the reference's own values"


def _values_text(values: dict[str, float]) -> str:
    return ", ".join(f"{n} = {v:.4g}" for n, v in values.items()) or "no hyperparameters"


def input_derivative(kernel: Any, func: Callable[..., np.ndarray], dx: Sequence[int] = (0,),
                     dy: Sequence[int] = (), *, dim: int | None = None, n_points: int = 7, tol: float = DEFAULT_TOL,
                     seed: int = 0, X: np.ndarray | None = None, Y: np.ndarray | None = None,
                     values: dict[str, float] | None = None, randomize: bool = False, n_trials: int = 3) -> Report:
    """Check ``func(X, Y)`` against the input derivative ``d^dx/dx d^dy/dy k(X, Y)``.

    Parameters
    ----------
    kernel : kernelgen.Kernel, SymbolicKernel, scikit-learn kernel or function
        The reference. A plain function ``k(X, Y, name=default, ...)`` is differentiated
        numerically (Richardson-extrapolated central differences, ~1e-9 relative); everything
        else exactly. White noise is ignored.
    func : callable
        ``func(X, Y) -> ndarray (n, m)``, claimed to be the derivative; ``dx`` differentiates the
        first argument ``X``, ``dy`` the second (SymPy tuples: ``(0, 0)`` is d²/dx0²). It may take
        hyperparameters as keyword arguments (``func(X, Y, l=...)``); they are then passed.
    dim : int, optional
        Input dimension for scikit-learn kernels without an anisotropic length scale and for
        functions (default 1).
    values : dict, optional
        Hyperparameter values to check at (default: the reference's own).
    randomize : bool, default=False
        Check at ``n_trials`` random draws away from 1 of the hyperparameters not in ``values``
        (``func`` must take those as keyword arguments).
    X, Y : ndarray, optional
        Points to use; default random with coincident pairs.

    Returns
    -------
    Report
        With a one-sentence diagnosis when the claim fails: e.g. the derivative with respect to the
        other argument, the opposite sign, or a constant factor.
    """
    ref = _Reference(kernel, dim)
    values = {ref.own(n): v for n, v in (values or {}).items()}
    rng = np.random.default_rng(seed)
    label = _derivative_label(dx, dy)
    worst: Check | None = None
    used: dict[str, float] = {}
    func_label = f"the function {getattr(func, '__name__', func)!r}"
    for _ in range(n_trials if randomize else 1):
        vals = choose_values(ref.values, func, values, randomize, rng, func_label)
        A, B = (X, Y) if X is not None and Y is not None else _points(rng, n_points, ref.dim)
        A, B = np.asarray(A, dtype=np.float64), np.asarray(B, dtype=np.float64)
        truth = ref.derivative(A, B, dx, dy, vals)
        alternatives = [(f"-{label} (the sign is wrong)", -truth)]
        if tuple(dx) != tuple(dy):
            other = _derivative_label(dy, dx)
            alternatives.insert(0, (f"{other} (the derivative with respect to the other argument)",
                                    ref.derivative(A, B, dy, dx, vals)))
        fallback = float(np.max(np.abs(ref.value(A, B, vals))))
        check = compare(label, _call(func, A, B, vals), truth, A, B, tol, fallback, alternatives)
        if worst is None or check.relative_error > worst.relative_error:
            worst, used = check, vals
    assert worst is not None
    how = _how(randomize, ref.values, values, n_trials)
    convention = (f"claimed: {label} of k(x, y) between rows x of X and y of Y (dx: first argument, "
                  f"dy: second argument); checked at {_values_text(used)} ({how})")
    notes = ("reference differentiated numerically (central differences, Richardson-extrapolated)",) \
        if ref.function is not None else ()
    return Report(f"input derivative {getattr(func, '__name__', func)!r} of {ref.label}", convention, tol, (worst,),
                  notes)


def _derivative_label(dx: Sequence[int], dy: Sequence[int]) -> str:
    parts = [f"d/dx{i}" for i in dx] + [f"d/dy{i}" for i in dy]
    return " ".join(parts) + " k" if parts else "k"


def hyperparameter_derivative(kernel: Any, func: Callable[..., np.ndarray], name: str, *,
                              log: bool = True, dim: int | None = None, n_points: int = 7, tol: float = DEFAULT_TOL,
                              seed: int = 0, X: np.ndarray | None = None, Y: np.ndarray | None = None,
                              values: dict[str, float] | None = None, randomize: bool = False,
                              n_trials: int = 3) -> Report:
    """Check ``func(X, Y)`` against the derivative of ``k(X, Y)`` with respect to a hyperparameter.

    Parameters
    ----------
    kernel : kernelgen.Kernel, SymbolicKernel, scikit-learn kernel or function
        The reference (a plain function ``k(X, Y, name=default, ...)`` must take ``name``; it is
        differentiated numerically). Pick values away from 1 to tell the conventions apart, or
        use ``randomize``.
    func : callable
        ``func(X, Y) -> ndarray (n, m)``; may take hyperparameters as keyword arguments.
    name : str
        kernelgen name, or scikit-learn name (e.g. ``"k2__length_scale"``) for scikit-learn kernels.
    log : bool
        ``True``: the claim is ``dk/dlog(theta) = theta * dk/dtheta`` (scikit-learn's
        ``eval_gradient``); ``False``: the claim is ``dk/dtheta``.
    values, randomize, n_trials
        As in :func:`input_derivative`.

    Returns
    -------
    Report
        On failure the diagnosis says, in one sentence, which convention ``func`` does match.
    """
    ref = _Reference(kernel, dim)
    ours = ref.own(name)
    values = {ref.own(n): v for n, v in (values or {}).items()}
    rng = np.random.default_rng(seed)
    log_label, lin_label = f"{name}*dk/d{name} = dk/dlog {name}", f"dk/d{name}"
    label = log_label if log else lin_label
    worst: Check | None = None
    used: dict[str, float] = {}
    func_label = f"the function {getattr(func, '__name__', func)!r}"
    for _ in range(n_trials if randomize else 1):
        vals = choose_values(ref.values, func, values, randomize, rng, func_label)
        A, B = (X, Y) if X is not None and Y is not None else _points(rng, n_points, ref.dim)
        A, B = np.asarray(A, dtype=np.float64), np.asarray(B, dtype=np.float64)
        g_log = ref.log_gradient(A, B, ours, vals)
        v = vals[ours]
        g_lin = g_log / v
        if log:
            truth = g_log
            alternatives = [(f"{lin_label}, the derivative in linear space (the chain-rule factor {name} is "
                             "missing)", g_lin), (f"{name}^2*dk/d{name} (one factor {name} too many)", g_log * v),
                            (f"-dk/dlog {name} (the sign is wrong)", -g_log)]
        else:
            truth = g_lin
            alternatives = [(f"{log_label}, the derivative in log space (one factor {name} too many)", g_log),
                            (f"-{lin_label} (the sign is wrong)", -g_lin)]
        fallback = float(np.max(np.abs(ref.value(A, B, vals))))
        check = compare(label, _call(func, A, B, vals), truth, A, B, tol, fallback, alternatives)
        if worst is None or check.relative_error > worst.relative_error:
            worst, used = check, vals
    assert worst is not None
    v = used[ours]
    notes = () if abs(np.log(v)) > 0.1 else (
        f"{name} = {v:g} is close to 1, where dk/dlog {name} and dk/d{name} nearly coincide",)
    if ref.function is not None:
        notes += ("reference differentiated numerically (central differences in log " + name + ")",)
    how = _how(randomize, ref.values, values, n_trials)
    convention = (f"claimed: {label} ({'log-space, as scikit-learn eval_gradient' if log else 'linear space'}), "
                  f"at {_values_text(used)} ({how})")
    return Report(f"hyperparameter derivative {getattr(func, '__name__', func)!r} of {ref.label}", convention, tol,
                  (worst,), notes)
