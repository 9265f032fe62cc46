"""Built-in kernels, written as SymPy expressions of the inputs (so they print, differentiate and
convert like any user kernel).

Every function takes the input dimension first and returns a :class:`~kernelgen.Kernel`.
Default values and bounds follow scikit-learn: values 1.0, bounds ``(1e-5, 1e5)``.

===========================  ====================================================  ==============================
function                     k(x, y)                                               hyperparameters
===========================  ====================================================  ==============================
``rbf``                      ``variance * exp(-r**2 / 2)``                         variance, length_scale(_i)
``matern`` (nu=1/2,3/2,5/2)  ``variance * M_nu(r)``                                variance, length_scale(_i)
``rational_quadratic``       ``variance * (1 + r**2/(2 alpha))**-alpha``           variance, length_scale, alpha
``periodic``                 ``variance * exp(-2 sum_i sin(pi t_i/p)**2 / l**2)``  variance, length_scale, period
``exp_sine_squared``         ``variance * exp(-2 sin(pi d/p)**2 / l**2)``          variance, length_scale, period
``linear``                   ``variance * x . y``                                  variance
``dot_product``              ``sigma_0**2 + x . y``                                sigma_0
``polynomial``               ``variance * (sigma_0**2 + x . y)**degree``           variance, sigma_0
``constant``                 ``constant_value``                                    constant_value
===========================  ====================================================  ==============================

``r`` is the distance scaled by the length scale(s): ``sqrt(sum((x_i - y_i)**2 / l_i**2))`` with
one ``length_scale`` (isotropic) or ``length_scale_0..`` (``ard=True``); ``d`` is the Euclidean
distance. Pass ``variance=None`` to leave out the amplitude factor (as scikit-learn's RBF does).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sympy as sp

from .hyperparameters import DEFAULT_BOUNDS, Bounds, Hyperparameter
from .kernel import Kernel, library_kernel, x_symbols, y_symbols

__all__ = [
    "LIBRARY", "constant", "dot_product", "exp_sine_squared", "linear", "matern", "periodic", "polynomial",
    "rational_quadratic", "rbf", "from_name_or_text",
]


def _hp(name: str, value: float, bounds: Bounds) -> Hyperparameter:
    return Hyperparameter.make(name, value, bounds)


def _sym(name: str) -> sp.Symbol:
    return sp.Symbol(name, positive=True)


def _check_dim(dim: int) -> None:
    if not isinstance(dim, int) or isinstance(dim, bool) or dim < 1:
        raise ValueError(f"dim must be a positive integer, got {dim!r}")


def _scaled_square_distance(dim: int, length_scale: float | Sequence[float], ard: bool,
                            bounds: Bounds) -> tuple[sp.Expr, list[Hyperparameter]]:
    x, y = x_symbols(dim), y_symbols(dim)
    if ard or not isinstance(length_scale, (int, float)):
        values = [float(length_scale)] * dim if isinstance(length_scale, (int, float)) else list(length_scale)
        if len(values) != dim:
            raise ValueError(f"length_scale must have {dim} entries for ARD, got {len(values)}")
        names = [f"length_scale_{i}" for i in range(dim)]
        r2 = sp.Add(*((x[i] - y[i]) ** 2 / _sym(names[i]) ** 2 for i in range(dim)))
        return r2, [_hp(n, v, bounds) for n, v in zip(names, values)]
    r2 = sp.Add(*((x[i] - y[i]) ** 2 for i in range(dim))) / _sym("length_scale") ** 2
    return r2, [_hp("length_scale", float(length_scale), bounds)]


def _with_variance(expr: sp.Expr, hps: list[Hyperparameter], variance: float | None,
                   bounds: Bounds) -> tuple[sp.Expr, list[Hyperparameter]]:
    if variance is None:
        return expr, hps
    return _sym("variance") * expr, [_hp("variance", variance, bounds), *hps]


def _make(dim: int, expr: sp.Expr, hps: list[Hyperparameter], name: str) -> Kernel:
    # Valid and positive semi-definite by construction: no analysis, no numerical probe.
    return library_kernel(expr, dim, hps, name)


def rbf(dim: int, length_scale: float | Sequence[float] = 1.0, variance: float | None = 1.0, *,
        ard: bool = False, length_scale_bounds: Bounds = DEFAULT_BOUNDS,
        variance_bounds: Bounds = DEFAULT_BOUNDS) -> Kernel:
    r"""Squared exponential: :math:`\sigma^2 \exp(-r^2/2)`. A sequence of length scales implies ARD."""
    _check_dim(dim)
    r2, hps = _scaled_square_distance(dim, length_scale, ard, length_scale_bounds)
    expr, hps = _with_variance(sp.exp(-r2 / 2), hps, variance, variance_bounds)
    return _make(dim, expr, hps, "rbf")


def matern(dim: int, nu: float = 1.5, length_scale: float | Sequence[float] = 1.0,
           variance: float | None = 1.0, *, ard: bool = False, length_scale_bounds: Bounds = DEFAULT_BOUNDS,
           variance_bounds: Bounds = DEFAULT_BOUNDS) -> Kernel:
    r"""Matérn with :math:`\nu \in \{1/2, 3/2, 5/2\}`.

    .. math:: M_{1/2} = e^{-r},\quad M_{3/2} = (1 + \sqrt3 r) e^{-\sqrt3 r},\quad
              M_{5/2} = (1 + \sqrt5 r + 5 r^2/3) e^{-\sqrt5 r}

    Sample paths are ``ceil(nu) - 1`` times differentiable: requests with more derivatives per
    argument raise :class:`~kernelgen.NotDifferentiableError`.
    """
    _check_dim(dim)
    r2, hps = _scaled_square_distance(dim, length_scale, ard, length_scale_bounds)
    r = sp.sqrt(r2)
    if nu == 0.5:
        body, tag = sp.exp(-r), "matern12"
    elif nu == 1.5:
        body, tag = (1 + sp.sqrt(3) * r) * sp.exp(-sp.sqrt(3) * r), "matern32"
    elif nu == 2.5:
        body, tag = (1 + sp.sqrt(5) * r + sp.Rational(5, 3) * r2) * sp.exp(-sp.sqrt(5) * r), "matern52"
    else:
        raise ValueError(f"nu must be 0.5, 1.5 or 2.5 (use rbf for nu=inf), got {nu!r}")
    expr, hps = _with_variance(body, hps, variance, variance_bounds)
    return _make(dim, expr, hps, tag)


def rational_quadratic(dim: int, length_scale: float = 1.0, alpha: float = 1.0,
                       variance: float | None = 1.0, *, length_scale_bounds: Bounds = DEFAULT_BOUNDS,
                       alpha_bounds: Bounds = DEFAULT_BOUNDS, variance_bounds: Bounds = DEFAULT_BOUNDS) -> Kernel:
    r"""Rational quadratic: :math:`\sigma^2 (1 + r^2 / (2\alpha))^{-\alpha}` (isotropic)."""
    _check_dim(dim)
    r2, hps = _scaled_square_distance(dim, length_scale, False, length_scale_bounds)
    a = _sym("alpha")
    body = (1 + r2 / (2 * a)) ** (-a)
    expr, hps = _with_variance(body, [*hps, _hp("alpha", alpha, alpha_bounds)], variance, variance_bounds)
    return _make(dim, expr, hps, "rq")


def periodic(dim: int, length_scale: float = 1.0, period: float = 1.0, variance: float | None = 1.0, *,
             length_scale_bounds: Bounds = DEFAULT_BOUNDS, period_bounds: Bounds = DEFAULT_BOUNDS,
             variance_bounds: Bounds = DEFAULT_BOUNDS) -> Kernel:
    r"""Periodic kernel, a product over dimensions:
    :math:`\sigma^2 \exp(-2 \sum_i \sin^2(\pi (x_i - y_i) / p) / \ell^2)`.

    In one dimension this is scikit-learn's ``ExpSineSquared``. In several it is analytic in the
    differences (no distance inside the sine), so every derivative keeps full relative accuracy
    near coincident points; :func:`exp_sine_squared` is the Euclidean-distance variant.
    """
    _check_dim(dim)
    x, y = x_symbols(dim), y_symbols(dim)
    total = sp.Add(*(sp.sin(sp.pi * (x[i] - y[i]) / _sym("period")) ** 2 for i in range(dim)))
    body = sp.exp(-2 * total / _sym("length_scale") ** 2)
    hps = [_hp("length_scale", length_scale, length_scale_bounds), _hp("period", period, period_bounds)]
    expr, hps = _with_variance(body, hps, variance, variance_bounds)
    return _make(dim, expr, hps, "periodic")


def exp_sine_squared(dim: int, length_scale: float = 1.0, period: float = 1.0, variance: float | None = 1.0, *,
                     length_scale_bounds: Bounds = DEFAULT_BOUNDS, period_bounds: Bounds = DEFAULT_BOUNDS,
                     variance_bounds: Bounds = DEFAULT_BOUNDS) -> Kernel:
    r"""scikit-learn's ``ExpSineSquared``: :math:`\sigma^2 \exp(-2 \sin^2(\pi d / p) / \ell^2)`, ``d`` Euclidean.

    Equal to :func:`periodic` in one dimension. In several, mixed derivatives near ``d = 0`` are
    differences of terms like ``sin(c d) / d`` that cancel in floating point: their error stays
    below ~1e-15 of the kernel's scale, but not of their own (tiny) value.
    """
    if dim == 1:
        return periodic(1, length_scale, period, variance, length_scale_bounds=length_scale_bounds,
                        period_bounds=period_bounds, variance_bounds=variance_bounds)
    _check_dim(dim)
    x, y = x_symbols(dim), y_symbols(dim)
    d = sp.sqrt(sp.Add(*((x[i] - y[i]) ** 2 for i in range(dim))))
    body = sp.exp(-2 * sp.sin(sp.pi * d / _sym("period")) ** 2 / _sym("length_scale") ** 2)
    hps = [_hp("length_scale", length_scale, length_scale_bounds), _hp("period", period, period_bounds)]
    expr, hps = _with_variance(body, hps, variance, variance_bounds)
    return _make(dim, expr, hps, "expsinesquared")


def _dot(dim: int) -> sp.Expr:
    x, y = x_symbols(dim), y_symbols(dim)
    return sp.Add(*(x[i] * y[i] for i in range(dim)))


def linear(dim: int, variance: float = 1.0, *, variance_bounds: Bounds = DEFAULT_BOUNDS) -> Kernel:
    r"""Linear kernel :math:`\sigma^2\, x \cdot y` (non-stationary)."""
    _check_dim(dim)
    return _make(dim, _sym("variance") * _dot(dim), [_hp("variance", variance, variance_bounds)], "linear")


def dot_product(dim: int, sigma_0: float = 1.0, *, sigma_0_bounds: Bounds = DEFAULT_BOUNDS) -> Kernel:
    r"""scikit-learn's ``DotProduct``: :math:`\sigma_0^2 + x \cdot y`."""
    _check_dim(dim)
    expr = _sym("sigma_0") ** 2 + _dot(dim)
    return _make(dim, expr, [_hp("sigma_0", sigma_0, sigma_0_bounds)], "dotproduct")


