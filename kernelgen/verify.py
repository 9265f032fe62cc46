"""Check hand-derived kernel derivatives against kernelgen's symbolic truth.

* :func:`sklearn_kernel` checks a scikit-learn kernel's ``K``, ``diag`` and ``eval_gradient``.
* :func:`input_derivative` checks a callable claimed to return ``d^dx/dx d^dy/dy k(X, Y)``.
* :func:`hyperparameter_derivative` checks a callable claimed to return ``dk/dlog(theta)``
  (``log=True``, scikit-learn's convention) or ``dk/dtheta`` (``log=False``).

Each returns a :class:`Report`: per checked quantity the maximal absolute and relative error, the
point pair where the largest error occurs, pass/fail at the stated tolerance and, on failure,
which other convention the implementation matches ("matches dk/dtheta, not theta*dk/dtheta").

Error measure: an entry's error is ``|claimed - truth|``; a quantity passes when its largest
error is at most ``tol * scale`` with ``scale`` the largest ``|truth|`` of that quantity (or of
the kernel values when the truth is identically zero). Hyperparameters are drawn log-uniformly
away from 1 (in ``[0.25, 0.7]`` or ``[1.4, 4]``) because at ``theta = 1`` the log-space and
linear-space derivatives coincide and a missing chain-rule factor is invisible.

``main_verify(argv)`` is the ``kernelgen verify`` command.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "LOG_CONVENTION",
    "Check",
    "Report",
    "hyperparameter_derivative",
    "input_derivative",
    "main_verify",
    "sklearn_kernel",
    "sklearn_kernels",
]

LOG_CONVENTION = (
    "scikit-learn convention: eval_gradient returns dK/dlog(theta) = theta * dK/dtheta for each free "
    "hyperparameter theta, in kernel.theta order (theta = log of the hyperparameter values)."
)

DEFAULT_TOL = 1e-6


@dataclass(frozen=True)
class Check:
    """Agreement of one quantity (``K``, one gradient column, one derivative)."""

    quantity: str
    max_abs_error: float
    max_rel_error: float
    scale: float
    tol: float
    where: tuple[int, int]
    x: np.ndarray
    y: np.ndarray
    diagnosis: str = ""

    @property
    def passed(self) -> bool:
        return bool(self.max_abs_error <= self.tol * self.scale)


@dataclass(frozen=True)
class Report:
    """Results of one verification; ``str(report)`` is a table."""

    subject: str
    convention: str
    tol: float
    checks: tuple[Check, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def check(self, quantity: str) -> Check:
        for c in self.checks:
            if c.quantity == quantity:
                return c
        raise KeyError(f"no check {quantity!r}; have {[c.quantity for c in self.checks]}")

    def table(self) -> str:
        head = (f"{'quantity':<34} {'max abs err':>11} {'max rel err':>11} {'scale':>9}  "
                f"{'worst pair (x | y)':<36} result")
        lines = [f"{self.subject}", f"  convention: {self.convention}",
                 f"  tolerance: max abs err <= {self.tol:g} * scale", "  " + head]
        for c in self.checks:
            pair = (f"{np.array2string(c.x, precision=3, separator=',')} | "
                    f"{np.array2string(c.y, precision=3, separator=',')}")
            lines.append(f"  {c.quantity:<34} {c.max_abs_error:11.2e} {c.max_rel_error:11.2e} {c.scale:9.2e}  "
                         f"{pair:<36} {'ok' if c.passed else 'FAIL'}")
            if c.diagnosis:
                lines.append(f"      -> {c.diagnosis}")
        lines.extend(f"  note: {n}" for n in self.notes)
        lines.append(f"  => {'PASS' if self.passed else 'FAIL'}")
        return "\n".join(lines)

    __str__ = table


# ---------------------------------------------------------------------- comparison helpers
def _compare(quantity: str, claimed: np.ndarray, truth: np.ndarray, X: np.ndarray, Y: np.ndarray, tol: float,
             fallback_scale: float, alternatives: Sequence[tuple[str, np.ndarray]] = ()) -> Check:
    claimed = np.asarray(claimed, dtype=np.float64)
    if claimed.shape != truth.shape:
        raise ValueError(f"{quantity}: the implementation returned shape {claimed.shape}, expected {truth.shape}")
    err = np.abs(claimed - truth)
    if not np.all(np.isfinite(err)):
        err = np.where(np.isfinite(err), err, np.inf)
    scale = float(np.max(np.abs(truth))) if truth.size else 0.0
    if scale == 0.0:
        scale = fallback_scale if fallback_scale > 0 else 1.0
    flat = int(np.argmax(err)) if err.size else 0
    i, j = np.unravel_index(flat, err.shape) if err.size else (0, 0)
    big = np.abs(truth) > 1e-8 * scale
    rel = float(np.max(err[big] / np.abs(truth[big]))) if np.any(big) else 0.0
    check = Check(quantity, float(err.max()) if err.size else 0.0, rel, scale, tol, (int(i), int(j)),
                  np.asarray(X[i]), np.asarray(Y[j]))
    if check.passed or not alternatives:
        return check
    return Check(**{**check.__dict__, "diagnosis": _diagnose(claimed, truth, alternatives, tol, scale)})


def _diagnose(claimed: np.ndarray, truth: np.ndarray, alternatives: Sequence[tuple[str, np.ndarray]],
              tol: float, scale: float) -> str:
    matches = []
    for label, alt in alternatives:
        alt_scale = max(float(np.max(np.abs(alt))), scale * 1e-12)
        if np.max(np.abs(claimed - alt)) <= max(tol, 1e-8) * alt_scale:
            matches.append(label)
    if matches:
        return "matches " + "; equally matches ".join(matches)
    denom = float(np.sum(truth * truth))
    if denom > 0:
        c = float(np.sum(claimed * truth) / denom)
        if c != 0 and np.max(np.abs(claimed - c * truth)) <= max(tol, 1e-8) * abs(c) * scale:
            return f"matches {c:.6g} x the claimed quantity (off by a constant factor)"
    return "matches neither the claimed quantity nor " + (
        ", ".join(label for label, _ in alternatives) if alternatives else "any alternative")


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


# ---------------------------------------------------------------------- (a) scikit-learn kernels
def _sk_labels(kernel: Any) -> list[str]:
    out = []
    for h in kernel.hyperparameters:
        if not h.fixed:
            out.extend([h.name] if h.n_elements == 1 else [f"{h.name}[{i}]" for i in range(h.n_elements)])
    return out


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
    from .sklearn import _infer_dim, from_sklearn, parameter_map

    dim = dim or _infer_dim(kernel) or 2
    rng = np.random.default_rng(seed)
    worst: dict[str, Check] = {}
    name_map = parameter_map(kernel, dim)
    for _ in range(max(1, n_trials)):
        k = kernel
        if randomize and kernel.theta.size:
            k = kernel.clone_with_theta(_away_from_one(rng, kernel.theta.size))
        ref = from_sklearn(k, dim)
        X, Y = _points(rng, n_points, dim)
        K, G = k(X, eval_gradient=True)
        K_ref, G_ref = ref(X, eval_gradient=True)
        fallback = float(np.max(np.abs(K_ref))) or 1.0
        checks = [
            _compare("K(X)", K, K_ref, X, X, tol, fallback),
            _compare("K(X, Y)", k(X, Y), ref(X, Y), X, Y, tol, fallback),
        ]
        d = k.diag(X)
        checks.append(_compare("diag(X)", d[:, None], ref.diag(X)[:, None], X, X, tol, fallback))
        labels = _sk_labels(k)
        ref_free = [h.name for h in ref.hyperparameters if not h.fixed]
        if G.shape != (X.shape[0], X.shape[0], len(labels)):
            expected = (X.shape[0], X.shape[0], len(labels))
            raise ValueError(f"eval_gradient returned shape {G.shape}, expected {expected}")
        values = {n: float(np.exp(t)) for n, t in zip(ref_free, ref.theta)}
        for col, label in enumerate(labels):
            ours = name_map[label]
            truth = G_ref[:, :, ref_free.index(ours)]
            v = values[ours]
            alternatives = [
                (f"dK/d{label} (linear space: the chain-rule factor {label} is missing), not "
                 f"{label}*dK/d{label} = dK/dlog {label}", truth / v),
                (f"{label}^2*dK/d{label} (one factor {label} too many)", truth * v),
                (f"-dK/dlog {label} (sign error)", -truth),
            ]
            checks.append(_compare(f"dK/dlog {label}", G[:, :, col], truth, X, X, tol, fallback, alternatives))
        for c in checks:
            if c.quantity not in worst or c.max_abs_error / c.scale > worst[c.quantity].max_abs_error / \
                    worst[c.quantity].scale:
                worst[c.quantity] = c
    notes = (f"{n_trials} random hyperparameter draws, {n_points} points in {dim} dimensions, coincident pairs "
             "included; kernelgen names: " + ", ".join(f"{s}->{o}" for s, o in name_map.items()),)
    return Report(f"scikit-learn kernel {kernel!r}", LOG_CONVENTION, tol, tuple(worst.values()), notes)


def sklearn_kernels(dim: int = 2) -> dict[str, Any]:
    """One instance of every scikit-learn kernel (and composite) that ``from_sklearn`` converts."""
    from sklearn.gaussian_process import kernels as skk

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
def _as_kernelgen(kernel: Any, dim: int | None):
    """(kernelgen Kernel, name lookup) for a kernelgen Kernel, SymbolicKernel or scikit-learn kernel."""
    from .sklearn import SymbolicKernel, to_kernelgen
    from .symbolic.kernel import Kernel

    if isinstance(kernel, Kernel):
        return kernel, {}
    if isinstance(kernel, SymbolicKernel):
        return kernel.latent, {}
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
    check = _compare(label, _call(func, X, Y), truth, X, Y, tol, float(np.max(np.abs(k(X, Y)))), alternatives)
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
    check = _compare(label, _call(func, X, Y), truth, X, Y, tol, float(np.max(np.abs(K))), alternatives)
    convention = (f"claimed: {label} ({'log-space, as scikit-learn eval_gradient' if log else 'linear space'}), "
                  f"at {name} = {v:g}")
    return Report(f"hyperparameter derivative {getattr(func, '__name__', func)!r} of {k.name}", convention, tol,
                  (check,), notes)


# ---------------------------------------------------------------------- command line
def _load(spec: str) -> Any:
    if ":" not in spec:
        raise ValueError(f"expected module:attribute, got {spec!r}")
    module, attr = spec.split(":", 1)
    sys.path.insert(0, ".")
    try:
        obj: Any = importlib.import_module(module)
    finally:
        sys.path.pop(0)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def _instantiate(obj: Any) -> Any:
    """An instance from an object, a class (default constructor) or a zero-argument factory."""
    from sklearn.gaussian_process.kernels import Kernel as SkKernel

    from .symbolic.kernel import Kernel

    if isinstance(obj, (SkKernel, Kernel)):
        return obj
    if inspect.isclass(obj) or callable(obj):
        return obj()
    raise TypeError(f"{obj!r} is not a kernel, kernel class or factory")


def _reference(spec: str, dim: int) -> Any:
    if ":" in spec:
        return _instantiate(_load(spec))
    from .builtin import LIBRARY
    from .symbolic.kernel import Kernel

    return LIBRARY[spec](dim) if spec in LIBRARY else Kernel.from_string(spec, dim)


def main_verify(argv: Sequence[str] | None = None) -> int:
    """``kernelgen verify``: returns 0 when everything checked passes, 1 on a mismatch, 2 on errors."""
    parser = argparse.ArgumentParser(
        prog="kernelgen verify",
        description="Check hand-derived kernel gradients against kernelgen's symbolic derivatives. " + LOG_CONVENTION)
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--sklearn", action="store_true", help="check every convertible scikit-learn kernel")
    what.add_argument("--kernel", metavar="MODULE:ATTR",
                      help="a scikit-learn kernel instance, class or zero-argument factory (e.g. a subclass with a "
                           "hand-written gradient)")
    what.add_argument("--function", metavar="MODULE:ATTR",
                      help="a callable f(X, Y) -> (n, m) claimed to be a derivative of --reference")
    parser.add_argument("--reference", metavar="KERNEL",
                        help="for --function: MODULE:ATTR (kernelgen or scikit-learn kernel), a library name or an "
                             "expression string")
    parser.add_argument("--dx", type=int, nargs="*", default=None, help="for --function: input indices, 1st argument")
    parser.add_argument("--dy", type=int, nargs="*", default=[], help="for --function: input indices, 2nd argument")
    parser.add_argument("--param", help="for --function: hyperparameter name (claimed dk/dlog(param))")
    parser.add_argument("--linear", action="store_true", help="with --param: the claim is dk/dparam instead")
    parser.add_argument("--dim", type=int, default=None, help="input dimension (default 2 for --sklearn)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tol", type=float, default=DEFAULT_TOL)
    parser.add_argument("--quiet", action="store_true", help="summary lines only")
    args = parser.parse_args(list(argv) if argv is not None else None)

    try:
        if args.sklearn:
            reports = [(label, sklearn_kernel(k, dim=args.dim or 2, tol=args.tol, seed=args.seed))
                       for label, k in sklearn_kernels(args.dim or 2).items()]
        elif args.kernel:
            k = _instantiate(_load(args.kernel))
            reports = [(args.kernel, sklearn_kernel(k, dim=args.dim, tol=args.tol, seed=args.seed))]
        else:
            if not args.reference:
                parser.error("--function needs --reference")
            func = _load(args.function)
            ref = _reference(args.reference, args.dim or 1)
            if args.param:
                rep = hyperparameter_derivative(ref, func, args.param, log=not args.linear, dim=args.dim,
                                                tol=args.tol, seed=args.seed)
            else:
                rep = input_derivative(ref, func, tuple(args.dx if args.dx is not None else [0]), tuple(args.dy),
                                       dim=args.dim, tol=args.tol, seed=args.seed)
            reports = [(args.function, rep)]
    except (ValueError, TypeError, ImportError, AttributeError, KeyError) as exc:
        print(f"kernelgen verify: error: {exc}", file=sys.stderr)
        return 2

    if args.quiet or args.sklearn:
        print(f"{'kernel':<46} {'worst quantity':<30} {'err/scale':>11}  result")
        for label, rep in reports:
            c = max(rep.checks, key=lambda c: c.max_abs_error / c.scale)
            print(f"{label:<46} {c.quantity:<30} {c.max_abs_error / c.scale:11.2e}  {'ok' if rep.passed else 'FAIL'}")
        print(f"convention: {LOG_CONVENTION}")
        print(f"tolerance: max abs err <= {args.tol:g} * max|truth| per quantity")
        for _, rep in reports:
            if not rep.passed:
                print()
                print(rep.table())
    else:
        for _, rep in reports:
            print(rep.table())
    return 0 if all(rep.passed for _, rep in reports) else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main_verify())
