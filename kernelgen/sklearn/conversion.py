"""Converting scikit-learn kernel trees to kernelgen kernels, and the names of their hyperparameters."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from sklearn.gaussian_process import kernels as skk

from ..symbolic import library as lib
from ..symbolic.hyperparameters import Hyperparameter as KGHyperparameter
from ..symbolic.kernel import Kernel
from ..symbolic.names import unique_name
from .adapter import NOISE_NAME, KernelFamily, SymbolicKernel, scalar

__all__ = [
    "Converted", "UnsupportedKernelError", "from_sklearn", "infer_dim", "parameter_map", "sklearn_names",
    "to_kernelgen",
]

_SUPPORTED = (
    "Sum, Product, Exponentiation, ConstantKernel, RBF, Matern (nu in 0.5, 1.5, 2.5, inf), "
    "RationalQuadratic (isotropic), ExpSineSquared, DotProduct, WhiteKernel (additive noise term), "
    "SymbolicKernel"
)


class UnsupportedKernelError(ValueError):
    """A scikit-learn kernel (or a placement of one) that :func:`from_sklearn` cannot convert."""


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


def _sk_bounds(node: skk.Kernel, attr: str) -> list[tuple[float, float] | str]:
    """Per element, scikit-learn's bounds of ``attr`` as kernelgen takes them: a pair or ``"fixed"``."""
    hp = getattr(node, f"hyperparameter_{attr}")
    if hp.fixed:
        return ["fixed"] * hp.n_elements
    b = np.asarray(hp.bounds, dtype=np.float64).reshape(-1, 2)
    if b.shape[0] == 1 and hp.n_elements > 1:
        b = np.repeat(b, hp.n_elements, axis=0)
    return [(float(lo), float(hi)) for lo, hi in b]


def infer_dim(node: Any) -> int | None:
    """The input dimension a kernel tree fixes (an anisotropic length scale, a SymbolicKernel), or None."""
    if isinstance(node, SymbolicKernel):
        return node.dim
    if isinstance(node, skk.KernelOperator):
        return infer_dim(node.k1) or infer_dim(node.k2)
    if isinstance(node, skk.Exponentiation):
        return infer_dim(node.kernel)
    if isinstance(node, (skk.RBF, skk.Matern)) and np.size(node.length_scale) > 1:
        return int(np.size(node.length_scale))
    return None


def sklearn_names(kernel: skk.Kernel, free_only: bool = False) -> list[str]:
    """scikit-learn's hyperparameter names, one per element: ``length_scale[0]``, ... for arrays."""
    out = []
    for h in kernel.hyperparameters:
        if free_only and h.fixed:
            continue
        out.extend([h.name] if h.n_elements == 1 else [f"{h.name}[{i}]" for i in range(h.n_elements)])
    return out


# ---------------------------------------------------------------------- leaves
Leaf = tuple[Kernel, list[str]]


def _constant(node: skk.ConstantKernel, dim: int, path: str) -> Leaf:
    k = lib.constant(dim, scalar(node.constant_value, "constant_value"), bounds=_sk_bounds(node, "constant_value")[0])
    return k, ["constant_value"]


def _rbf_or_matern(node: skk.RBF, dim: int, path: str) -> Leaf:
    nu = float(node.nu) if isinstance(node, skk.Matern) else np.inf
    ls = np.asarray(node.length_scale, dtype=np.float64)
    ard = ls.size > 1  # like scikit-learn, a one-element length scale is isotropic
    if ard and ls.shape[0] != dim:
        raise UnsupportedKernelError(f"{path or 'kernel'}: {ls.shape[0]} length scales for {dim} inputs")
    value: float | list[float] = ls.tolist() if ard else float(ls.reshape(()))
    sk_names = [f"length_scale[{i}]" for i in range(dim)] if ard else ["length_scale"]
    if np.isinf(nu):
        k = lib.rbf(dim, value, None, ard=ard)
    elif nu in (0.5, 1.5, 2.5):
        k = lib.matern(dim, nu, value, None, ard=ard)
    else:
        raise UnsupportedKernelError(
            f"Matern with nu={node.nu} (at {path or 'root'}) cannot be converted: nu must be 0.5, 1.5, 2.5 or inf")
    return k.with_bounds(**dict(zip(k.all_hyperparameter_names, _sk_bounds(node, "length_scale")))), sk_names


