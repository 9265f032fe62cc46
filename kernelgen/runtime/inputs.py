"""Checks on arrays before they reach jitted code (which does not check bounds)."""

from __future__ import annotations

import numpy as np

__all__ = ["as_points"]


def as_points(X: object, dim: int, name: str) -> np.ndarray:
    """``X`` as a C-contiguous float64 array of shape (n, dim); ValueError naming ``name`` otherwise."""
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a numeric array of shape (n, {dim})") from None
    if arr.ndim == 1 and dim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2 or arr.shape[1] != dim:
        raise ValueError(f"{name} must have shape (n, {dim}), got {np.shape(X)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return np.ascontiguousarray(arr)
