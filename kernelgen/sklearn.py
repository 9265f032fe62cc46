"""scikit-learn bridge: a scikit-learn kernel backed by generated code, conversion of scikit-learn
kernel trees, and derivative predictions from an already fitted ``GaussianProcessRegressor``.

Hyperparameter names
--------------------
:func:`from_sklearn` names every hyperparameter after the scikit-learn leaf parameter it comes
from, so ``gpr.kernel_.length_scale`` means what a scikit-learn user expects:

=====================================  ==============================================
scikit-learn                           :class:`SymbolicKernel` / kernelgen name
=====================================  ==============================================
``ConstantKernel.constant_value``      ``constant_value``
``RBF`` / ``Matern`` ``length_scale``  ``length_scale`` (isotropic) or ``length_scale_0``,
                                       ``length_scale_1``, ... (one per input, anisotropic)
``RationalQuadratic``                  ``alpha``, ``length_scale``
``ExpSineSquared``                     ``length_scale``, ``periodicity``
``DotProduct.sigma_0``                 ``sigma_0``
``WhiteKernel.noise_level``            ``noise_level`` (the noise term, always last in ``theta``)
=====================================  ==============================================

A name used twice gets the first free suffix ``_2``, ``_3``, ... in the order scikit-learn lists
the hyperparameters (``k1`` before ``k2``), e.g. ``C*RBF + C*RBF`` gives ``constant_value,
length_scale, constant_value_2, length_scale_2``. :func:`parameter_map` returns the exact mapping
from scikit-learn's nested names (``k1__k2__length_scale``) to these names.

Log-space convention
--------------------
As in scikit-learn, ``theta`` and ``bounds`` are natural logs of the free hyperparameters and
``eval_gradient=True`` returns ``dK/dlog(theta) = theta * dK/dtheta``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.exceptions import NotFittedError
from sklearn.gaussian_process import kernels as skk

from . import kernels as lib
from .posterior import TrainingState, predict_derivatives
from .runtime import as_points, compiled
from .symbolic.hyperparameters import DEFAULT_BOUNDS
from .symbolic.hyperparameters import Hyperparameter as KGHyperparameter
from .symbolic.kernel import Kernel
from .symbolic.prepared import normalize_request

__all__ = [
    "NOISE_NAME",
    "SymbolicKernel",
    "UnsupportedKernelError",
    "from_sklearn",
    "parameter_map",
    "predict_derivative",
    "predict_gradient",
    "to_kernelgen",
]

#: Name of the white-noise hyperparameter of a :class:`SymbolicKernel`.
NOISE_NAME = "noise_level"

_SUPPORTED = (
    "Sum, Product, Exponentiation, ConstantKernel, RBF, Matern (nu in 0.5, 1.5, 2.5, inf), "
    "RationalQuadratic (isotropic), ExpSineSquared, DotProduct, WhiteKernel (additive noise term), "
    "SymbolicKernel"
)


class UnsupportedKernelError(ValueError):
    """A scikit-learn kernel (or a placement of one) that :func:`from_sklearn` cannot convert."""


def _scalar(value: Any, name: str) -> float:
    arr = np.asarray(value, dtype=np.float64)
    if arr.size != 1:
        raise ValueError(f"hyperparameter {name!r} must be a scalar, got {value!r}")
    return float(arr.reshape(()))


def _is_fixed(bounds: Any) -> bool:
    return isinstance(bounds, str) and bounds == "fixed"


class SymbolicKernel(skk.Kernel):
    """A scikit-learn kernel evaluated by kernelgen's generated code.

    Parameters
    ----------
    kernel : kernelgen.Kernel
        The latent covariance. Its hyperparameter values and bounds are the defaults of the
        keyword arguments below.
    noise_level : float, optional
        Adds a white-noise term like scikit-learn's ``WhiteKernel``: ``noise_level`` on the
        diagonal of ``k(X)`` and nothing in ``k(X, Y)``. ``None`` (default) means no noise term.
    noise_level_bounds : pair of float or "fixed"
        Bounds of ``noise_level``.
    **hyperparameters
        ``<name>=value`` and ``<name>_bounds=(low, high) | "fixed"`` for any hyperparameter of
        ``kernel``; they override the values stored in ``kernel``.

    Notes
    -----
    Every hyperparameter is a scalar scikit-learn ``Hyperparameter`` (``n_elements=1``): an
    anisotropic length scale appears as ``length_scale_0, length_scale_1, ...`` and each can be
    fixed on its own. ``theta`` lists the kernel's free hyperparameters in the kernel's order, then
    ``noise_level``. One generated module per kernel structure computes values and log-gradients
    together; changing values or bounds never regenerates code.

    Examples
    --------
    >>> from kernelgen import kernels
    >>> k = SymbolicKernel(kernels.rbf(1), length_scale=0.5, noise_level=1e-2)
    >>> k.theta.round(3)
    array([ 0.   , -0.693, -4.605])
    """

    def __init__(self, kernel: Kernel, noise_level: float | None = None,
                 noise_level_bounds: tuple[float, float] | str = DEFAULT_BOUNDS, **hyperparameters: Any) -> None:
        if not isinstance(kernel, Kernel):
            raise TypeError(f"SymbolicKernel needs a kernelgen.Kernel, got {type(kernel).__name__}")
        _check_names(kernel.all_hyperparameter_names)
        allowed = {n for h in kernel.hyperparameters for n in (h.name, h.name + "_bounds")}
        unknown = sorted(set(hyperparameters) - allowed)
        if unknown:
            raise TypeError(f"unknown hyperparameter arguments {unknown}; the kernel has {sorted(allowed)}")
        self.kernel = kernel
        self.noise_level = noise_level
        self.noise_level_bounds = noise_level_bounds
        for h in kernel.hyperparameters:
            setattr(self, h.name, hyperparameters.get(h.name, h.value))
            setattr(self, h.name + "_bounds", hyperparameters.get(h.name + "_bounds", "fixed" if h.fixed else h.bounds))

    # ------------------------------------------------------------------ parameters
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor arguments: ``kernel``, ``noise_level(_bounds)`` and every ``<name>(_bounds)``."""
        params: dict[str, Any] = {"kernel": self.kernel}
        for n in self.kernel.all_hyperparameter_names:
            params[n] = getattr(self, n)
            params[n + "_bounds"] = getattr(self, n + "_bounds")
        params["noise_level"] = self.noise_level
        params["noise_level_bounds"] = self.noise_level_bounds
        return params

    def set_params(self, **params: Any) -> SymbolicKernel:
        """Set constructor arguments by name (hyperparameter names are flat, never ``a__b`` paths)."""
        valid = self.get_params()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(f"invalid parameter {key!r} for {type(self).__name__}; valid: {sorted(valid)}")
            if key == "kernel" and (not isinstance(value, Kernel)
                                    or value.all_hyperparameter_names != self.kernel.all_hyperparameter_names):
                raise ValueError("set_params(kernel=...) needs a kernelgen.Kernel with the same hyperparameter names;"
                                 " build a new SymbolicKernel instead")
            setattr(self, key, value)
        return self

    @property
    def hyperparameters(self) -> list[skk.Hyperparameter]:
        """scikit-learn ``Hyperparameter`` specs, kernel order then ``noise_level``."""
        out = [skk.Hyperparameter(n, "numeric", getattr(self, n + "_bounds"))
               for n in self.kernel.all_hyperparameter_names]
        if self.noise_level is not None:
            out.append(skk.Hyperparameter(NOISE_NAME, "numeric", self.noise_level_bounds))
        return out

    def __getattr__(self, attr: str) -> Any:
        # hyperparameter_<name>, as scikit-learn kernels expose them.
        if attr.startswith("hyperparameter_") and "kernel" in self.__dict__:
            name = attr[len("hyperparameter_"):]
            for h in self.hyperparameters:
                if h.name == name:
                    return h
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {attr!r}")

    def __dir__(self) -> list[str]:
        extra = [f"hyperparameter_{h.name}" for h in self.hyperparameters] if "kernel" in self.__dict__ else []
        return sorted(set(super().__dir__()) | set(extra))

    @property
    def theta(self) -> np.ndarray:
        """Log of the free hyperparameters (kernel order, then ``noise_level``)."""
        values = [_scalar(getattr(self, h.name), h.name) for h in self.hyperparameters if not h.fixed]
        return np.log(np.array(values, dtype=np.float64)) if values else np.array([])

    @theta.setter
    def theta(self, theta: np.ndarray) -> None:
        theta = np.asarray(theta, dtype=np.float64).reshape(-1)
        free = [h.name for h in self.hyperparameters if not h.fixed]
        if theta.shape != (len(free),):
            raise ValueError(f"theta has length {theta.shape[0]}, expected {len(free)} ({free})")
        for name, t in zip(free, theta):
            setattr(self, name, float(np.exp(t)))

    def clone_with_theta(self, theta: np.ndarray) -> SymbolicKernel:
        """A copy with ``theta`` set (parameters are immutable, so nothing is deep-copied)."""
        new = type(self)(**self.get_params(deep=False))
        new.theta = theta
        return new

    # ------------------------------------------------------------------ kernelgen views
    @property
    def latent(self) -> Kernel:
        """The kernelgen kernel with the current values and bounds (noise excluded)."""
        names = self.kernel.all_hyperparameter_names
        k = self.kernel.with_values(**{n: _scalar(getattr(self, n), n) for n in names})
        return k.with_bounds(**{n: getattr(self, n + "_bounds") for n in names})

    @property
    def noise(self) -> KGHyperparameter | None:
        """The white-noise hyperparameter, or None."""
        if self.noise_level is None:
            return None
        fixed = _is_fixed(self.noise_level_bounds)
        bounds = DEFAULT_BOUNDS if fixed else tuple(self.noise_level_bounds)
        return KGHyperparameter(NOISE_NAME, _scalar(self.noise_level, NOISE_NAME), bounds, fixed)

    def _parameter_vector(self) -> np.ndarray:
        return np.array([_scalar(getattr(self, n), n) for n in self.kernel.all_hyperparameter_names],
                        dtype=np.float64)

    # ------------------------------------------------------------------ evaluation
    def __call__(self, X: np.ndarray, Y: np.ndarray | None = None,
                 eval_gradient: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Kernel matrix ``k(X, Y)`` and, optionally, its gradient with respect to ``theta``.

        Parameters
        ----------
        X : ndarray of shape (n_samples_X, n_features)
        Y : ndarray of shape (n_samples_Y, n_features), optional
            ``None`` means ``Y = X`` *with* the noise term on the diagonal.
        eval_gradient : bool
            Only allowed with ``Y=None``.

        Returns
        -------
        K : ndarray of shape (n_samples_X, n_samples_Y)
        K_gradient : ndarray of shape (n_samples_X, n_samples_X, n_dims)
            ``dK/dlog(theta)`` for the free hyperparameters, in ``theta`` order.
        """
        if eval_gradient and Y is not None:
            raise ValueError("Gradient can only be evaluated when Y is None.")
        dim = self.kernel.dim
        A = as_points(X, dim, "X")
        B = None if Y is None else as_points(Y, dim, "Y")
        # One module per structure: values and all log-gradients (fixed ones are dropped below).
        batch = compiled(self.kernel, [((), ())], gradient=True)
        out = batch.fill(A, B, self._parameter_vector())
        K = np.array(out[:, :, 0])
        noise = None if self.noise_level is None else _scalar(self.noise_level, NOISE_NAME)
        if noise is not None and B is None:
            K[np.diag_indices_from(K)] += noise
        if not eval_gradient:
            return K
        columns = [batch.index((), (), n) for n in self.kernel.all_hyperparameter_names
                   if not _is_fixed(getattr(self, n + "_bounds"))]
        grad = out[:, :, columns]
        if noise is not None and not _is_fixed(self.noise_level_bounds):
            grad = np.concatenate([grad, (noise * np.eye(A.shape[0]))[:, :, None]], axis=2)
        return K, np.ascontiguousarray(grad)

    def diag(self, X: np.ndarray) -> np.ndarray:
        """``k(x, x)`` for each row of ``X`` (noise included), shape (n_samples,)."""
        A = as_points(X, self.kernel.dim, "X")
        batch = compiled(self.kernel, [((), ())], gradient=True)
        d = batch.diag(A, self._parameter_vector())[:, 0].copy()
        if self.noise_level is not None:
            d += _scalar(self.noise_level, NOISE_NAME)
        return d

    def is_stationary(self) -> bool:
        """Whether the kernel depends on ``x - y`` only."""
        return bool(self.kernel.is_stationary)

    def __repr__(self) -> str:
        parts = []
        for h in self.hyperparameters:
            value = _scalar(getattr(self, h.name), h.name)
            parts.append(f"{h.name}={value:.3g}{' (fixed)' if h.fixed else ''}")
        return f"SymbolicKernel({self.kernel.name}: {self.kernel.expr}; {', '.join(parts)})"


_RESERVED = frozenset({"kernel", "noise_level", "noise_level_bounds"}) | frozenset(dir(SymbolicKernel))


def _check_names(names: Sequence[str]) -> None:
    bad = [n for n in names if n in _RESERVED or n.startswith("hyperparameter_")]
    bad += [n for n in names if n + "_bounds" in names]
    if bad:
        raise ValueError(
            f"hyperparameter names {bad} clash with SymbolicKernel attributes; rename them with kernel.rename(...)"
        )


# ---------------------------------------------------------------------- conversion
@dataclass(frozen=True)
class Converted:
    """Result of converting a scikit-learn kernel tree.

    Attributes
    ----------
    latent : kernelgen.Kernel or None
        The covariance of the latent function (every term except white noise).
    noise : kernelgen.Hyperparameter or None
        The ``WhiteKernel`` noise level, if the tree has one as an additive term.
    names : tuple of (str, str)
        ``(scikit-learn name, kernelgen name)`` for every hyperparameter (fixed ones included), in
        scikit-learn's order. Array hyperparameters are listed per element as ``name[i]``.
    """

    latent: Kernel | None
    noise: KGHyperparameter | None
    names: tuple[tuple[str, str], ...]


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        taken.add(name)
        return name
    suffix = 2
    while f"{name}_{suffix}" in taken:
        suffix += 1
    taken.add(f"{name}_{suffix}")
    return f"{name}_{suffix}"


def _sk_bounds(node: skk.Kernel, attr: str) -> list[tuple[float, float] | str]:
    hp = getattr(node, f"hyperparameter_{attr}")
    if hp.fixed:
        return ["fixed"] * hp.n_elements
    b = np.asarray(hp.bounds, dtype=np.float64).reshape(-1, 2)
    if b.shape[0] == 1 and hp.n_elements > 1:
        b = np.repeat(b, hp.n_elements, axis=0)
    return [(float(lo), float(hi)) for lo, hi in b]


def _infer_dim(node: Any) -> int | None:
    if isinstance(node, SymbolicKernel):
        return node.kernel.dim
    if isinstance(node, skk.KernelOperator):
        return _infer_dim(node.k1) or _infer_dim(node.k2)
    if isinstance(node, skk.Exponentiation):
        return _infer_dim(node.kernel)
    if isinstance(node, (skk.RBF, skk.Matern)) and np.size(node.length_scale) > 1:
        return int(np.size(node.length_scale))
    return None


def _leaf(node: skk.Kernel, dim: int, path: str, taken: set[str]) -> tuple[Kernel, list[tuple[str, str]]]:
    """A scikit-learn leaf kernel as a kernelgen kernel with unique names, and its name pairs."""
    if isinstance(node, skk.ConstantKernel):
        k = lib.constant(dim, _scalar(node.constant_value, "constant_value"),
                         bounds=_sk_bounds(node, "constant_value")[0])
        sk_names = ["constant_value"]
    elif isinstance(node, (skk.RBF, skk.Matern)):
        nu = float(node.nu) if isinstance(node, skk.Matern) else np.inf
        ls = np.asarray(node.length_scale, dtype=np.float64)
        bounds = _sk_bounds(node, "length_scale")
        # Like scikit-learn, a one-element length scale is isotropic.
        ard = ls.size > 1
        if not ard:
            ls = ls.reshape(())
        if ard and ls.shape[0] != dim:
            raise UnsupportedKernelError(f"{path or 'kernel'}: {ls.shape[0]} length scales for {dim} inputs")
        if ard:
            value: float | list[float] = ls.tolist()
            sk_names = [f"length_scale[{i}]" for i in range(dim)]
        else:
            value, sk_names = float(ls), ["length_scale"]
        if np.isinf(nu):
            k = lib.rbf(dim, value, None, ard=ard)
        elif nu in (0.5, 1.5, 2.5):
            k = lib.matern(dim, nu, value, None, ard=ard)
        else:
            raise UnsupportedKernelError(
                f"Matern with nu={node.nu} (at {path or 'root'}) cannot be converted: nu must be 0.5, 1.5, 2.5 or inf")
        names = k.all_hyperparameter_names
        k = k.with_bounds(**dict(zip(names, bounds)))
    elif isinstance(node, skk.RationalQuadratic):
        if np.iterable(node.length_scale) and np.size(node.length_scale) > 1:
            raise UnsupportedKernelError(
                f"RationalQuadratic (at {path or 'root'}) supports isotropic length scales only")
        k = lib.rational_quadratic(dim, _scalar(node.length_scale, "length_scale"), _scalar(node.alpha, "alpha"), None,
                                   length_scale_bounds=_sk_bounds(node, "length_scale")[0],
                                   alpha_bounds=_sk_bounds(node, "alpha")[0])
        # scikit-learn lists hyperparameters alphabetically: alpha, then length_scale.
        k = Kernel(k.expr, k.x, k.y, [k.hyperparameter("alpha"), k.hyperparameter("length_scale")], name=k.name)
        sk_names = ["alpha", "length_scale"]
    elif isinstance(node, skk.ExpSineSquared):
        k = lib.exp_sine_squared(
            dim, _scalar(node.length_scale, "length_scale"), _scalar(node.periodicity, "periodicity"), None,
            length_scale_bounds=_sk_bounds(node, "length_scale")[0], period_bounds=_sk_bounds(node, "periodicity")[0],
        ).rename(period="periodicity")
        sk_names = ["length_scale", "periodicity"]
    elif isinstance(node, skk.DotProduct):
        k = lib.dot_product(dim, _scalar(node.sigma_0, "sigma_0"), sigma_0_bounds=_sk_bounds(node, "sigma_0")[0])
        sk_names = ["sigma_0"]
    elif isinstance(node, SymbolicKernel):
        if node.kernel.dim != dim:
            raise UnsupportedKernelError(f"SymbolicKernel at {path or 'root'} has dim {node.kernel.dim}, not {dim}")
        k = node.latent
        sk_names = list(k.all_hyperparameter_names)
    else:
        raise UnsupportedKernelError(
            f"{type(node).__name__} (at {path or 'root'}) cannot be converted to a kernelgen kernel; "
            f"supported: {_SUPPORTED}")
    ours = k.all_hyperparameter_names
    renames = {n: _unique(n, taken) for n in ours}
    k = k.rename(**{o: n for o, n in renames.items() if o != n})
    return k, [(path + s, renames[o]) for s, o in zip(sk_names, ours)]


def _convert(node: Any, dim: int, path: str, taken: set[str], additive: bool
             ) -> tuple[Kernel | None, KGHyperparameter | None, list[tuple[str, str]], list[tuple[str, str]]]:
    """Returns (latent, noise, latent name pairs, noise name pairs)."""
    if isinstance(node, skk.WhiteKernel):
        if not additive:
            raise UnsupportedKernelError(
                f"WhiteKernel at {path or 'root'} sits inside a Product or Exponentiation; it is supported only as "
                "an additive noise term")
        b = _sk_bounds(node, "noise_level")[0]
        noise = KGHyperparameter(NOISE_NAME, _scalar(node.noise_level, NOISE_NAME),
                                 DEFAULT_BOUNDS if _is_fixed(b) else b, _is_fixed(b))  # type: ignore[arg-type]
        return None, noise, [], [(path + "noise_level", NOISE_NAME)]
    if isinstance(node, SymbolicKernel) and node.noise_level is not None:
        if not additive:
            raise UnsupportedKernelError(f"SymbolicKernel with a noise term at {path or 'root'} is inside a "
                                         "Product or Exponentiation; noise is supported only as an additive term")
        quiet = type(node)(**{**node.get_params(deep=False), "noise_level": None})
        latent, _, pairs, _ = _convert(quiet, dim, path, taken, additive)
        return latent, node.noise, pairs, [(path + NOISE_NAME, NOISE_NAME)]
    if isinstance(node, (skk.Sum, skk.Product)):
        is_sum = isinstance(node, skk.Sum)
        a, na, pa, qa = _convert(node.k1, dim, path + "k1__", taken, additive and is_sum)
        b, nb, pb, qb = _convert(node.k2, dim, path + "k2__", taken, additive and is_sum)
        if na is not None and nb is not None:
            raise UnsupportedKernelError(f"more than one WhiteKernel noise term (at {path or 'root'}); use one")
        if a is None or b is None:
            return a if b is None else b, na or nb, pa + pb, qa + qb
        return (a + b) if is_sum else (a * b), na or nb, pa + pb, qa + qb
    if isinstance(node, skk.Exponentiation):
        base, _, pairs, _ = _convert(node.kernel, dim, path + "kernel__", taken, False)
        exponent = float(node.exponent)
        if not exponent > 0 or base is None:
            raise UnsupportedKernelError(
                f"Exponentiation at {path or 'root'} needs a positive exponent, got {exponent}")
        return base ** exponent, None, pairs, []
    k, pairs = _leaf(node, dim, path, taken)
    return k, None, pairs, []


def to_kernelgen(kernel: skk.Kernel, dim: int | None = None) -> Converted:
    """Convert a scikit-learn kernel tree into a kernelgen kernel plus an optional noise term.

    Parameters
    ----------
    kernel : sklearn.gaussian_process.kernels.Kernel
        A tree of the supported kernels (see the module docstring); subclasses are converted as
        their scikit-learn base class.
    dim : int, optional
        Number of input features. Needed unless an anisotropic length scale fixes it.

    Returns
    -------
    Converted
        ``latent`` kernel (same values, bounds and fixed flags), ``noise`` and the name mapping.

    Raises
    ------
    UnsupportedKernelError
        Naming the first unsupported kernel and where it sits in the tree.
    """
    if not isinstance(kernel, skk.Kernel):
        raise TypeError(f"expected a scikit-learn kernel, got {type(kernel).__name__}")
    if dim is None:
        dim = _infer_dim(kernel)
        if dim is None:
            raise ValueError("cannot infer the input dimension from this kernel; pass dim=")
    latent, noise, pairs, noise_pairs = _convert(kernel, int(dim), "", {NOISE_NAME}, True)
    # Restore scikit-learn's order (the noise term may sit anywhere in the tree).
    order = _sk_order(kernel)
    lookup = dict(pairs + noise_pairs)
    names = tuple((s, lookup[s]) for s in order) if set(order) == set(lookup) else tuple(pairs + noise_pairs)
    return Converted(latent, noise, names)


def _sk_order(kernel: skk.Kernel) -> list[str]:
    out = []
    for h in kernel.hyperparameters:
        out.extend([h.name] if h.n_elements == 1 else [f"{h.name}[{i}]" for i in range(h.n_elements)])
    return out


def from_sklearn(kernel: skk.Kernel, dim: int | None = None) -> SymbolicKernel:
    """Convert a scikit-learn kernel tree into an equivalent :class:`SymbolicKernel`.

    Parameters
    ----------
    kernel : sklearn.gaussian_process.kernels.Kernel
        ``Sum``, ``Product``, ``Exponentiation``, ``ConstantKernel``, ``RBF`` (isotropic or
        anisotropic), ``Matern`` (nu 0.5, 1.5, 2.5, inf), ``RationalQuadratic`` (isotropic),
        ``ExpSineSquared``, ``DotProduct``, and one ``WhiteKernel`` as an additive noise term.
    dim : int, optional
        Number of input features (inferred from an anisotropic length scale when possible).

    Returns
    -------
    SymbolicKernel
        Same values, bounds and fixed flags; names as in the module docstring. The noise term
        (if any) comes last in ``theta``; use :func:`parameter_map` to line up with ``kernel.theta``.

    Examples
    --------
    >>> from sklearn.gaussian_process.kernels import RBF, ConstantKernel as C, WhiteKernel
    >>> sk = from_sklearn(C(2.0) * RBF(0.5) + WhiteKernel(0.1), dim=1)
    >>> [h.name for h in sk.hyperparameters]
    ['constant_value', 'length_scale', 'noise_level']
    """
    conv = to_kernelgen(kernel, dim)
    if conv.latent is None:
        raise UnsupportedKernelError("a kernel made only of WhiteKernel noise has no latent covariance to convert")
    if conv.noise is None:
        return SymbolicKernel(conv.latent)
    return SymbolicKernel(conv.latent, noise_level=conv.noise.value,
                          noise_level_bounds="fixed" if conv.noise.fixed else conv.noise.bounds)


def parameter_map(kernel: skk.Kernel, dim: int | None = None) -> dict[str, str]:
    """``{scikit-learn hyperparameter name: SymbolicKernel name}`` in scikit-learn's order.

    Elements of array hyperparameters are listed as ``name[i]``, e.g.
    ``{"k1__constant_value": "constant_value", "k2__length_scale[0]": "length_scale_0", ...}``.
    """
    return dict(to_kernelgen(kernel, dim).names)


# ---------------------------------------------------------------------- predictions from a fitted GPR
def _training_state(gpr: Any) -> TrainingState:
    """The fitted state of a ``GaussianProcessRegressor`` as a :class:`~kernelgen.posterior.TrainingState`.

    ``L_`` keeps the white noise (``WhiteKernel`` and ``alpha``); the latent kernel does not.
    """
    for attr in ("X_train_", "alpha_", "L_", "kernel_"):
        if not hasattr(gpr, attr):
            raise NotFittedError(f"{type(gpr).__name__} is not fitted (missing {attr}); call fit first")
    X_train = np.asarray(gpr.X_train_, dtype=np.float64)
    if X_train.ndim != 2:
        raise ValueError("predict_derivative needs vector inputs (X_train_ of shape (n, d))")
    conv = to_kernelgen(gpr.kernel_, X_train.shape[1])
    if conv.latent is None:
        raise UnsupportedKernelError("the fitted kernel is pure WhiteKernel noise: the latent f has no covariance")
    alpha = np.asarray(gpr.alpha_, dtype=np.float64)
    y_mean = np.asarray(getattr(gpr, "_y_train_mean", 0.0), dtype=np.float64)
    y_std = np.asarray(getattr(gpr, "_y_train_std", 1.0), dtype=np.float64)
    if alpha.ndim == 2 and alpha.shape[1] == 1:  # one target given as a column: predict squeezes it
        alpha = alpha[:, 0]
    if alpha.ndim == 1:  # one target: scikit-learn may still store its statistics with shape (1,)
        y_mean, y_std = y_mean.reshape(-1)[0], y_std.reshape(-1)[0]
    return TrainingState(
        kernel=conv.latent, X=np.ascontiguousarray(X_train), observed=((),),
        obs_index=np.zeros(X_train.shape[0], dtype=np.int64), alpha=np.ascontiguousarray(alpha),
        L=np.asarray(gpr.L_, dtype=np.float64), y_mean=y_mean, y_std=y_std,
    )


def predict_derivative(gpr: Any, X: np.ndarray, deriv: Sequence[int] = (0,), return_std: bool = False,
                       return_cov: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    r"""Posterior mean (and std or covariance) of a derivative of the latent function.

    Uses the fitted state of a ``GaussianProcessRegressor`` (``X_train_``, ``alpha_``, ``L_``,
    ``kernel_`` and the ``normalize_y`` statistics) without refitting:

    .. math:: E[\partial f(x_*)] = s\,\partial_{x_*} k(x_*, X)\,\alpha (+ m \text{ for order 0}),\quad
              \mathrm{Cov} = s^2 [\partial\partial' k(x_*, x_*') - v^\top v'],\ v = L^{-1}\partial k(X, x_*)

    with ``m, s`` the ``normalize_y`` mean and std (0 and 1 otherwise).

    Parameters
    ----------
    gpr : sklearn.gaussian_process.GaussianProcessRegressor
        Fitted, with a kernel :func:`from_sklearn` can convert.
    X : array-like of shape (n_samples, n_features)
    deriv : tuple of int
        Input indices to differentiate, SymPy style: ``(0,)`` is d/dx0, ``(0, 0)`` is d²/dx0²,
        ``(0, 1)`` is d²/dx0 dx1, ``()`` is the function itself.
    return_std, return_cov : bool
        As in ``GaussianProcessRegressor.predict`` (at most one of them).

    Returns
    -------
    mean : ndarray of shape (n_samples,) or (n_samples, n_targets)
    std : ndarray of shape (n_samples,) or (n_samples, n_targets)
        Only with ``return_std``.
    cov : ndarray of shape (n_samples, n_samples) or (n_samples, n_samples, n_targets)
        Only with ``return_cov``.

    Notes
    -----
    ``WhiteKernel`` terms and the regressor's ``alpha`` are observation noise: they are in ``L_``
    but not in the latent covariance, so for ``deriv=()`` the std is that of ``f``, smaller than
    ``gpr.predict(return_std=True)`` by the white noise.
    """
    if return_std and return_cov:
        raise RuntimeError("At most one of return_std or return_cov can be requested.")
    state = _training_state(gpr)
    dx = normalize_request(deriv, (), state.kernel.dim)[0]
    mode = "full" if return_cov else "diag" if return_std else "none"
    mean, cov = predict_derivatives(state, X, [dx], cov=mode)
    mean = mean[:, 0]
    if cov is None:
        return mean
    if return_cov:
        return mean, cov
    var = cov[:, 0]
    if np.any(var < 0):
        warnings.warn("Predicted variances smaller than 0. Setting those variances to 0.", stacklevel=2)
        var = np.maximum(var, 0.0)
    return mean, np.sqrt(var)


def predict_gradient(gpr: Any, X: np.ndarray, return_cov: bool = False
                     ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Posterior mean (and per-point covariance) of the gradient of the latent function.

    Parameters
    ----------
    gpr : sklearn.gaussian_process.GaussianProcessRegressor
        Fitted, with a kernel :func:`from_sklearn` can convert.
    X : array-like of shape (n_samples, n_features)
    return_cov : bool
        Also return the covariance between the gradient components at each point.

    Returns
    -------
    mean : ndarray of shape (n_samples, n_features) or (n_samples, n_features, n_targets)
    cov : ndarray of shape (n_samples, n_features, n_features) (``..., n_targets`` for several)
        Only with ``return_cov``; ``cov[i]`` is the covariance of the gradient at ``X[i]``.
    """
    state = _training_state(gpr)
    d = state.kernel.dim
    mean, cov = predict_derivatives(state, X, [(i,) for i in range(d)], cov="point" if return_cov else "none")
    return mean if cov is None else (mean, cov)
