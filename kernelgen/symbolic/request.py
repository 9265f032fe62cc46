"""Typed requests: which derivative of the kernel, and which output of a generated module.

A :class:`Request` is validated once, where a user's argument enters (``Request.make`` names that
argument in its errors); every layer below takes the typed value and trusts it. Derivatives follow
SymPy's ``diff``: ``dx=(0, 0, 2)`` is d^3 / dx0^2 dx2 on the first input, ``dy`` the same on the
second. Indices are sorted (partial derivatives commute), so equal requests compare equal.

Other linear functionals (integrals over an input) are meant to join as further fields of
:class:`Request` with defaults that mean "none", so existing requests keep their meaning.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations_with_replacement
from numbers import Integral

__all__ = ["Index", "Output", "Request", "as_requests", "multi_index", "requests_up_to"]

#: A sorted multi-index of input components, e.g. ``(0, 0, 2)``.
Index = tuple[int, ...]


def multi_index(value: object, dim: int, name: str) -> Index:
    """``value`` (an int or a sequence of ints in ``[0, dim)``) as a sorted tuple.

    Raises ``ValueError`` naming ``name``, the argument the caller's user wrote.
    """
    if isinstance(value, Integral) and not isinstance(value, bool):
        value = (value,)
    try:
        items = tuple(value)  # type: ignore[arg-type]
    except TypeError:
        raise ValueError(f"{name} must be a tuple of input indices, got {value!r}") from None
    for i in items:
        if not isinstance(i, Integral) or isinstance(i, bool) or not 0 <= int(i) < dim:
            raise ValueError(f"{name} entries must be integers in [0, {dim}), got {value!r}")
    return tuple(sorted(int(i) for i in items))


@dataclass(frozen=True, order=True)
class Request:
    """``d^dx/dx d^dy/dy k(x, y)``: sorted multi-indices on the first and the second input.

    Build it with :meth:`make` from user input; the plain constructor trusts its caller (sorted
    tuples of valid indices), which is how lower layers make requests from validated parts.
    """

    dx: Index = ()
    dy: Index = ()

    @classmethod
    def make(cls, dx: object, dy: object, dim: int, names: tuple[str, str] = ("dx", "dy")) -> Request:
        """Validate and sort a user's ``dx``, ``dy`` for inputs of dimension ``dim``.

        ``names`` are the argument names used in error messages (e.g. ``("deriv", "deriv")``).
        """
        return cls(multi_index(dx, dim, names[0]), multi_index(dy, dim, names[1]))

    @property
    def per_argument(self) -> int:
        """Most derivatives taken on one argument (what the kernel's smoothness must allow twice)."""
        return max(len(self.dx), len(self.dy))

    @property
    def order(self) -> int:
        return len(self.dx) + len(self.dy)

    def fits(self, dim: int) -> bool:
        """True when every index is below ``dim`` (a request made for another dimension is not)."""
        return all(i < dim for i in self.dx + self.dy)

    def __str__(self) -> str:
        return f"(dx={self.dx}, dy={self.dy})"


@dataclass(frozen=True)
class Output:
    """One output of a generated module: a request, or the ``log(param)`` derivative of one."""

    request: Request
    param: str | None = None

    @property
    def dx(self) -> Index:
        return self.request.dx

    @property
    def dy(self) -> Index:
        return self.request.dy


def as_requests(items: Iterable[Request | Sequence[object]], dim: int, name: str = "requests") -> tuple[Request, ...]:
    """Requests from a public argument: :class:`Request` objects or ``(dx, dy)`` pairs.

    Pairs are validated by :meth:`Request.make`; a ready :class:`Request` only has its indices
    checked against ``dim`` (it may have been made for another kernel).
    """
    out = []
    for item in items:
        if isinstance(item, Request):
            if not item.fits(dim):
                raise ValueError(f"{name}: {item} has an index >= dim={dim}")
            out.append(item)
            continue
        try:
            dx, dy = item  # type: ignore[misc]
        except (TypeError, ValueError):
            raise ValueError(f"{name} entries must be (dx, dy) pairs or Request objects, got {item!r}") from None
        out.append(Request.make(dx, dy, dim))
    return tuple(out)


def requests_up_to(dim: int, max_order: int, per_argument: float = float("inf")) -> list[Request]:
    """Every request of total order ``<= max_order`` with at most ``per_argument`` derivatives per input."""
    out = []
    for nx in range(max_order + 1):
        for ny in range(max_order + 1 - nx):
            if max(nx, ny) > per_argument:
                continue
            for dx in combinations_with_replacement(range(dim), nx):
                for dy in combinations_with_replacement(range(dim), ny):
                    out.append(Request(dx, dy))
    return out
