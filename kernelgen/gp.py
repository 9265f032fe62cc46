"""GaussianProcess: a scikit-learn style regressor that predicts f and any of its derivatives."""

from __future__ import annotations

import importlib
import numbers
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from .posterior import Deriv, TrainingProblem, TrainingState, check_cov, normalize_derivs, posterior_moments
from .runtime import as_points
from .symbolic.errors import for_argument
from .symbolic.hyperparameters import Hyperparameter, parse_bounds
from .symbolic.kernel import Kernel
from .symbolic.library import rbf
from .symbolic.request import multi_index

__all__ = ["GaussianProcess", "register_kernel_converter"]

#: Default of the ``noise`` and ``noise_bounds`` parameters (a scikit-learn ``WhiteKernel`` replaces them).
DEFAULT_NOISE, DEFAULT_NOISE_BOUNDS = 1e-2, (1e-8, 1e5)


class GaussianProcess(RegressorMixin, BaseEstimator):
    """Gaussian-process regression with posteriors of the latent f and its derivatives.

    Parameters
    ----------
    kernel : Kernel or scikit-learn kernel, optional
        Prior covariance of the latent f. Defaults to ``kernels.rbf(n_features)`` (unit variance
        and length scale) at fit time. Fixed hyperparameters stay fixed while fitting. A
        scikit-learn kernel (``ConstantKernel() * RBF()``, ...) is converted at fit time by
        :mod:`kernelgen.sklearn` for the number of features of ``X``, with scikit-learn's leaf
        names (``constant_value``, ``length_scale``, ...); a ``WhiteKernel`` term becomes the
        noise: its ``noise_level`` is the initial noise variance and its bounds the noise
        bounds, so ``noise`` and ``noise_bounds`` must then stay at their defaults.
    noise : float or dict, default=1e-2
        Initial (or, with ``noise_bounds="fixed"``, fixed) variance of the Gaussian observation
        noise. A float is shared by all observations, derivative observations included. A dict
        ``{(): 1e-2, (0,): 1e-4}`` gives each observed derivative type (the tuples of ``fit``'s
        ``deriv``) a variance of its own, fitted separately; its keys must be exactly the
        observed types. With ``normalize_y=True`` the noise is a variance of the standardized
        targets (see Notes).
    noise_bounds : (float, float), "fixed" or dict, default=(1e-8, 1e5)
        Bounds of the noise variance during fitting; with a dict ``noise``, either one pair (or
        ``"fixed"``) for every type or a dict with the same keys.
    normalize_y : bool, default=False
        Standardize the targets using the mean and standard deviation of the value (order-0)
        observations, per target column. Derivative observations are scaled by the standard
        deviation only; all predictions are transformed back (derivatives are not shifted by
        the mean).
    optimizer : "L-BFGS-B", callable or None, default="L-BFGS-B"
        Maximizes the log marginal likelihood over ``theta`` within the log bounds. A callable is
        called as ``optimizer(obj_func, initial_theta, bounds)`` and returns
        ``(theta_opt, func_min)``, as in scikit-learn; ``obj_func(theta)`` returns
        ``(-lml, -gradient)``. ``None`` keeps the initial hyperparameters.
    n_restarts : int, default=0
        Extra optimizer runs from log-uniform draws within the bounds.
    random_state : int, RandomState instance or None, default=None
        Seeds the restart draws.
    alpha : float or array-like of shape (n_samples,), default=0.0
        Added to the diagonal of the training covariance on top of the fitted noise, like
        scikit-learn's ``alpha``: a known variance per observation (measurement errors), never
        fitted. Same units as ``noise``.

    Attributes
    ----------
    kernel_ : Kernel
        The kernel at the fitted hyperparameter values (converted from scikit-learn when a
        scikit-learn kernel was given). With ``normalize_y=True`` its variance is in units of
        the standardized targets: ``variance * y_train_std_**2`` is the prior variance of f in
        units of y.
    noise_ : float or dict
        Fitted noise variance (a dict keyed by derivative type when ``noise`` is a dict). With
        ``normalize_y=True`` it is a variance of the standardized targets: multiply by
        ``y_train_std_**2`` for units of y (of y's derivative for a derivative type).
    X_train_ : ndarray of shape (n_samples, n_features)
    y_train_ : ndarray of shape (n_samples,) or (n_samples, n_targets)
    y_train_mean_, y_train_std_ : float or ndarray of shape (n_targets,)
        The ``normalize_y`` statistics (0 and 1 without it).
    deriv_ : tuple of tuple of int
        Derivative measured by each observation.
    alpha_ : ndarray of shape (n_samples,) or (n_samples, n_targets)
        ``(K + noise I + diag(alpha))^-1 y`` in normalized units.
    L_ : ndarray of shape (n_samples, n_samples)
        Lower Cholesky factor of ``K + noise I + diag(alpha)`` (plus any jitter).
    log_marginal_likelihood_value_ : float
        Summed over the target columns.
    theta_ : ndarray
        Fitted ``theta`` (see :meth:`log_marginal_likelihood`).
    n_features_in_ : int

    Notes
    -----
    ``theta`` is the log of the kernel's free hyperparameters in ``kernel.hyperparameter_names``
    order followed by the log noise variance (omitted when ``noise_bounds="fixed"``); with a
    dict ``noise``, one log variance per free derivative type, in the order of ``noise_``'s keys
    (by derivative order, then index).

    Several targets (``y`` of shape (n, t)) share the kernel hyperparameters and the noise, as in
    scikit-learn: the log marginal likelihood is the sum over the columns, and predictions gain a
    trailing target axis.

    Units under ``normalize_y=True``: the model is fitted to ``(y - mean) / std`` (derivative
    observations ``y / std``), so ``noise_``, ``alpha`` and the kernel's variance are in those
    standardized units, as ``WhiteKernel.noise_level`` and ``ConstantKernel.constant_value`` are
    in scikit-learn. Predictions are always in units of y.

    Examples
    --------
    >>> import numpy as np
    >>> from kernelgen import GaussianProcess, kernels
    >>> X = np.linspace(0, 1, 30)[:, None]
    >>> gp = GaussianProcess(kernels.rbf(1, length_scale=0.2)).fit(X, np.sin(2 * np.pi * X[:, 0]))
    >>> mean, std = gp.predict(X, deriv=(0,), return_std=True)  # df/dx and its standard deviation
    """

    def __init__(self, kernel: Kernel | Any | None = None, noise: float | Mapping[Any, float] = DEFAULT_NOISE,
                 noise_bounds: tuple[float, float] | str | Mapping[Any, Any] = DEFAULT_NOISE_BOUNDS,
                 normalize_y: bool = False, optimizer: str | Callable[..., Any] | None = "L-BFGS-B",
                 n_restarts: int = 0, random_state: int | np.random.RandomState | None = None,
                 alpha: float | Any = 0.0) -> None:
        self.kernel = kernel
        self.noise = noise
        self.noise_bounds = noise_bounds
        self.normalize_y = normalize_y
        self.optimizer = optimizer
        self.n_restarts = n_restarts
        self.random_state = random_state
        self.alpha = alpha

    # ------------------------------------------------------------------ parameters
    def _check_params(self, dim: int) -> tuple[Kernel, Hyperparameter | None]:
        """The kernelgen kernel for ``dim`` inputs and, from a scikit-learn WhiteKernel, the noise."""
        if self.kernel is None:
            kernel, white = rbf(dim), None
        elif isinstance(self.kernel, Kernel):
            kernel, white = self.kernel, None
        else:
            kernel, white = _convert_kernel(self.kernel, dim)
        if kernel.dim != dim:
            raise ValueError(f"kernel has dimension {kernel.dim} but X has {dim} features")
        if white is not None and not (_is_default(self.noise, DEFAULT_NOISE)
                                      and _is_default(self.noise_bounds, DEFAULT_NOISE_BOUNDS)):
            raise ValueError("the kernel's WhiteKernel is the observation noise (its noise_level and bounds); leave "
                             "noise and noise_bounds at their defaults, or drop the WhiteKernel")
        if self.optimizer is not None and self.optimizer != "L-BFGS-B" and not callable(self.optimizer):
            raise ValueError(f"optimizer must be 'L-BFGS-B', a callable or None, got {self.optimizer!r}")
        if not isinstance(self.n_restarts, numbers.Integral) or self.n_restarts < 0:
            raise ValueError(f"n_restarts must be a non-negative integer, got {self.n_restarts!r}")
        return kernel, white

    def _noise_model(self, white: Hyperparameter | None, derivs: tuple[Deriv, ...],
                     observed: tuple[Deriv, ...], dim: int) -> NoiseModel:
        if white is not None:
            bounds: Any = "fixed" if white.fixed else white.bounds
            return NoiseModel.make(white.value, bounds, self.alpha, derivs, observed, dim)
        return NoiseModel.make(self.noise, self.noise_bounds, self.alpha, derivs, observed, dim)

    # ------------------------------------------------------------------ fitting
    def fit(self, X: Any, y: Any, deriv: Sequence[Sequence[int]] | None = None) -> GaussianProcess:
        """Fit the hyperparameters by maximizing the log marginal likelihood, then condition.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Observed values; ``y[i]`` measures the derivative ``deriv[i]`` of f at ``X[i]``.
            Several target columns share the hyperparameters (their LMLs add up).
        deriv : sequence of tuple of int, optional
            Per observation, the derivative it measures (``()`` = f, ``(0,)`` = df/dx0, ``(0, 1)``
            = d2f/dx0dx1). Default: all ``()``. Any derivative whose covariance the kernel has is
            allowed (``NotDifferentiableError`` otherwise).

        Returns
        -------
        self : GaussianProcess
            With ``noise_`` and the kernel's variance in standardized units when
            ``normalize_y=True`` (see the class Notes).
        """
        X, y = validate_data(self, X, y, y_numeric=True, multi_output=True, dtype=np.float64)
        X = np.ascontiguousarray(X)
        y = np.asarray(y, dtype=np.float64)
        kernel, white = self._check_params(X.shape[1])
        derivs = _parse_deriv(deriv, *X.shape)
        observed, obs_index = _observation_types(derivs)
        self._noise_model_ = self._noise_model(white, derivs, observed, X.shape[1])
        value_rows = np.array([not d for d in derivs], dtype=bool)
        # One target given as a column is one target (scikit-learn squeezes it the same way).
        y_model, y_mean, y_std = _normalize_targets(y[:, 0] if y.ndim == 2 and y.shape[1] == 1 else y,
                                                    value_rows, self.normalize_y)
        with for_argument("deriv", list(observed)):
            problem = TrainingProblem(kernel, X, y_model, observed, obs_index)
        self._problem_cache: TrainingProblem | None = problem
        self._problem_args = (kernel, X, y_model, observed, obs_index)
        theta0, bounds = self._theta_and_bounds(kernel)
        theta = self._maximize(theta0, bounds) if self.optimizer is not None and theta0.size else theta0
        self._store(problem, kernel, theta, X, y, derivs, y_mean, y_std)
        return self

    def _theta_and_bounds(self, kernel: Kernel) -> tuple[np.ndarray, np.ndarray]:
        """Initial theta and its log bounds: the kernel's free hyperparameters, then the free noises."""
        noise = self._noise_model_
        return np.append(kernel.theta, noise.theta0), np.vstack([kernel.bounds, noise.log_bounds])

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
               derivs: tuple[Deriv, ...], y_mean: float | np.ndarray, y_std: float | np.ndarray) -> None:
        """Set the fitted attributes (``*_``) and the training state at ``theta``."""
        self.theta_ = np.asarray(theta, dtype=np.float64)
        p = int(np.sum(kernel.free_mask))
        self.kernel_ = kernel.with_theta(self.theta_[:p]) if p else kernel
        variances = self._noise_model_.variances(self.theta_[p:])
        self.noise_ = self._noise_model_.fitted(variances)
        self._state: TrainingState = problem.state(self.kernel_, self._noise_model_.diagonal(variances), y_mean, y_std)
        self.log_marginal_likelihood_value_ = self._lml(self.theta_, eval_gradient=False, warn=False)[0]
        self.X_train_ = X
        self.y_train_ = y
        self.deriv_ = derivs
        self.alpha_ = self._state.alpha
        self.L_ = self._state.L
        self.y_train_mean_, self.y_train_std_ = y_mean, y_std
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
        noise = self._noise_model_
        theta = np.asarray(theta, dtype=np.float64)
        p = int(np.sum(problem.kernel.free_mask))
        expected = p + noise.n_free
        if theta.shape != (expected,):
            raise ValueError(f"theta must have shape ({expected},), got {theta.shape}")
        if not np.all(np.isfinite(theta)):
            raise ValueError("theta must be finite")
        params = problem.params(theta[:p])
        variances = noise.variances(theta[p:])
        lml, g_kernel, weights = problem.log_marginal_likelihood_terms(
            params, noise.diagonal(variances), eval_gradient=eval_gradient, warn=warn)
        if not eval_gradient:
            return lml, np.empty(0)
        return lml, np.append(g_kernel, noise.gradient(weights, variances))

    def log_marginal_likelihood(self, theta: Any = None,
                                eval_gradient: bool = False) -> float | tuple[float, np.ndarray]:
        """Log marginal likelihood of the training data (summed over target columns).

        Parameters
        ----------
        theta : array-like of shape (p,), optional
            Log of the kernel's free hyperparameters (``kernel.hyperparameter_names`` order)
            followed by the log noise variance (unless the noise is fixed), or one log variance
            per free derivative type for a dict ``noise``. Default: the fitted ``theta_``.
        eval_gradient : bool, default=False
            Also return the gradient with respect to ``theta``.

        Returns
        -------
        lml : float
        gradient : ndarray of shape (p,)
            Only with ``eval_gradient=True``: a fused contraction of ``alpha alpha^T - K^-1`` with
            generated ``dK/dlog(theta)`` code (never an (n, n, p) tensor); per noise variance
            ``sigma_g^2 / 2 * sum_{i in g} (alpha alpha^T - K^-1)_ii``.
        """
        check_is_fitted(self)
        theta = self.theta_ if theta is None else theta
        lml, grad = self._lml(theta, eval_gradient)
        return (lml, grad) if eval_gradient else lml

    # ------------------------------------------------------------------ prediction
    def predict_joint(self, X: Any, derivs: Sequence[Sequence[int]], cov: str = "none",
                      chunk_size: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """Posterior mean and joint covariance of several derivatives of f at once.

        Parameters
        ----------
        X : array-like of shape (m, n_features)
        derivs : sequence of tuple of int
            ``q`` derivatives, e.g. ``[(), (0,), (1,)]`` for f with its 2-D gradient.
        cov : {"none", "diag", "point", "full"}, default="none"
            ``"diag"``: variances (m, q); ``"point"``: joint covariance of the q outputs at each
            point (m, q, q); ``"full"``: all m * q outputs jointly (m q, m q), row ``i * q + a`` =
            ``derivs[a]`` at ``X[i]``.
        chunk_size : int, optional
            Test points per chunk for the covariance (default: ~128 MiB of temporaries).

        Returns
        -------
        mean : ndarray of shape (m, q), or (m, q, n_targets) for several targets
        cov : ndarray or None
            With a trailing target axis for several targets.
        """
        check_is_fitted(self)
        typed = normalize_derivs(derivs, self.n_features_in_, "derivs")
        if not typed:
            raise ValueError("derivs must name at least one derivative")
        check_cov(cov)
        with for_argument("derivs", list(typed)):
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
            Also return the posterior standard deviation, shape (m,) (or (m, n_targets)).
        return_cov : bool, default=False
            Also return the posterior covariance, shape (m, m) (or (m, m, n_targets)).

        Returns
        -------
        mean : ndarray of shape (m,) or (m, n_targets)
        std or cov : ndarray
            Of the latent f (noise not included).
        """
        if return_std and return_cov:
            raise ValueError("at most one of return_std and return_cov can be requested")
        mode = "diag" if return_std else "full" if return_cov else "none"
        check_is_fitted(self)
        typed = (multi_index(deriv, self.n_features_in_, "deriv"),)
        with for_argument("deriv", typed[0]):
            mean, cov = posterior_moments(self._state, self._check_X(X), typed, mode)
        if return_std:
            return mean[:, 0], np.sqrt(np.clip(cov[:, 0], 0.0, None))  # type: ignore[index]
        if return_cov:
            return mean[:, 0], cov  # type: ignore[return-value]
        return mean[:, 0]

    def sample_y(self, X: Any, n_samples: int = 1, random_state: int | np.random.RandomState | None = 0,
                 deriv: Sequence[int] = ()) -> np.ndarray:
        """Draw functions (or a derivative of them) from the posterior at ``X``.

        Parameters
        ----------
        X : array-like of shape (m, n_features)
        n_samples : int, default=1
            Number of draws.
        random_state : int, RandomState instance or None, default=0
            As in scikit-learn: the default gives the same draws on every call.
        deriv : tuple of int, default=()
            Draw ``d^deriv f`` instead of f (e.g. ``(0,)`` for df/dx0).

        Returns
        -------
        samples : ndarray of shape (m, n_samples), or (m, n_targets, n_samples) for several targets
            Draws of the latent f (noise not included), as scikit-learn's ``sample_y`` shapes them.

        Notes
        -----
        Draws are ``mean + U sqrt(max(lambda, 0)) z`` from the eigendecomposition of the posterior
        covariance, so a semi-definite covariance (test points at noise-free observations) is
        fine; a markedly negative eigenvalue gives a ``RuntimeWarning``.
        """
        n = _check_n_samples(n_samples)
        mean, cov = self.predict(X, deriv=deriv, return_cov=True)
        rng = check_random_state(random_state)
        if mean.ndim == 1:
            return _draw(mean, cov, n, rng)
        return np.stack([_draw(mean[:, t], cov[..., t], n, rng) for t in range(mean.shape[1])], axis=1)

    def sample_joint(self, X: Any, derivs: Sequence[Sequence[int]], n_samples: int = 1,
                     random_state: int | np.random.RandomState | None = 0) -> np.ndarray:
        """Joint posterior draws of several derivatives of f (e.g. f with its gradient) at ``X``.

        Parameters
        ----------
        X : array-like of shape (m, n_features)
        derivs : sequence of tuple of int
            ``q`` derivatives, as in :meth:`predict_joint`.
        n_samples : int, default=1
        random_state : int, RandomState instance or None, default=0

        Returns
        -------
        samples : ndarray of shape (m, q, n_samples), or (m, q, n_targets, n_samples)
            ``samples[:, a, s]`` is derivative ``derivs[a]`` of the draw ``s``: the q outputs of
            one draw are consistent (the derivative entries are the derivatives of the f entry).
        """
        n = _check_n_samples(n_samples)
        mean, cov = self.predict_joint(X, derivs, cov="full")
        rng = check_random_state(random_state)
        m, q = mean.shape[:2]
        if mean.ndim == 2:
            return _draw(mean.reshape(m * q), cov, n, rng).reshape(m, q, n)  # type: ignore[arg-type]
        draws = [_draw(mean[:, :, t].reshape(m * q), cov[..., t], n, rng).reshape(m, q, n)  # type: ignore[index]
                 for t in range(mean.shape[2])]
        return np.stack(draws, axis=2)

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
        With several targets every array gains a trailing (n_targets,) axis.
        """
        if return_std and return_cov:
            raise ValueError("at most one of return_std and return_cov can be requested")
        d = self._fitted_dim()
        derivs = [(i,) for i in range(d)]
        mode = "diag" if return_std else "point" if return_cov else "none"
        with for_argument("predict_gradient: the gradient", derivs):
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
        With several targets both gain a trailing (n_targets,) axis.
        """
        d = self._fitted_dim()
        pairs = [(i, j) for i in range(d) for j in range(i, d)]
        with for_argument("predict_hessian: the Hessian", pairs):
            mean, var = self.predict_joint(X, pairs, cov="diag" if return_var else "none")
        m = mean.shape[0]
        H = np.empty((m, d, d, *mean.shape[2:]))
        V = np.empty_like(H)
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
        tags.target_tags.multi_output = True
        return tags


# ---------------------------------------------------------------------- noise per derivative type
@dataclass(frozen=True)
class NoiseModel:
    """The diagonal added to the training covariance: fitted variances per group plus ``alpha``.

    ``groups`` are the keys of a dict ``noise`` (derivative types, in observed order) or ``None``
    for one shared variance. ``group[i]`` is observation i's group; ``alpha`` (scalar or (n,))
    is added unfitted.
    """

    groups: tuple[Deriv, ...] | None
    values: np.ndarray
    log_bounds: np.ndarray
    fixed: np.ndarray
    group: np.ndarray
    alpha: float | np.ndarray

    @classmethod
    def make(cls, noise: Any, bounds: Any, alpha: Any, derivs: tuple[Deriv, ...], observed: tuple[Deriv, ...],
             dim: int) -> NoiseModel:
        """Validate ``noise``, ``noise_bounds`` and ``alpha`` (errors name them) for these observations."""
        n = len(derivs)
        if isinstance(noise, Mapping):
            keyed = {multi_index(k, dim, "noise keys"): v for k, v in noise.items()}
            missing = [d for d in observed if d not in keyed]
            extra = [k for k in keyed if k not in observed]
            if missing or extra or len(keyed) != len(noise):
                raise ValueError(f"noise must have one entry per observed derivative type {list(observed)}; "
                                 f"missing {missing}, not observed {extra}")
            groups: tuple[Deriv, ...] | None = observed
            values = [_check_noise(keyed[d], f"noise[{d}]") for d in observed]
            pairs = [_noise_bounds(bounds, d, dim) for d in observed]
            lookup = {d: g for g, d in enumerate(observed)}
            group = np.array([lookup[d] for d in derivs], dtype=np.int64)
        else:
            groups, values, pairs = None, [_check_noise(noise, "noise")], [_noise_bounds(bounds, None, dim)]
            group = np.zeros(n, dtype=np.int64)
        for value, (_, fixed), name in zip(values, pairs, groups or [None]):
            if not fixed and value <= 0:
                where = "noise" if name is None else f"noise[{name}]"
                raise ValueError(f"{where} must be positive when it is fitted (set its bounds to 'fixed' for 0)")
        log_bounds = np.log(np.array([p for p, f in pairs if not f], dtype=np.float64).reshape(-1, 2))
        return cls(groups, np.array(values, dtype=np.float64), log_bounds,
                   np.array([f for _, f in pairs], dtype=bool), group, _check_alpha(alpha, n))

    @property
    def n_free(self) -> int:
        return int(np.sum(~self.fixed))

    @property
    def theta0(self) -> np.ndarray:
        return np.log(self.values[~self.fixed])

    def variances(self, theta: np.ndarray) -> np.ndarray:
        """Every group's variance: ``exp(theta)`` for the free ones, the given values for the rest."""
        out = self.values.copy()
        out[~self.fixed] = np.exp(theta)
        return out

    def diagonal(self, variances: np.ndarray) -> float | np.ndarray:
        """What the Cholesky adds to the diagonal: a float in the plain case, else (n,)."""
        if self.groups is None and np.ndim(self.alpha) == 0:
            return float(variances[0] + self.alpha)
        return variances[self.group] + self.alpha

    def gradient(self, weights: np.ndarray, variances: np.ndarray) -> np.ndarray:
        """d lml / d log(variance_g) for the free groups, from ``d lml / d noise_i``."""
        per_group = np.bincount(self.group, weights=weights, minlength=self.values.size)
        return (variances * per_group)[~self.fixed]

    def fitted(self, variances: np.ndarray) -> float | dict[Deriv, float]:
        if self.groups is None:
            return float(variances[0])
        return {d: float(v) for d, v in zip(self.groups, variances)}


def _check_noise(value: Any, name: str) -> float:
    if not isinstance(value, numbers.Real) or not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative finite number, got {value!r}")
    return float(value)


def _noise_bounds(bounds: Any, key: Deriv | None, dim: int) -> tuple[tuple[float, float], bool]:
    """One group's bounds from ``noise_bounds`` (a pair, "fixed", or a dict by derivative type)."""
    if isinstance(bounds, Mapping):
        if key is None:
            raise ValueError("noise_bounds is a dict, so noise must be a dict with the same keys")
        keyed = {multi_index(k, dim, "noise_bounds keys"): v for k, v in bounds.items()}
        if key not in keyed:
            raise ValueError(f"noise_bounds has no entry for the derivative type {key}")
        return parse_bounds(f"noise_bounds[{key}]", keyed[key])
    return parse_bounds("noise_bounds", bounds)


def _check_alpha(alpha: Any, n: int) -> float | np.ndarray:
    arr = np.asarray(alpha, dtype=np.float64) if not isinstance(alpha, str) else np.array(np.nan)
    if arr.ndim == 0:
        if not np.isfinite(arr) or arr < 0:
            raise ValueError(f"alpha must be a non-negative finite number or array, got {alpha!r}")
        return float(arr)
    if arr.shape != (n,):
        raise ValueError(f"alpha must be a float or have one entry per observation ({n},), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError("alpha entries must be non-negative and finite")
    return arr


def _is_default(value: Any, default: Any) -> bool:
    if isinstance(value, (str, Mapping)):
        return False
    try:
        return bool(np.array_equal(np.asarray(value, dtype=np.float64), np.asarray(default, dtype=np.float64)))
    except (TypeError, ValueError):
        return False


# ---------------------------------------------------------------------- kernels from other libraries
#: ``convert(kernel, dim) -> (Kernel, noise Hyperparameter or None)``, or None for kernels it does not know.
KernelConverter = Callable[[Any, int], "tuple[Kernel, Hyperparameter | None] | None"]
_converters: list[KernelConverter] = []
#: Bridges that register a converter when imported (a plugin table: gp never uses their names).
_CONVERTER_MODULES = ("kernelgen.sklearn",)


def register_kernel_converter(convert: KernelConverter) -> None:
    """Let ``GaussianProcess(kernel=...)`` accept another library's kernels (bridges call this)."""
    if convert not in _converters:
        _converters.append(convert)


def _convert_kernel(kernel: Any, dim: int) -> tuple[Kernel, Hyperparameter | None]:
    if not _converters:
        for module in _CONVERTER_MODULES:
            importlib.import_module(module)
    for convert in _converters:
        converted = convert(kernel, dim)
        if converted is not None:
            return converted
    raise ValueError(f"kernel must be a kernelgen Kernel or a scikit-learn kernel, got {type(kernel).__name__}")


# ---------------------------------------------------------------------- sampling
def _check_n_samples(n_samples: Any) -> int:
    if not isinstance(n_samples, numbers.Integral) or isinstance(n_samples, bool) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    return int(n_samples)


def _draw(mean: np.ndarray, cov: np.ndarray, n_samples: int, rng: np.random.RandomState) -> np.ndarray:
    """(len(mean), n_samples) draws of N(mean, cov) through the eigendecomposition of cov."""
    w, U = np.linalg.eigh(0.5 * (cov + cov.T))
    top = float(np.max(np.abs(w))) if w.size else 0.0
    if w.size and w[0] < -1e-8 * top:
        warnings.warn(f"the posterior covariance has a negative eigenvalue {w[0]:.3g} (largest {top:.3g}); it was "
                      "set to 0 for sampling", RuntimeWarning, stacklevel=3)
    z = rng.standard_normal((mean.size, n_samples))
    return mean[:, None] + (U * np.sqrt(np.clip(w, 0.0, None))) @ z


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


def _normalize_targets(y: np.ndarray, value_rows: np.ndarray, normalize: bool
                       ) -> tuple[np.ndarray, float | np.ndarray, float | np.ndarray]:
    """The ``normalize_y`` policy: ``(y_model, y_mean, y_std)``, per column for (n, t) targets.

    Mean and standard deviation come from the value (order-0) observations; derivative
    observations are scaled by the standard deviation only (a derivative is not shifted by a
    constant). Without value observations only the scale is normalized. A zero standard
    deviation counts as 1. Several targets get (t,) statistics even without normalization, so
    every prediction keeps its target axis.
    """
    columns = y.reshape(y.shape[0], -1)
    t = columns.shape[1]
    if normalize and np.any(value_rows):
        values = columns[value_rows]
        y_mean = np.mean(values, axis=0)
        y_std = np.std(values, axis=0) if values.shape[0] > 1 else np.ones(t)
    elif normalize:
        y_mean, y_std = np.zeros(t), np.std(columns, axis=0)
    else:
        y_mean, y_std = np.zeros(t), np.ones(t)
    y_std = np.where(np.isfinite(y_std) & (y_std > 0.0), y_std, 1.0)
    model = (columns - np.where(value_rows[:, None], y_mean, 0.0)) / y_std
    if y.ndim == 1:
        return model[:, 0], float(y_mean[0]), float(y_std[0])
    return model, y_mean, y_std
