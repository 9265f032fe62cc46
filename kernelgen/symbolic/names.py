"""The one rule for names that clash: keep the first, suffix the others ``_2``, ``_3``, ..."""

from __future__ import annotations

from collections.abc import Collection

__all__ = ["unique_name"]


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
