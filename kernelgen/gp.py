"""GaussianProcess: a scikit-learn style regressor that predicts f and any of its derivatives."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy.optimize import minimize
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from .posterior import (
    Deriv,
    Rows,
    TrainingProblem,
    TrainingState,
    antiderivative_rows,
    check_cov,
    functional_moments,
    joint_rows,
    normalize_derivs,
    posterior_moments,
)
from .runtime import as_boxes, as_points
from .symbolic.hyperparameters import parse_bounds
from .symbolic.kernel import Kernel
from .symbolic.library import rbf
from .symbolic.request import Antiderivative, Functional, multi_index

__all__ = ["GaussianProcess"]


class GaussianProcess(RegressorMixin, BaseEstimator):
    """Gaussian-process regression with posteriors of the latent f and its derivatives.

    Parameters
    ----------
    kernel : Kernel, optional
        Prior covariance of the latent f. Defaults to ``kernels.rbf(n_features)`` (unit variance
        and length scale) at fit time. Fixed hyperparameters stay fixed while fitting.
    noise : float, default=1e-2
        Initial (or, with ``noise_bounds="fixed"``, fixed) variance of the Gaussian observation
        noise, shared by all observations, derivative observations included.
    noise_bounds : (float, float) or "fixed", default=(1e-8, 1e5)
        Bounds of the noise variance during fitting.
    normalize_y : bool, default=False
        Standardize the targets using the mean and standard deviation of the value (order-0)
        observations (without any, of the bin averages ``value / volume`` of the integral
        observations). Derivative observations are scaled by the standard deviation only, integral
        observations are shifted by ``mean * volume``; all predictions are transformed back
        (derivatives are not shifted, ``int_a^x f`` by ``mean * (x - a)``, its double by
        ``mean * (x - a)**2 / 2``, box integrals by ``mean * volume``).
    optimizer : "L-BFGS-B", callable or None, default="L-BFGS-B"
        Maximizes the log marginal likelihood over ``theta`` within the log bounds. A callable is
        called as ``optimizer(obj_func, initial_theta, bounds)`` and returns
        ``(theta_opt, func_min)``, as in scikit-learn; ``obj_func(theta)`` returns
        ``(-lml, -gradient)``. ``None`` keeps the initial hyperparameters.
    n_restarts : int, default=0
        Extra optimizer runs from log-uniform draws within the bounds.
    random_state : int, RandomState instance or None, default=None
        Seeds the restart draws.

    Attributes
    ----------
    kernel_ : Kernel
        The kernel at the fitted hyperparameter values.
    noise_ : float
        Fitted noise variance.
    X_train_ : ndarray of shape (n_samples, n_features)
    y_train_ : ndarray of shape (n_samples,)
    deriv_ : tuple of tuple of int
        Derivative measured by each observation.
    integrals_ : (lower, upper, values) or None
        The integral observations, ``lower`` and ``upper`` of shape (k, n_features).
    alpha_ : ndarray of shape (n_samples + k,)
        ``(K + noise I)^-1 y`` in normalized units (point observations first, then integrals).
    L_ : ndarray of shape (n_samples, n_samples)
        Lower Cholesky factor of ``K + noise I`` (plus any jitter).
    log_marginal_likelihood_value_ : float
    theta_ : ndarray
        Fitted ``theta`` (see :meth:`log_marginal_likelihood`).
    n_features_in_ : int

    Notes
    -----
    ``theta`` is the log of the kernel's free hyperparameters in ``kernel.hyperparameter_names``
    order followed by the log noise variance (omitted when ``noise_bounds="fixed"``).

    Examples
    --------
    >>> import numpy as np
    >>> from kernelgen import GaussianProcess, kernels
    >>> X = np.linspace(0, 1, 30)[:, None]
    >>> gp = GaussianProcess(kernels.rbf(1, length_scale=0.2)).fit(X, np.sin(2 * np.pi * X[:, 0]))
    >>> mean, std = gp.predict(X, deriv=(0,), return_std=True)  # df/dx and its standard deviation
    """

    def __init__(self, kernel: Kernel | None = None, noise: float = 1e-2,
                 noise_bounds: tuple[float, float] | str = (1e-8, 1e5), normalize_y: bool = False,
                 optimizer: str | Callable[..., Any] | None = "L-BFGS-B", n_restarts: int = 0,
                 random_state: int | np.random.RandomState | None = None) -> None:
        self.kernel = kernel
        self.noise = noise
        self.noise_bounds = noise_bounds
        self.normalize_y = normalize_y
        self.optimizer = optimizer
        self.n_restarts = n_restarts
        self.random_state = random_state

    # ------------------------------------------------------------------ parameters
    def _check_params(self, dim: int) -> Kernel:
        kernel = rbf(dim) if self.kernel is None else self.kernel
        if not isinstance(kernel, Kernel):
            raise ValueError(f"kernel must be a kernelgen Kernel, got {type(kernel).__name__}")
        if kernel.dim != dim:
            raise ValueError(f"kernel has dimension {kernel.dim} but X has {dim} features")
        noise = self.noise
        if not isinstance(noise, numbers.Real) or not np.isfinite(noise) or noise < 0:
            raise ValueError(f"noise must be a non-negative finite number, got {noise!r}")
        if not self._noise_fixed() and noise <= 0:
            raise ValueError("noise must be positive when it is fitted (set noise_bounds='fixed' for 0)")
        if self.optimizer is not None and self.optimizer != "L-BFGS-B" and not callable(self.optimizer):
            raise ValueError(f"optimizer must be 'L-BFGS-B', a callable or None, got {self.optimizer!r}")
        if not isinstance(self.n_restarts, numbers.Integral) or self.n_restarts < 0:
            raise ValueError(f"n_restarts must be a non-negative integer, got {self.n_restarts!r}")
        return kernel

    def _noise_fixed(self) -> bool:
        return parse_bounds("noise_bounds", self.noise_bounds)[1]

    def _theta_and_bounds(self, kernel: Kernel) -> tuple[np.ndarray, np.ndarray]:
        """Initial theta and its log bounds: the kernel's free hyperparameters, then the noise."""
        pair, fixed = parse_bounds("noise_bounds", self.noise_bounds)
        if fixed:
            return kernel.theta, kernel.bounds
        return np.append(kernel.theta, np.log(self.noise)), np.vstack([kernel.bounds, np.log([pair])])

    # ------------------------------------------------------------------ fitting
    def fit(self, X: Any, y: Any, deriv: Sequence[Sequence[int]] | None = None,
            integrals: tuple[Any, Any, Any] | None = None) -> GaussianProcess:
        """Fit the hyperparameters by maximizing the log marginal likelihood, then condition.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            May be empty, shape ``(0, n_features)``, when ``integrals`` are given.
        y : array-like of shape (n_samples,)
            Observed values; ``y[i]`` measures the derivative ``deriv[i]`` of f at ``X[i]``.
        deriv : sequence of tuple of int, optional
            Per observation, the derivative it measures (``()`` = f, ``(0,)`` = df/dx0, ``(0, 1)``
            = d2f/dx0dx1). Default: all ``()``. Any derivative whose covariance the kernel has is
            allowed (``NotDifferentiableError`` otherwise).
        integrals : (lower, upper, values), optional
            Integral observations: ``values[i]`` measures ``int f`` over the box
            ``[lower[i], upper[i]]`` (arrays of shapes (k, n_features), (k, n_features), (k,); in
            1-D also (k,), (k,), (k,)), e.g. bin totals or time averages times durations. The
            integral is oriented: a box side with ``lower > upper`` flips its sign. The noise
            variance applies to each integral observation as to a point value. Any kernel whose
            terms are products of one-input factors (closed forms, or quadrature of generated
            code) or stationary (quadrature) is supported; see :meth:`predict_integral`.

        Returns
        -------
        self : GaussianProcess
        """
        boxes = None
        if integrals is None:
            X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64)
        else:
            X, y, boxes = self._validate_with_integrals(X, y, integrals)
        X = np.ascontiguousarray(X)
        y = np.asarray(y, dtype=np.float64)
        kernel = self._check_params(X.shape[1])
        derivs = _parse_deriv(deriv, *X.shape)
        observed, obs_index = _observation_types(derivs)
        value_rows = np.array([not d for d in derivs], dtype=bool)
        y_model, y_mean, y_std = _normalize_targets(y, value_rows, self.normalize_y, boxes)
        box_pair = None if boxes is None else (boxes[0], boxes[1])
        problem = TrainingProblem(kernel, X, y_model, observed, obs_index, integrals=box_pair)
        self._problem_cache: TrainingProblem | None = problem
        self._problem_args = (kernel, X, y_model, observed, obs_index, box_pair)
        self._noise_fixed_ = self._noise_fixed()
        theta0, bounds = self._theta_and_bounds(kernel)
        theta = self._maximize(theta0, bounds) if self.optimizer is not None and theta0.size else theta0
        self._store(problem, kernel, theta, X, y, derivs, y_mean, y_std)
        self.integrals_ = boxes
        return self

    def _validate_with_integrals(self, X: Any, y: Any, integrals: Any
                                 ) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """``fit``'s inputs when integral observations are given (``X``, ``y`` may then be empty)."""
        try:
            lower, upper, values = integrals
        except (TypeError, ValueError):
            raise ValueError("integrals must be a tuple (lower, upper, values)") from None
        X_arr = np.asarray(X, dtype=np.float64)
        y_arr = np.asarray(y, dtype=np.float64)
        if X_arr.shape[0] == 0 and y_arr.size == 0:
            if X_arr.ndim != 2:
                raise ValueError(f"X must have shape (0, n_features) when empty, got {X_arr.shape}")
            X, y = np.empty((0, X_arr.shape[1])), np.empty(0)
            self.n_features_in_ = X_arr.shape[1]
        else:
            X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64)
        d = X.shape[1]
        if d == 0:
            raise ValueError("X must have at least one feature")
        lower, upper = as_boxes(lower, upper, d, ("integrals lower", "integrals upper"))
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        if values.shape != (lower.shape[0],):
            raise ValueError(f"integrals values must have shape ({lower.shape[0]},) (one per box), got "
                             f"{np.shape(integrals[2])}")
        if not np.all(np.isfinite(values)):
            raise ValueError("integrals values contain NaN or inf")
        return X, y, (lower, upper, values)

    def _maximize(self, theta0: np.ndarray, bounds: np.ndarray) -> np.ndarray:
        """The best optimum of the LML from ``theta0`` and ``n_restarts`` log-uniform draws."""
        def obj(theta: np.ndarray) -> tuple[float, np.ndarray]:
            try:
                lml, grad = self._lml(theta, eval_gradient=True, warn=False)
            except np.linalg.LinAlgError:
                return np.inf, np.zeros_like(theta)
            return -lml, -grad

        rng = check_random_state(self.random_state)
        starts = [theta0] + [rng.uniform(bounds[:, 0], bounds[:, 1]) for _ in range(self.n_restarts)]
        theta_opt, f_min = min((self._optimize(obj, start, bounds) for start in starts), key=lambda r: r[1])
        if not np.isfinite(f_min):
            raise np.linalg.LinAlgError("the log marginal likelihood could not be evaluated at any optimum")
        return theta_opt

    def _store(self, problem: TrainingProblem, kernel: Kernel, theta: np.ndarray, X: np.ndarray, y: np.ndarray,
               derivs: tuple[Deriv, ...], y_mean: float, y_std: float) -> None:
        """Set the fitted attributes (``*_``) and the training state at ``theta``."""
        self.theta_ = np.asarray(theta, dtype=np.float64)
        kernel_theta = self.theta_ if self._noise_fixed_ else self.theta_[:-1]
        self.kernel_ = kernel.with_theta(kernel_theta) if kernel_theta.size else kernel
        self.noise_ = float(self.noise) if self._noise_fixed_ else float(np.exp(self.theta_[-1]))
        self._state: TrainingState = problem.state(self.kernel_, self.noise_, y_mean, y_std)
        self.log_marginal_likelihood_value_ = self._lml(self.theta_, eval_gradient=False, warn=False)[0]
        self.X_train_ = X
        self.y_train_ = y
        self.deriv_ = derivs
        self.alpha_ = self._state.alpha
        self.L_ = self._state.L
        self._y_train_mean, self._y_train_std = y_mean, y_std

    def _optimize(self, obj: Callable[[np.ndarray], tuple[float, np.ndarray]], theta0: np.ndarray,
                  bounds: np.ndarray) -> tuple[np.ndarray, float]:
        if self.optimizer == "L-BFGS-B":
            res = minimize(obj, theta0, method="L-BFGS-B", jac=True, bounds=bounds)
            if not res.success:
                warnings.warn(f"L-BFGS-B did not converge: {res.message} (status {res.status}); consider "
                              "more restarts or other bounds", ConvergenceWarning, stacklevel=3)
            return np.asarray(res.x), float(res.fun)
        theta, f = self.optimizer(obj, theta0, bounds)  # type: ignore[misc]
        return np.asarray(theta, dtype=np.float64), float(f)

    @property
    def _problem(self) -> TrainingProblem:
        # Compiled modules do not pickle: rebuilt (from the disk cache) on first use after loading.
        if getattr(self, "_problem_cache", None) is None:
            self._problem_cache = TrainingProblem(*self._problem_args)
        return self._problem_cache  # type: ignore[return-value]

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state = dict(state)
        state["_problem_cache"] = None
        return state

    def _lml(self, theta: np.ndarray, eval_gradient: bool, warn: bool = True) -> tuple[float, np.ndarray]:
        problem = self._problem
        theta = np.asarray(theta, dtype=np.float64)
        p = int(np.sum(problem.kernel.free_mask))
        expected = p + (0 if self._noise_fixed_ else 1)
        if theta.shape != (expected,):
            raise ValueError(f"theta must have shape ({expected},), got {theta.shape}")
        if not np.all(np.isfinite(theta)):
            raise ValueError("theta must be finite")
        params = problem.params(theta[:p])
        noise = float(self.noise) if self._noise_fixed_ else float(np.exp(theta[p]))
        lml, g_kernel, g_noise = problem.log_marginal_likelihood(params, noise, eval_gradient=eval_gradient,
                                                                 warn=warn)
        if not eval_gradient:
            return lml, np.empty(0)
        grad = g_kernel if self._noise_fixed_ else np.append(g_kernel, g_noise)
        return lml, grad

    def log_marginal_likelihood(self, theta: Any = None,
                                eval_gradient: bool = False) -> float | tuple[float, np.ndarray]:
        """Log marginal likelihood of the training data.

        Parameters
        ----------
        theta : array-like of shape (p,), optional
            Log of the kernel's free hyperparameters (``kernel.hyperparameter_names`` order)
            followed by the log noise variance (unless the noise is fixed). Default: the fitted
            ``theta_``.
        eval_gradient : bool, default=False
            Also return the gradient with respect to ``theta``.

        Returns
        -------
        lml : float
        gradient : ndarray of shape (p,)
            Only with ``eval_gradient=True``: a fused contraction of ``alpha alpha^T - K^-1`` with
            generated ``dK/dlog(theta)`` code (never an (n, n, p) tensor).
        """
        check_is_fitted(self)
        theta = self.theta_ if theta is None else theta
        lml, grad = self._lml(theta, eval_gradient)
        return (lml, grad) if eval_gradient else lml

    # ------------------------------------------------------------------ prediction
    def predict_joint(self, X: Any, derivs: Sequence[Sequence[int] | Antiderivative], cov: str = "none",
                      chunk_size: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """Posterior mean and joint covariance of several derivatives (and antiderivatives) of f at once.

        Parameters
        ----------
        X : array-like of shape (m, n_features)
        derivs : sequence of tuple of int or Antiderivative
            ``q`` functionals, e.g. ``[(), (0,), (1,)]`` for f with its 2-D gradient, or
            ``[(), (0,), kernelgen.Antiderivative(0.0)]`` for f, f' and ``int_0^x f`` jointly.
        cov : {"none", "diag", "point", "full"}, default="none"
            ``"diag"``: variances (m, q); ``"point"``: joint covariance of the q outputs at each
            point (m, q, q); ``"full"``: all m * q outputs jointly (m q, m q), row ``i * q + a`` =
            ``derivs[a]`` at ``X[i]``.
        chunk_size : int, optional
            Test points per chunk for the covariance (default: ~128 MiB of temporaries).

        Returns
        -------
        mean : ndarray of shape (m, q)
        cov : ndarray or None
        """
        check_is_fitted(self)
        entries = list(derivs)
        if not entries:
            raise ValueError("derivs must name at least one derivative")
        check_cov(cov)
        d = self.n_features_in_
        if any(isinstance(e, Antiderivative) for e in entries):
            functionals = [(e.functional(d), e.anchor) if isinstance(e, Antiderivative)
                           else (Functional(multi_index(e, d, "derivs")), 0.0) for e in entries]
            rows = joint_rows(self._check_X(X), functionals)
            return functional_moments(self._state, rows, len(entries), cov, chunk_size)
        typed = normalize_derivs(entries, d, "derivs")
        return posterior_moments(self._state, self._check_X(X), typed, cov, chunk_size)  # type: ignore[arg-type]

    def _check_X(self, X: Any) -> np.ndarray:
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return as_points(X, self.n_features_in_, "X")

    def predict(self, X: Any, deriv: Sequence[int] = (), return_std: bool = False,
                return_cov: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Posterior mean of the derivative ``deriv`` of f at ``X`` (f itself by default).

        Parameters
        ----------
        X : array-like of shape (m, n_features)
        deriv : tuple of int, default=()
            E.g. ``(0,)`` for df/dx0.
        return_std : bool, default=False
            Also return the posterior standard deviation, shape (m,).
        return_cov : bool, default=False
            Also return the posterior covariance, shape (m, m).

        Returns
        -------
        mean : ndarray of shape (m,)
        std or cov : ndarray
            Of the latent f (noise not included).
        """
        if return_std and return_cov:
            raise ValueError("at most one of return_std and return_cov can be requested")
        mode = "diag" if return_std else "full" if return_cov else "none"
        check_is_fitted(self)
        typed = (multi_index(deriv, self.n_features_in_, "deriv"),)
        mean, cov = posterior_moments(self._state, self._check_X(X), typed, mode)
        if return_std:
            return mean[:, 0], np.sqrt(np.clip(cov[:, 0], 0.0, None))  # type: ignore[index]
        if return_cov:
            return mean[:, 0], cov  # type: ignore[return-value]
        return mean[:, 0]

    def predict_antiderivative(self, X: Any, anchor: float, order: int = 1, dim: int = 0, return_std: bool = False,
                               return_cov: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        r"""Posterior of :math:`F(x) = \int_a^x f` along input ``dim`` (the other coordinates of x held fixed).

        Parameters
        ----------
        X : array-like of shape (m, n_features)
        anchor : float
            The lower limit ``a``: ``F(a) = 0``.
        order : {1, 2}, default=1
            ``2`` gives :math:`\int_a^x \int_a^s f(t)\,dt\,ds = \int_a^x (x - s) f(s)\,ds`
            (``F(a) = F'(a) = 0``), the seed answer's ``IIf`` with its constants fixed.
        dim : int, default=0
            The input integrated along.
        return_std, return_cov : bool
            Also return the standard deviation (m,) or the covariance (m, m) of F (at most one).

        Returns
        -------
        mean : ndarray of shape (m,)
        std or cov : ndarray

        Notes
        -----
        Oriented: for ``x < a`` the value is ``-int_x^a f``. Accuracy: closed forms (kernels whose
        terms are products of one-input factors SymPy integrates: RBF, Matérn, polynomials, ...)
        are used only where their terms do not cancel (at most ~1e-13 relative error); otherwise,
        and for kernels without closed forms (rational quadratic, periodic, Euclidean Matérn in
        several inputs), generated code is integrated by adaptive Gauss-Legendre split at the kink
        ``x = y``, to 1e-13 (one input) or 1e-11 (several) of the integral of the absolute integrand.
        """
        if return_std and return_cov:
            raise ValueError("at most one of return_std and return_cov can be requested")
        check_is_fitted(self)
        spec = Antiderivative(anchor, order, dim)
        spec.functional(self.n_features_in_)
        rows = antiderivative_rows(self._check_X(X), spec.anchor, spec.order, spec.dim)
        return self._one_functional(rows, return_std, return_cov)

    def predict_integral(self, lower: Any, upper: Any, return_std: bool = False,
                         return_cov: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        r"""Posterior of :math:`\int f` over each box ``[lower_i, upper_i]``.

        Parameters
        ----------
        lower, upper : array-like of shape (m, n_features)
            Box corners; ``(n_features,)`` for one box, scalars (or shape (m,)) in 1-D. Oriented:
            each input with ``lower_j > upper_j`` flips the sign (``int_a^b = -int_b^a``).
        return_std, return_cov : bool
            Also return the standard deviation (m,) or the covariance (m, m) across boxes.

        Returns
        -------
        mean : ndarray of shape (m,)
        std or cov : ndarray

        Notes
        -----
        Identical, nested, overlapping and very narrow boxes are exact (see
        :meth:`predict_antiderivative` for the accuracy of closed forms and quadrature).
        """
        if return_std and return_cov:
            raise ValueError("at most one of return_std and return_cov can be requested")
        check_is_fitted(self)
        low, up = as_boxes(lower, upper, self.n_features_in_)
        return self._one_functional(Rows.boxes(low, up), return_std, return_cov)

    def _one_functional(self, rows: Rows, return_std: bool, return_cov: bool
                        ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        mode = "diag" if return_std else "full" if return_cov else "none"
        mean, cov = functional_moments(self._state, rows, 1, mode)
        if return_std:
            return mean[:, 0], np.sqrt(np.clip(cov[:, 0], 0.0, None))  # type: ignore[index]
        if return_cov:
            return mean[:, 0], cov  # type: ignore[return-value]
        return mean[:, 0]

    def predict_gradient(self, X: Any, return_std: bool = False,
                         return_cov: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Posterior mean of the gradient of f.

        Returns
        -------
        mean : ndarray of shape (m, d)
        std : ndarray of shape (m, d)
            With ``return_std``.
        cov : ndarray of shape (m, d, d)
            With ``return_cov``: joint covariance of the gradient components at each point.
        """
        if return_std and return_cov:
            raise ValueError("at most one of return_std and return_cov can be requested")
        d = self._fitted_dim()
        derivs = [(i,) for i in range(d)]
        mode = "diag" if return_std else "point" if return_cov else "none"
        mean, cov = self.predict_joint(X, derivs, cov=mode)
        if return_std:
            return mean, np.sqrt(np.clip(cov, 0.0, None))  # type: ignore[arg-type]
        return (mean, cov) if return_cov else mean  # type: ignore[return-value]

    def predict_hessian(self, X: Any, return_var: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Posterior mean of the Hessian of f (needs a kernel with 4 derivatives at 0).

        Returns
        -------
        mean : ndarray of shape (m, d, d)
        var : ndarray of shape (m, d, d)
            With ``return_var``: posterior variance of each entry.
        """
        d = self._fitted_dim()
        pairs = [(i, j) for i in range(d) for j in range(i, d)]
        mean, var = self.predict_joint(X, pairs, cov="diag" if return_var else "none")
        m = mean.shape[0]
        H = np.empty((m, d, d))
        V = np.empty((m, d, d))
        for k, (i, j) in enumerate(pairs):
            H[:, i, j] = H[:, j, i] = mean[:, k]
            if var is not None:
                V[:, i, j] = V[:, j, i] = np.clip(var[:, k], 0.0, None)
        return (H, V) if return_var else H

    def _fitted_dim(self) -> int:
        check_is_fitted(self)
        return int(self.n_features_in_)

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.target_tags.single_output = True
        tags.target_tags.multi_output = False
        return tags


# ---------------------------------------------------------------------- the jobs of fit
def _parse_deriv(deriv: Sequence[Sequence[int]] | None, n: int, dim: int) -> tuple[Deriv, ...]:
    """The ``deriv`` argument of ``fit``: one validated multi-index per observation."""
    if deriv is None:
        return ((),) * n
    if isinstance(deriv, np.ndarray) and deriv.ndim == 1 and deriv.dtype != object:
        deriv = [tuple(np.atleast_1d(d)) for d in deriv]
    if len(deriv) != n:
        raise ValueError(f"deriv must have one entry per observation ({n}), got {len(deriv)}")
    return normalize_derivs(deriv, dim, "deriv")


def _observation_types(derivs: Sequence[Deriv]) -> tuple[tuple[Deriv, ...], np.ndarray]:
    """The distinct derivative types (by order) and each observation's index into them."""
    observed = tuple(sorted(set(derivs), key=lambda d: (len(d), d)))
    lookup = {d: i for i, d in enumerate(observed)}
    return observed, np.array([lookup[d] for d in derivs], dtype=np.int64)


def _normalize_targets(y: np.ndarray, value_rows: np.ndarray, normalize: bool,
                       boxes: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
                       ) -> tuple[np.ndarray, float, float]:
    """The ``normalize_y`` policy: ``(y_model, y_mean, y_std)``; integral targets are appended.

    Mean and standard deviation come from the value (order-0) observations; derivative
    observations are scaled by the standard deviation only (a derivative is not shifted by a
    constant); an integral observation is shifted by ``mean * volume`` (the integral of the
    constant). Without value observations, integral observations give the statistics of their
    bin averages ``value / volume``; without either, only the scale is normalized.
    """
    if boxes is not None:
        return _normalize_with_integrals(y, value_rows, normalize, boxes)
    if normalize and np.any(value_rows):
        y_mean = float(np.mean(y[value_rows]))
        y_std = float(np.std(y[value_rows])) if np.sum(value_rows) > 1 else 1.0
        if not np.isfinite(y_std) or y_std == 0.0:
            y_std = 1.0
    elif normalize:
        y_mean, y_std = 0.0, float(np.std(y)) or 1.0
    else:
        y_mean, y_std = 0.0, 1.0
    return (y - np.where(value_rows, y_mean, 0.0)) / y_std, y_mean, y_std


def _normalize_with_integrals(y: np.ndarray, value_rows: np.ndarray, normalize: bool,
                              boxes: tuple[np.ndarray, np.ndarray, np.ndarray]) -> tuple[np.ndarray, float, float]:
    lower, upper, values = boxes
    volume = np.prod(upper - lower, axis=1)
    if normalize and not np.any(value_rows) and values.size:
        total = float(np.sum(volume))
        y_mean = float(np.sum(values)) / total if total != 0.0 else 0.0
        averages = values[volume != 0.0] / volume[volume != 0.0]
        y_std = float(np.std(averages)) if averages.size > 1 else 1.0
        if not np.isfinite(y_std) or y_std == 0.0:
            y_std = 1.0
    else:
        _, y_mean, y_std = _normalize_targets(y, value_rows, normalize)
    points = (y - np.where(value_rows, y_mean, 0.0)) / y_std
    return np.concatenate([points, (values - y_mean * volume) / y_std]), y_mean, y_std
