"""Every exception and warning kernelgen raises about a kernel (exported from ``kernelgen``)."""

from __future__ import annotations

__all__ = ["InvalidKernelError", "KernelParseError", "NotDifferentiableError", "NotPositiveDefiniteWarning"]


class KernelParseError(ValueError):
    """The kernel string is not a safe arithmetic expression of the allowed form (or exceeds a limit)."""


class InvalidKernelError(ValueError):
    """The expression is not a valid covariance function.

    For example: not symmetric in its two inputs, not depending on both, infinite or undefined at
    coincident points, or with clashing names.
    """


class NotDifferentiableError(ValueError):
    """A requested derivative does not exist at coincident points for this kernel."""


class NotPositiveDefiniteWarning(UserWarning):
    """A numerical probe found a kernel matrix that is not positive semi-definite (never blocks)."""