def _rational_quadratic(node: skk.RationalQuadratic, dim: int, path: str) -> Leaf:
    if np.iterable(node.length_scale) and np.size(node.length_scale) > 1:
        raise UnsupportedKernelError(f"RationalQuadratic (at {path or 'root'}) supports isotropic length scales only")
    k = lib.rational_quadratic(dim, scalar(node.length_scale, "length_scale"), scalar(node.alpha, "alpha"), None,
                               length_scale_bounds=_sk_bounds(node, "length_scale")[0],
                               alpha_bounds=_sk_bounds(node, "alpha")[0])
    # scikit-learn lists hyperparameters alphabetically: alpha, then length_scale.
    k = Kernel(k.expr, k.x, k.y, [k.hyperparameter("alpha"), k.hyperparameter("length_scale")], name=k.name)
    return k, ["alpha", "length_scale"]


def _exp_sine_squared(node: skk.ExpSineSquared, dim: int, path: str) -> Leaf:
    k = lib.exp_sine_squared(
        dim, scalar(node.length_scale, "length_scale"), scalar(node.periodicity, "periodicity"), None,
        length_scale_bounds=_sk_bounds(node, "length_scale")[0], period_bounds=_sk_bounds(node, "periodicity")[0],
    ).rename(period="periodicity")
    return k, ["length_scale", "periodicity"]


def _dot_product(node: skk.DotProduct, dim: int, path: str) -> Leaf:
    k = lib.dot_product(dim, scalar(node.sigma_0, "sigma_0"), sigma_0_bounds=_sk_bounds(node, "sigma_0")[0])
    return k, ["sigma_0"]


def _symbolic(node: SymbolicKernel, dim: int, path: str) -> Leaf:
    if node.dim is not None and node.dim != dim:
        raise UnsupportedKernelError(f"SymbolicKernel at {path or 'root'} has dim {node.dim}, not {dim}")
    k = node.latent_for(dim)
    return k, list(k.all_hyperparameter_names)


#: scikit-learn leaf type -> converter (Matern subclasses RBF: both go to one converter).
_LEAVES: tuple[tuple[type, Any], ...] = (
    (skk.ConstantKernel, _constant),
    (skk.RBF, _rbf_or_matern),
    (skk.RationalQuadratic, _rational_quadratic),
    (skk.ExpSineSquared, _exp_sine_squared),
    (skk.DotProduct, _dot_product),
    (SymbolicKernel, _symbolic),
)


def _leaf(node: skk.Kernel, dim: int, path: str, taken: set[str]) -> tuple[Kernel, list[tuple[str, str]]]:
    """A scikit-learn leaf kernel as a kernelgen kernel with unique names, and its name pairs."""
    convert = next((c for t, c in _LEAVES if isinstance(node, t)), None)
    if convert is None:
        raise UnsupportedKernelError(
            f"{type(node).__name__} (at {path or 'root'}) cannot be converted to a kernelgen kernel; "
            f"supported: {_SUPPORTED}")
    k, sk_names = convert(node, dim, path)
    ours = k.all_hyperparameter_names
    renames = {}
    for n in ours:
        renames[n] = unique_name(n, taken)
        taken.add(renames[n])
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
        noise = KGHyperparameter.make(NOISE_NAME, scalar(node.noise_level, NOISE_NAME),
                                      _sk_bounds(node, "noise_level")[0])
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
        dim = infer_dim(kernel)
        if dim is None:
            raise ValueError("cannot infer the input dimension from this kernel; pass dim=")
    latent, noise, pairs, noise_pairs = _convert(kernel, int(dim), "", {NOISE_NAME}, True)
    # Restore scikit-learn's order (the noise term may sit anywhere in the tree).
    order = sklearn_names(kernel)
    lookup = dict(pairs + noise_pairs)
    names = tuple((s, lookup[s]) for s in order) if set(order) == set(lookup) else tuple(pairs + noise_pairs)
    return Converted(latent, noise, names)


