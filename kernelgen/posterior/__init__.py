"""Gaussian-process posterior of f and its derivatives, and the log marginal likelihood.

Independent of any estimator class: :class:`TrainingProblem` evaluates the log marginal
likelihood (LML) and its gradient for many hyperparameter values with one set of compiled
modules and builds a :class:`TrainingState`; :func:`predict_derivatives` returns means and
covariances of any set of derivatives of the latent f.

Conventions
-----------
* A derivative is a SymPy-style tuple of input indices: ``()`` is f, ``(0,)`` is df/dx0,
  ``(0, 1)`` is d2f/dx0dx1. ``cov(d^a f(x), d^b f(x'))`` is the kernel request ``dx=a, dy=b``.
* Observations may measure f or any derivative of it (``observed`` lists the distinct types,
  ``obs_index`` picks one per training row); every observation gets the same noise variance.
* Memory: the training covariance is one (n, n) float64 buffer. It is factorized in place, and
  the LML gradient reuses it for ``K^-1``, so an LML + gradient evaluation holds ~``8 n^2`` bytes
  plus O(n) for ``n > IN_PLACE_THRESHOLD`` (twice that below). There is no (n, n, p) tensor: the
  gradient is one fused pass over generated dK/dlog(theta).

Modules: ``state`` (TrainingState), ``covariance`` (assembling K, contracting dK), ``cholesky``
(jittered factorization), ``likelihood`` (TrainingProblem), ``predict`` (one function per
covariance mode).
"""

from __future__ import annotations

from .cholesky import JITTER_LEVELS, JitterWarning
from .likelihood import TrainingProblem
from .predict import (
    DEFAULT_MEMORY_BUDGET,
    CovMode,
    check_cov,
    normalize_derivs,
    posterior_moments,
    predict_derivatives,
)
from .state import Deriv, TrainingState

__all__ = [
    "DEFAULT_MEMORY_BUDGET",
    "JITTER_LEVELS",
    "CovMode",
    "Deriv",
    "JitterWarning",
    "TrainingProblem",
    "TrainingState",
    "check_cov",
    "normalize_derivs",
    "posterior_moments",
    "predict_derivatives",
]
