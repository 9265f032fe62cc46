"""One derived object per kernel: built once per kernel signature, shared across threads."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

if TYPE_CHECKING:
    from .kernel import Kernel

__all__ = ["PerKernel"]

T = TypeVar("T", bound="PerKernel")


class PerKernel:
    """Base of classes built from a kernel alone (``cls(kernel)``), memoised by ``cls.of(kernel)``.

    Building is SymPy work (seconds for large kernels): two threads asking at once may both build,
    and the first stored wins, so every caller gets the same object.
    """

    _cache: ClassVar[dict[str, Any]]
    _cache_lock: ClassVar[threading.Lock]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._cache = {}
        cls._cache_lock = threading.Lock()

    def __init__(self, kernel: Kernel) -> None:  # pragma: no cover - subclasses define it
        raise NotImplementedError

    @classmethod
    def of(cls: type[T], kernel: Kernel) -> T:
        key = kernel.signature
        with cls._cache_lock:
            found = cls._cache.get(key)
        if found is None:
            found = cls(kernel)
            with cls._cache_lock:
                found = cls._cache.setdefault(key, found)
        return found
