"""What prediction needs from a fitted Gaussian process."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..symbolic.kernel import Kernel
from ..symbolic.request import Index

__all__ = ["Deriv", "TrainingState"]

#: A derivative of f: a sorted multi-index of input components (``()`` is f itself).
Deriv = Index


@dataclass(frozen=True)
class TrainingState:
    """Everything prediction needs from a fitted GP.

    Attributes
    ----------
    kernel : Kernel
        Covariance of the latent f, at the fitted hyperparameter values.
    X : ndarray of shape (n, d)
        Training inputs.
    observed : tuple of tuple of int
        Distinct derivative types of the observations, e.g. ``((),)`` for plain values.
    obs_index : ndarray of shape (n,), int64
        Index into ``observed`` for each training row.
    alpha : ndarray of shape (n,) or (n, t)
        ``(K + noise I)^-1 (y - offset)`` in the model's (normalized) units; one column per
        target for multi-target fits (means then gain a trailing target axis).
    L : ndarray of shape (n, n)
        Lower Cholesky factor of ``K + (noise + jitter) I`` (upper triangle zero).
    y_mean, y_std : float or ndarray of shape (t,)
        ``normalize_y`` statistics, ``(0.0, 1.0)`` when not normalized.
    """

    kernel: Kernel
    X: np.ndarray
    observed: tuple[Deriv, ...]
    obs_index: np.ndarray
    alpha: np.ndarray
    L: np.ndarray
    y_mean: float | np.ndarray = 0.0
    y_std: float | np.ndarray = 1.0
