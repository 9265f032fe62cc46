"""Hyperparameter specifications: a name, a positive value, log-space bounds, fixed or free."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

DEFAULT_BOUNDS = (1e-5, 1e5)


@dataclass(frozen=True)
class Hyperparameter:
    """A named positive hyperparameter of a kernel.

    Parameters
    ----------
    name : str
        Python identifier; the SymPy symbol of the kernel expression carries the same name.
    value : float
        Current value, strictly positive and finite.
    bounds : tuple of float
        ``(low, high)`` with ``0 < low <= high``; the optimizer searches ``log`` of this box.
    fixed : bool
        Fixed hyperparameters are left out of ``theta``, ``bounds`` and gradients.
    """

    name: str
    value: float = 1.0
    bounds: tuple[float, float] = DEFAULT_BOUNDS
    fixed: bool = False

    def __post_init__(self) -> None:
        if not self.name.isidentifier() or self.name.startswith("_"):
            raise ValueError(f"hyperparameter name {self.name!r} must be an identifier not starting with '_'")
        value = float(self.value)
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"hyperparameter {self.name!r}: value must be positive and finite, got {self.value!r}")
        low, high = (float(b) for b in self.bounds)
        if not (0 < low <= high) or not math.isfinite(low) or not math.isfinite(high):
            raise ValueError(
                f"hyperparameter {self.name!r}: bounds must satisfy 0 < low <= high < inf, got {self.bounds!r}"
            )
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "bounds", (low, high))

    def with_value(self, value: float) -> Hyperparameter:
        return replace(self, value=value)

    def renamed(self, name: str) -> Hyperparameter:
        return replace(self, name=name)


def coerce_bounds(name: str, bounds: object) -> tuple[tuple[float, float], bool]:
    """Read ``bounds`` as scikit-learn does: a pair, or the string ``"fixed"``."""
    if isinstance(bounds, str):
        if bounds != "fixed":
            raise ValueError(f"bounds for {name!r} must be a (low, high) pair or 'fixed', got {bounds!r}")
        return DEFAULT_BOUNDS, True
    try:
        low, high = bounds  # type: ignore[misc]
    except (TypeError, ValueError):
        raise ValueError(f"bounds for {name!r} must be a (low, high) pair or 'fixed', got {bounds!r}") from None
    return (float(low), float(high)), False