def from_sklearn(kernel: skk.Kernel, dim: int | None = None) -> SymbolicKernel:
    """Convert a scikit-learn kernel tree into an equivalent :class:`SymbolicKernel`.

    Parameters
    ----------
    kernel : sklearn.gaussian_process.kernels.Kernel
        ``Sum``, ``Product``, ``Exponentiation``, ``ConstantKernel``, ``RBF`` (isotropic or
        anisotropic), ``Matern`` (nu 0.5, 1.5, 2.5, inf), ``RationalQuadratic`` (isotropic),
        ``ExpSineSquared``, ``DotProduct``, and one ``WhiteKernel`` as an additive noise term.
    dim : int, optional
        Number of input features. Without it (and without an anisotropic length scale that
        fixes it) the result works on inputs of any dimension, as the scikit-learn kernel does:
        the kernelgen kernel for a dimension is built (and its module generated) on first use.

    Returns
    -------
    SymbolicKernel
        Same values, bounds and fixed flags; names as in the module docstring. The noise term
        (if any) comes last in ``theta``; use :func:`parameter_map` to line up with ``kernel.theta``.

    Examples
    --------
    >>> from sklearn.gaussian_process.kernels import RBF, ConstantKernel as C, WhiteKernel
    >>> sk = from_sklearn(C(2.0) * RBF(0.5) + WhiteKernel(0.1))
    >>> [h.name for h in sk.hyperparameters]
    ['constant_value', 'length_scale', 'noise_level']
    """
    if not isinstance(kernel, skk.Kernel):
        raise TypeError(f"expected a scikit-learn kernel, got {type(kernel).__name__}")
    fixed = dim if dim is not None else infer_dim(kernel)
    conv = to_kernelgen(kernel, fixed if fixed is not None else 1)
    if conv.latent is None:
        raise UnsupportedKernelError("a kernel made only of WhiteKernel noise has no latent covariance to convert")
    latent: Kernel | KernelFamily = conv.latent
    if fixed is None:
        latent = KernelFamily(partial(_latent_for, kernel), name=conv.latent.name)
    if conv.noise is None:
        return SymbolicKernel(latent)
    return SymbolicKernel(latent, noise_level=conv.noise.value,
                          noise_level_bounds="fixed" if conv.noise.fixed else conv.noise.bounds)


def _latent_for(kernel: skk.Kernel, dim: int) -> Kernel:
    """The latent part of a scikit-learn kernel for ``dim`` inputs (a KernelFamily's build)."""
    latent = to_kernelgen(kernel, dim).latent
    assert latent is not None  # checked once by from_sklearn
    return latent


def parameter_map(kernel: skk.Kernel, dim: int | None = None) -> dict[str, str]:
    """``{scikit-learn hyperparameter name: SymbolicKernel name}`` in scikit-learn's order.

    Elements of array hyperparameters are listed as ``name[i]``, e.g.
    ``{"k1__constant_value": "constant_value", "k2__length_scale[0]": "length_scale_0", ...}``.
    """
    return dict(to_kernelgen(kernel, dim).names)


def for_gaussian_process(kernel: Any, dim: int) -> tuple[Kernel, KGHyperparameter | None] | None:
    """``GaussianProcess(kernel=<scikit-learn kernel>)``: (latent kernel, WhiteKernel noise) for ``dim`` inputs.

    Returns None for objects that are not scikit-learn kernels (another bridge may know them).
    """
    if not isinstance(kernel, skk.Kernel):
        return None
    conv = to_kernelgen(kernel, dim)
    if conv.latent is None:
        raise UnsupportedKernelError("a kernel made only of WhiteKernel noise has no latent covariance to fit")
    return conv.latent, conv.noise
