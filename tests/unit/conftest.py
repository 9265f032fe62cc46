"""The unit tier compiles nothing: any numba compilation (or cache load) in a unit test fails it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _no_numba(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    import numba.core.dispatcher as dispatcher

    def refuse(self: object, *args: object, **kwargs: object) -> None:
        raise AssertionError(f"a unit test compiled numba code ({self}); move it to tests/integration")

    monkeypatch.setattr(dispatcher.Dispatcher, "_compile_for_args", refuse)
    yield
