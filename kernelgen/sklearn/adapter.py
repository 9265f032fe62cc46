"""``SymbolicKernel``: a scikit-learn kernel evaluated by kernelgen's generated code."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.gaussian_process import kernels as skk

from ..runtime import as_points, compiled
from ..symbolic.hyperparameters import DEFAULT_BOUNDS, parse_bounds
from ..symbolic.hyperparameters import Hyperparameter as KGHyperparameter
from ..symbolic.kernel import Kernel
from ..symbolic.request import Output, Request

__all__ = ["NOISE_NAME", "KernelFamily", "SymbolicKernel", "check_bounds", "check_names", "check_value", "scalar"]

#: Name of the white-noise hyperparameter of a :class:`SymbolicKernel`.
NOISE_NAME = "noise_level"


def scalar(value: Any, name: str) -> float:
    """A hyperparameter value as a float (scikit-learn stores some as 1-element arrays)."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"hyperparameter {name!r} must be a number, got {value!r}") from None
    if arr.size != 1:
        raise ValueError(f"hyperparameter {name!r} must be a scalar, got {value!r}")
    return float(arr.reshape(()))


class KernelFamily:
    """One kernel structure for every input dimension, built for a dimension on first use.

    Parameters
    ----------
    build : callable
        ``build(dim) -> kernelgen.Kernel``: e.g. ``functools.partial(kernels.matern, nu=2.5)`` or
        the conversion of an isotropic scikit-learn kernel. Every dimension must give the same
        hyperparameter names (isotropic kernels do).
    name : str, optional
        Label (default: the name of the kernel built for ``probe_dim``).
    probe_dim : int, default=1
        The dimension built at once, for the hyperparameter names, values and bounds.

    Notes
    -----
    Immutable as far as scikit-learn is concerned (copies are the same object); each dimension
    gets its own kernel and so its own generated module, compiled once.
    """

    dim = None  # any

    def __init__(self, build: Callable[[int], Kernel], name: str | None = None, probe_dim: int = 1) -> None:
        probe = build(probe_dim)
        if not isinstance(probe, Kernel):
            raise TypeError(f"a kernel family's build(dim) must return a kernelgen.Kernel, got {type(probe).__name__}")
        self.build = build
        self.probe_dim = probe_dim
        self.probe = probe
        self.name = name or probe.name
        self._by_dim = {probe_dim: probe}
        self._lock = threading.Lock()

    @property
    def hyperparameters(self) -> tuple[KGHyperparameter, ...]:
        return self.probe.hyperparameters

    @property
    def all_hyperparameter_names(self) -> tuple[str, ...]:
        return self.probe.all_hyperparameter_names

    @property
    def is_stationary(self) -> bool:
        return bool(self.probe.is_stationary)

    def for_dim(self, dim: int) -> Kernel:
        """The kernel for inputs of ``dim`` features (built once per dimension)."""
        with self._lock:
            kernel = self._by_dim.get(dim)
        if kernel is None:
            kernel = self.build(dim)
            if kernel.all_hyperparameter_names != self.all_hyperparameter_names or kernel.dim != dim:
                raise ValueError(f"kernel family {self.name!r}: build({dim}) has hyperparameters "
                                 f"{kernel.all_hyperparameter_names} and dim {kernel.dim}; expected "
                                 f"{self.all_hyperparameter_names} and {dim}")
            with self._lock:
                kernel = self._by_dim.setdefault(dim, kernel)
        return kernel

    def __eq__(self, other: object) -> bool:
        return isinstance(other, KernelFamily) and self.name == other.name and self.probe == other.probe

    def __hash__(self) -> int:
        return hash((self.name, self.probe))

    def __copy__(self) -> KernelFamily:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> KernelFamily:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.build, self.name, self.probe_dim))

    def __repr__(self) -> str:
        return f"KernelFamily({self.name}, any input dimension: {self.probe.expr} for d={self.probe_dim})"


def check_value(value: Any, name: str, source: str = "") -> float:
    """A hyperparameter value that is a positive finite scalar, else ValueError naming it.

    Generated code takes values as they are: a zero, negative or NaN value would give silently
    wrong (or NaN) kernel matrices, so every entry point (constructor, ``set_params``, ``theta``,
    ``clone_with_theta``) checks, without changing what is stored (scikit-learn's ``clone``
    compares stored parameters by identity).
    """
    v = scalar(value, name)
    if not (math.isfinite(v) and v > 0):
        via = f" ({source})" if source else ""
        raise ValueError(f"SymbolicKernel hyperparameter {name!r} must be positive and finite, got {v!r}{via}")
    return v


def check_bounds(bounds: Any, name: str) -> None:
    """``(low, high)`` with ``0 < low <= high < inf``, or ``"fixed"``; ValueError naming the hyperparameter."""
    parse_bounds(f"SymbolicKernel bounds of {name!r} ({name}_bounds)", bounds)


