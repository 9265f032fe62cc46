"""Typed requests: which derivative of the kernel, and which output of a generated module.

A :class:`Request` is validated once, where a user's argument enters (``Request.make`` names that
argument in its errors); every layer below takes the typed value and trusts it. Derivatives follow
SymPy's ``diff``: ``dx=(0, 0, 2)`` is d^3 / dx0^2 dx2 on the first input, ``dy`` the same on the
second. Indices are sorted (partial derivatives commute), so equal requests compare equal.

Integrals are further fields with defaults that mean "none", so existing requests keep their
meaning (and their generated file names): ``ix`` (``iy``) gives, per input component, the order
of the integral taken of the first (second) argument: 0 none, 1 ``int_l^u``, 2 the double
integral ``int_l^u int_l^s = int_l^u (u - s) ds`` (Cauchy), over the row's ``[lower, upper]``.
One argument's functional, a derivative at a point or an integral over a box, is a
:class:`Functional`; :class:`Antiderivative` is the public description of ``F(x) = int_a^x f``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations_with_replacement
from numbers import Integral, Real

__all__ = [
    "Antiderivative", "Functional", "Index", "Orders", "Output", "Request", "as_requests", "multi_index",
    "requests_up_to",
]

#: A sorted multi-index of input components, e.g. ``(0, 0, 2)``.
Index = tuple[int, ...]

#: Integration order per input component (0, 1 or 2), one entry per input; ``()`` means none.
Orders = tuple[int, ...]


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
    #: Integration orders on the first / second argument (``()``: a point functional).
    ix: Orders = ()
    iy: Orders = ()

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
        return all(i < dim for i in self.dx + self.dy) and all(len(o) in (0, dim) for o in (self.ix, self.iy))

    @property
    def is_integral(self) -> bool:
        """True when either argument is integrated (the request needs an integral module)."""
        return bool(self.ix or self.iy)

    @property
    def first(self) -> Functional:
        return Functional(self.dx, self.ix)

    @property
    def second(self) -> Functional:
        return Functional(self.dy, self.iy)

    @classmethod
    def between(cls, first: Functional, second: Functional) -> Request:
        """``cov(first f, second f)``: ``first`` acts on the kernel's x, ``second`` on its y."""
        return cls(first.deriv, second.deriv, first.orders, second.orders)

    def __str__(self) -> str:
        if not self.is_integral:
            return f"(dx={self.dx}, dy={self.dy})"
        return f"(dx={self.dx}, dy={self.dy}, ix={self.ix}, iy={self.iy})"


@dataclass(frozen=True, order=True)
class Functional:
    """One argument's linear functional of f: a derivative at a point, or an integral over a box.

    ``orders`` empty: ``d^deriv f`` at the row's point. Otherwise ``deriv`` is empty and
    ``orders[j]`` (0, 1 or 2) is the integral order along input ``j`` over the row's
    ``[lower_j, upper_j]`` (order 0: the point ``upper_j``). Trusted like :class:`Request`.
    """

    deriv: Index = ()
    orders: Orders = ()

    @property
    def is_integral(self) -> bool:
        return bool(self.orders)

    @classmethod
    def box(cls, dim: int) -> Functional:
        """The integral over a box ``[lower, upper]`` in all ``dim`` inputs."""
        return cls((), (1,) * dim)

    @classmethod
    def antiderivative(cls, dim: int, order: int, along: int) -> Functional:
        """``int_lower^upper`` (order 1) or its Cauchy double integral (order 2) along ``along``."""
        return cls((), tuple(order if j == along else 0 for j in range(dim)))

    def __str__(self) -> str:
        return f"orders={self.orders}" if self.orders else f"deriv={self.deriv}"


@dataclass(frozen=True)
class Antiderivative:
    """``F(x) = int_anchor^x f`` along input ``dim`` (``order=2``: ``int_anchor^x int_anchor^s f``).

    The other coordinates of each row of X are held fixed. ``F(anchor) = 0`` (and, for
    ``order=2``, ``F'(anchor) = 0``), so for ``x < anchor`` the value is the oriented integral:
    ``int_a^x f = -int_x^a f``; order 2 equals ``int_a^x (x - s) f(s) ds`` for either order of
    ``a`` and ``x``. Use it as an entry of ``GaussianProcess.predict_joint(X, derivs)``.

    Parameters
    ----------
    anchor : float
        Lower limit ``a`` (finite).
    order : {1, 2}
        Single or double antiderivative.
    dim : int
        Input component integrated along (checked against the model's dimension when used).
    """

    anchor: float
    order: int = 1
    dim: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.anchor, bool) or not isinstance(self.anchor, Real) or not math.isfinite(self.anchor):
            raise ValueError(f"anchor must be a finite number, got {self.anchor!r}")
        if isinstance(self.order, bool) or not isinstance(self.order, Integral) or self.order not in (1, 2):
            raise ValueError(f"order must be 1 or 2, got {self.order!r}")
        if isinstance(self.dim, bool) or not isinstance(self.dim, Integral) or self.dim < 0:
            raise ValueError(f"dim must be a non-negative integer, got {self.dim!r}")
        object.__setattr__(self, "anchor", float(self.anchor))
        object.__setattr__(self, "order", int(self.order))
        object.__setattr__(self, "dim", int(self.dim))

    def functional(self, dim: int) -> Functional:
        """The typed functional for inputs of dimension ``dim`` (ValueError if ``self.dim`` is out of range)."""
        if self.dim >= dim:
            raise ValueError(f"dim must be an integer in [0, {dim}), got {self.dim}")
        return Functional.antiderivative(dim, self.order, self.dim)


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
