"""Every exception and warning kernelgen raises about a kernel (exported from ``kernelgen``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = [
    "InvalidKernelError", "KernelParseError", "NotDifferentiableError", "NotPositiveDefiniteWarning", "for_argument",
]


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


@contextmanager
def for_argument(name: str, value: object) -> Iterator[None]:
    """Re-raise a :class:`NotDifferentiableError` from inside with the user's argument in front.

    The kernel layer knows only kernel requests (``dx``, ``dy``); the public method that turned
    ``deriv=(0, 0)`` into them says which of *its* arguments asked for the missing derivative.
    """
    try:
        yield
    except NotDifferentiableError as exc:
        raise NotDifferentiableError(f"{name}={value!r}: {exc}") from exc
