"""Hyperparameter specifications: a name, a positive value, log-space bounds, fixed or free.

:func:`parse_bounds` is the one reader of a bounds argument (``(low, high)`` or ``"fixed"``, as in
scikit-learn); every module that takes bounds from a user goes through it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from .names import normalize_name

__all__ = ["DEFAULT_BOUNDS", "Bounds", "Hyperparameter", "parse_bounds"]

DEFAULT_BOUNDS = (1e-5, 1e5)

#: What a user may pass as bounds.
Bounds = tuple[float, float] | str


@dataclass(frozen=True)
class Hyperparameter:
    """A named positive hyperparameter of a kernel.

    Parameters
    ----------
    name : str
        Python identifier, stored in Unicode NFKC form (as Python reads identifiers: ``"ℓ"`` is
        stored as ``"l"``); the SymPy symbol of the kernel expression carries the same name.
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
        object.__setattr__(self, "name", normalize_name(self.name))
        if not self.name.isidentifier() or self.name.startswith("_"):
            raise ValueError(f"hyperparameter name {self.name!r} must be an identifier not starting with '_'")
        value = float(self.value)
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"hyperparameter {self.name!r}: value must be positive and finite, got {self.value!r}")
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "bounds", _check_pair(f"hyperparameter {self.name!r}: bounds", self.bounds))

    @classmethod
    def make(cls, name: str, value: float, bounds: object) -> Hyperparameter:
        """From a user's bounds argument: ``(low, high)`` or ``"fixed"`` (kept at ``value``)."""
        pair, fixed = parse_bounds(f"bounds for {name!r}", bounds)
        return cls(name, value, pair, fixed)

    def with_value(self, value: float) -> Hyperparameter:
        return replace(self, value=value)

    def with_bounds(self, bounds: object) -> Hyperparameter:
        """A copy with a user's bounds argument applied; ``"fixed"`` keeps the current box."""
        pair, fixed = parse_bounds(f"bounds for {self.name!r}", bounds)
        return replace(self, bounds=self.bounds if fixed else pair, fixed=fixed)

    def renamed(self, name: str) -> Hyperparameter:
        return replace(self, name=name)


def parse_bounds(label: str, bounds: object) -> tuple[tuple[float, float], bool]:
    """Read a bounds argument: ``((low, high), False)`` for a pair, ``(DEFAULT_BOUNDS, True)`` for ``"fixed"``.

    ``label`` names the argument in errors (``"noise_bounds"``, ``"bounds for 'length_scale'"``);
    a pair must satisfy ``0 < low <= high < inf``.
    """
    if isinstance(bounds, str):
        if bounds != "fixed":
            raise ValueError(f"{label} must be a (low, high) pair or 'fixed', got {bounds!r}")
        return DEFAULT_BOUNDS, True
    try:
        low, high = bounds  # type: ignore[misc]
        pair = (float(low), float(high))
    except (TypeError, ValueError):
        raise ValueError(f"{label} must be a (low, high) pair or 'fixed', got {bounds!r}") from None
    return _check_pair(label, pair), False


def _check_pair(label: str, pair: object) -> tuple[float, float]:
    low, high = (float(b) for b in pair)  # type: ignore[union-attr]
    if not (0 < low <= high) or not math.isfinite(low) or not math.isfinite(high):
        raise ValueError(f"{label} must satisfy 0 < low <= high < inf, got {pair!r}")
    return low, high
