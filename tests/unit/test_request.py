"""Typed requests: validation at the public edge, sorting, names in errors, enumeration."""

from __future__ import annotations

from math import comb

import numpy as np
import pytest

from kernelgen.symbolic.request import Output, Request, as_requests, multi_index, requests_up_to


def test_make_sorts_and_accepts_ints() -> None:
    assert Request.make((2, 0, 0), 1, dim=3) == Request((0, 0, 2), (1,))
    assert Request.make(np.int64(1), (), dim=2) == Request((1,), ())
    assert Request.make((), (), dim=1) == Request()


@pytest.mark.parametrize("bad", [(2,), (-1,), ("a",), (0.5,), (True,), object()])
def test_errors_name_the_users_argument(bad: object) -> None:
    with pytest.raises(ValueError, match=r"^deriv "):
        Request.make(bad, (), dim=2, names=("deriv", "deriv"))
    with pytest.raises(ValueError, match=r"^dy "):
        Request.make((), bad, dim=2)


def test_requests_are_values() -> None:
    a, b = Request((0,), (1,)), Request.make([0], [1], dim=2)
    assert a == b and hash(a) == hash(b)
    assert {Output(a, "l"): 1}[Output(b, "l")] == 1
    assert Output(a).dx == (0,) and Output(a).dy == (1,)
    with pytest.raises(AttributeError):
        a.dx = ()  # type: ignore[misc]


def test_order_and_text() -> None:
    r = Request((0, 0), (1,))
    assert (r.order, r.per_argument) == (3, 2)
    assert str(r) == "(dx=(0, 0), dy=(1,))"


def test_as_requests_validates_pairs_and_dimension() -> None:
    assert as_requests([((1, 0), ()), Request((0,), ())], dim=2) == (Request((0, 1), ()), Request((0,), ()))
    with pytest.raises(ValueError, match="dim=1"):
        as_requests([Request((1,), ())], dim=1)
    with pytest.raises(ValueError, match="pairs"):
        as_requests([(0,)], dim=1)


def test_multi_index_is_sorted_tuple() -> None:
    assert multi_index([1, 0, 1], 2, "deriv") == (0, 1, 1)


@pytest.mark.parametrize(("dim", "order"), [(1, 4), (3, 2), (2, 3)])
def test_requests_up_to_counts_multisets(dim: int, order: int) -> None:
    # Independent count: multisets of size k from dim indices, C(dim + k - 1, k), per argument.
    n_multisets = [comb(dim + k - 1, k) for k in range(order + 1)]
    expected = sum(n_multisets[a] * n_multisets[b] for a in range(order + 1) for b in range(order + 1 - a))
    out = requests_up_to(dim, order)
    assert len(out) == len(set(out)) == expected
    assert all(r.order <= order for r in out)
    assert all(r.per_argument <= 1 for r in requests_up_to(dim, order, per_argument=1))
