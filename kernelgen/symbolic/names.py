"""Hyperparameter names: one spelling per name (Unicode NFKC), and the one rule for clashes.

Python reads identifiers in NFKC form (``ﬁ`` is ``fi``, ``ℓ`` is ``l``, the micro sign ``µ`` is the
Greek ``μ``), so two spellings that are equal after NFKC are one name to Python, to keyword
arguments and to anything generated from them. kernelgen therefore normalises every name where
it enters (:func:`normalize_name`) and refuses two *different* spellings that normalise to the
same name (:func:`check_spellings`) instead of letting one silently stand for the other.

Clashes between operands of the kernel algebra follow one rule (:func:`unique_name`): keep the
first, suffix the others ``_2``, ``_3``, ...
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Iterable, Mapping
from typing import TypeVar

from .errors import InvalidKernelError

__all__ = ["check_spellings", "normalize_keys", "normalize_name", "unique_name"]

V = TypeVar("V")


def normalize_name(name: str) -> str:
    """``name`` in Unicode normal form NFKC (the form Python itself gives identifiers)."""
    if not isinstance(name, str):
        raise TypeError(f"a hyperparameter name must be a str, got {type(name).__name__}")
    return unicodedata.normalize("NFKC", name)


def check_spellings(spellings: Iterable[str], what: str = "hyperparameter names") -> dict[str, str]:
    """``{normalized: spelling}``; InvalidKernelError when two spellings share one normal form.

    Identical repeated spellings are one name (the caller decides whether repeats are allowed).
    """
    seen: dict[str, str] = {}
    for spelling in spellings:
        name = normalize_name(spelling)
        first = seen.setdefault(name, spelling)
        if first != spelling:
            raise InvalidKernelError(
                f"{what} {first!r} and {spelling!r} are the same name after Unicode NFKC normalisation "
                f"(both read as {name!r}, as Python reads identifiers); use one spelling, or two different names"
            )
    return seen


def normalize_keys(given: Mapping[str, V], what: str = "hyperparameter names") -> dict[str, V]:
    """``given`` with NFKC-normalised keys; InvalidKernelError if two keys become one."""
    check_spellings(given, what)
    return {normalize_name(k): v for k, v in given.items()}


def unique_name(name: str, taken: Collection[str], avoid: Collection[str] = ()) -> str:
    """``name`` if it is free, else ``name_k`` for the smallest ``k >= 2`` not in ``taken`` or ``avoid``.

    ``avoid`` lists names that are not taken yet but will be (the other operand's own names), so
    that a rename never collides with a name that arrives later.
    """
    if name not in taken:
        return name
    suffix = 2
    while f"{name}_{suffix}" in taken or f"{name}_{suffix}" in avoid:
        suffix += 1
    return f"{name}_{suffix}"