def polynomial(dim: int, degree: int = 2, sigma_0: float = 1.0, variance: float | None = 1.0, *,
               sigma_0_bounds: Bounds = DEFAULT_BOUNDS, variance_bounds: Bounds = DEFAULT_BOUNDS) -> Kernel:
    r"""Polynomial kernel :math:`\sigma^2 (\sigma_0^2 + x \cdot y)^{\mathrm{degree}}`."""
    _check_dim(dim)
    if not isinstance(degree, int) or degree < 1:
        raise ValueError(f"degree must be a positive integer, got {degree!r}")
    body = (_sym("sigma_0") ** 2 + _dot(dim)) ** degree
    expr, hps = _with_variance(body, [_hp("sigma_0", sigma_0, sigma_0_bounds)], variance, variance_bounds)
    return _make(dim, expr, hps, "polynomial")


def constant(dim: int, value: float = 1.0, *, bounds: Bounds = DEFAULT_BOUNDS) -> Kernel:
    r"""Constant kernel :math:`c` (scikit-learn's ``ConstantKernel``, hyperparameter ``constant_value``)."""
    _check_dim(dim)
    return _make(dim, _sym("constant_value"), [_hp("constant_value", value, bounds)], "constant")


#: name -> factory(dim): the names the command line accepts in place of an expression.
LIBRARY: dict[str, Callable[[int], Kernel]] = {
    "rbf": lambda d: rbf(d),
    "rbf_ard": lambda d: rbf(d, ard=True),
    "matern12": lambda d: matern(d, 0.5),
    "matern32": lambda d: matern(d, 1.5),
    "matern52": lambda d: matern(d, 2.5),
    "matern32_ard": lambda d: matern(d, 1.5, ard=True),
    "matern52_ard": lambda d: matern(d, 2.5, ard=True),
    "rational_quadratic": lambda d: rational_quadratic(d),
    "periodic": lambda d: periodic(d),
    "exp_sine_squared": lambda d: exp_sine_squared(d),
    "linear": lambda d: linear(d),
    "dot_product": lambda d: dot_product(d),
    "polynomial": lambda d: polynomial(d),
    "constant": lambda d: constant(d),
}


def from_name_or_text(text: str, dim: int) -> Kernel:
    """A library name (``rbf``, ``matern52``, ...) or else an expression string."""
    if text in LIBRARY:
        return LIBRARY[text](dim)
    return Kernel.from_string(text, dim)