class SymbolicKernel(skk.Kernel):
    """A scikit-learn kernel evaluated by kernelgen's generated code.

    Parameters
    ----------
    kernel : kernelgen.Kernel, KernelFamily, callable or SymbolicKernel
        The latent covariance. A ``Kernel`` has a fixed input dimension. A :class:`KernelFamily`
        or a callable ``dim -> Kernel`` (``kernels.rbf``, ``functools.partial(kernels.matern,
        nu=2.5)``) works on inputs of any dimension, as scikit-learn's isotropic kernels do: the
        kernel (and its generated module) for a dimension is built on first use. A
        ``SymbolicKernel`` gives its structure, current values, bounds and noise term. The
        hyperparameter values and bounds found there are the defaults of the keyword arguments
        below. (For a scikit-learn kernel use :func:`~kernelgen.sklearn.from_sklearn`.)
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

    def __init__(self, kernel: Kernel | KernelFamily | Callable[[int], Kernel] | SymbolicKernel,
                 noise_level: float | None = None,
                 noise_level_bounds: tuple[float, float] | str = DEFAULT_BOUNDS, **hyperparameters: Any) -> None:
        inherited: dict[str, Any] = {}
        if isinstance(kernel, SymbolicKernel):  # its structure, current values and noise
            inherited = {k: v for k, v in kernel.get_params().items() if k != "kernel"}
            if noise_level is None:
                noise_level, noise_level_bounds = kernel.noise_level, kernel.noise_level_bounds
            kernel = kernel.kernel
        elif isinstance(kernel, skk.Kernel):
            raise TypeError(f"SymbolicKernel takes a kernelgen kernel; convert the scikit-learn kernel "
                            f"{type(kernel).__name__} with kernelgen.sklearn.from_sklearn(kernel)")
        elif not isinstance(kernel, (Kernel, KernelFamily)) and callable(kernel):
            kernel = KernelFamily(kernel)
        if not isinstance(kernel, (Kernel, KernelFamily)):
            raise TypeError(f"SymbolicKernel needs a kernelgen.Kernel, a KernelFamily or a factory dim -> Kernel, "
                            f"got {type(kernel).__name__}")
        check_names(kernel.all_hyperparameter_names)
        allowed = {n for h in kernel.hyperparameters for n in (h.name, h.name + "_bounds")}
        unknown = sorted(set(hyperparameters) - allowed)
        if unknown:
            raise TypeError(f"unknown hyperparameter arguments {unknown}; the kernel has {sorted(allowed)}")
        self.kernel = kernel
        self.noise_level = noise_level
        self.noise_level_bounds = noise_level_bounds
        for h in kernel.hyperparameters:
            default_bounds = "fixed" if h.fixed else h.bounds
            setattr(self, h.name, hyperparameters.get(h.name, inherited.get(h.name, h.value)))
            setattr(self, h.name + "_bounds",
                    hyperparameters.get(h.name + "_bounds", inherited.get(h.name + "_bounds", default_bounds)))
        for key, value in self.get_params().items():
            self._check_parameter(key, value)

    def _check_parameter(self, key: str, value: Any) -> None:
        """Validate one constructor argument (values positive and finite, bounds a valid box)."""
        if key == "kernel":
            return
        if key.endswith("_bounds"):
            check_bounds(value, key[: -len("_bounds")])
        elif not (key == NOISE_NAME and value is None):
            check_value(value, key)

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
            if key == "kernel" and (not isinstance(value, (Kernel, KernelFamily))
                                    or value.all_hyperparameter_names != self.kernel.all_hyperparameter_names):
                raise ValueError("set_params(kernel=...) needs a kernelgen.Kernel or KernelFamily with the same "
                                 "hyperparameter names; build a new SymbolicKernel instead")
            self._check_parameter(key, value)
        for key, value in params.items():
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
        values = [scalar(getattr(self, h.name), h.name) for h in self.hyperparameters if not h.fixed]
        return np.log(np.array(values, dtype=np.float64)) if values else np.array([])

    @theta.setter
    def theta(self, theta: np.ndarray) -> None:
        theta = np.asarray(theta, dtype=np.float64).reshape(-1)
        free = [h.name for h in self.hyperparameters if not h.fixed]
        if theta.shape != (len(free),):
            raise ValueError(f"theta has length {theta.shape[0]}, expected {len(free)} ({free})")
        with np.errstate(over="ignore"):
            values = np.exp(theta)
        for name, t, value in zip(free, theta, values):  # all checked before any is set
            check_value(value, name, f"theta = log({name}) = {float(t)!r}")
        for name, value in zip(free, values):
            setattr(self, name, float(value))

    def clone_with_theta(self, theta: np.ndarray) -> SymbolicKernel:
        """A copy with ``theta`` set (parameters are immutable, so nothing is deep-copied)."""
        new = type(self)(**self.get_params(deep=False))
        new.theta = theta
        return new

    # ------------------------------------------------------------------ kernelgen views
    @property
    def dim(self) -> int | None:
        """The input dimension, or None when the kernel works for any (a :class:`KernelFamily`)."""
        return self.kernel.dim if isinstance(self.kernel, Kernel) else None

    def structure(self, dim: int | None = None) -> Kernel:
        """The kernelgen kernel (stored values) for ``dim`` inputs; ``dim`` may be omitted for a fixed dimension."""
        if isinstance(self.kernel, Kernel):
            if dim is not None and dim != self.kernel.dim:
                raise ValueError(f"this SymbolicKernel has input dimension {self.kernel.dim}, not {dim}")
            return self.kernel
        if dim is None:
            raise ValueError(f"this SymbolicKernel ({self.kernel.name}) works for any input dimension: pass dim")
        return self.kernel.for_dim(int(dim))

    def latent_for(self, dim: int | None = None) -> Kernel:
        """The kernelgen kernel with the current values and bounds (noise excluded) for ``dim`` inputs."""
        names = self.kernel.all_hyperparameter_names
        k = self.structure(dim).with_values(**{n: scalar(getattr(self, n), n) for n in names})
        return k.with_bounds(**{n: getattr(self, n + "_bounds") for n in names})

    @property
    def latent(self) -> Kernel:
        """The kernelgen kernel with the current values and bounds (noise excluded).

        For a kernel of any input dimension use :meth:`latent_for`.
        """
        return self.latent_for(None)

    @property
    def noise(self) -> KGHyperparameter | None:
        """The white-noise hyperparameter, or None."""
        if self.noise_level is None:
            return None
        return KGHyperparameter.make(NOISE_NAME, scalar(self.noise_level, NOISE_NAME), self.noise_level_bounds)

    def _parameter_vector(self) -> np.ndarray:
        return np.array([scalar(getattr(self, n), n) for n in self.kernel.all_hyperparameter_names],
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
        structure = self.structure(self._input_dim(X))
        A = as_points(X, structure.dim, "X")
        B = None if Y is None else as_points(Y, structure.dim, "Y")
        # One module per structure: values and all log-gradients (fixed ones are dropped below).
        batch = compiled(structure, [Request()], gradient=True)
        out = batch.fill(A, B, self._parameter_vector())
        K = np.array(out[:, :, 0])
        noise = None if self.noise_level is None else scalar(self.noise_level, NOISE_NAME)
        if noise is not None and B is None:
            K[np.diag_indices_from(K)] += noise
        if not eval_gradient:
            return K
        specs = self.hyperparameters
        columns = [batch.position(Output(Request(), h.name)) for h in specs[:len(self.kernel.hyperparameters)]
                   if not h.fixed]
        grad = out[:, :, columns]
        if noise is not None and not specs[-1].fixed:
            grad = np.concatenate([grad, (noise * np.eye(A.shape[0]))[:, :, None]], axis=2)
        return K, np.ascontiguousarray(grad)

    def diag(self, X: np.ndarray) -> np.ndarray:
        """``k(x, x)`` for each row of ``X`` (noise included), shape (n_samples,)."""
        structure = self.structure(self._input_dim(X))
        A = as_points(X, structure.dim, "X")
        batch = compiled(structure, [Request()], gradient=True)
        d = batch.diag(A, self._parameter_vector())[:, 0].copy()
        if self.noise_level is not None:
            d += scalar(self.noise_level, NOISE_NAME)
        return d

    def _input_dim(self, X: Any) -> int:
        """The number of features of ``X`` (checked against a fixed dimension by ``as_points``)."""
        if isinstance(self.kernel, Kernel):
            return self.kernel.dim
        shape = np.shape(X)
        if len(shape) != 2:
            raise ValueError(f"X must have shape (n_samples, n_features), got {shape}")
        return int(shape[1])

    def is_stationary(self) -> bool:
        """Whether the kernel depends on ``x - y`` only."""
        return bool(self.kernel.is_stationary)

    def __repr__(self) -> str:
        parts = []
        for h in self.hyperparameters:
            value = scalar(getattr(self, h.name), h.name)
            parts.append(f"{h.name}={value:.3g}{' (fixed)' if h.fixed else ''}")
        if isinstance(self.kernel, KernelFamily):
            what = f"{self.kernel.name}, any input dimension: {self.kernel.probe.expr} for d={self.kernel.probe_dim}"
        else:
            what = f"{self.kernel.name}: {self.kernel.expr}"
        return f"SymbolicKernel({what}; {', '.join(parts)})"


_RESERVED = frozenset({"kernel", "noise_level", "noise_level_bounds"}) | frozenset(dir(SymbolicKernel))


def check_names(names: Sequence[str]) -> None:
    """Refuse hyperparameter names that would shadow attributes of :class:`SymbolicKernel`."""
    bad = [n for n in names if n in _RESERVED or n.startswith("hyperparameter_")]
    bad += [n for n in names if n + "_bounds" in names]
    if bad:
        raise ValueError(
            f"hyperparameter names {bad} clash with SymbolicKernel attributes; rename them with kernel.rename(...)"
        )
