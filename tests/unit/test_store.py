"""The module store: identity of every file, umask, lock files, unusable directories (nothing compiled).

Issue 7, reproducer 7: a valid cached module copied under another kernel's file name was loaded and
returned the other kernel's values (its checksum is self-consistent). The store now also compares
the identity recorded in the file with the one asked for; the values are checked end to end in
``tests/integration/test_adversarial.py``.
"""

from __future__ import annotations

import os
import shutil
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kernelgen import Kernel
from kernelgen.codegen import store
from kernelgen.codegen.ir import BatchSpec
from kernelgen.codegen.render import checksum_ok
from tests.support.filesystem import read_only_directory


def _spec(text: str = "exp(-(x0 - y0)**2 / l)", requests: list | None = None, gradient: bool = False) -> BatchSpec:
    return BatchSpec.make(Kernel.from_string(text, dim=1, name="storetest"), requests or [((), ())], gradient)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    directory = tmp_path / "cache"
    monkeypatch.setenv("KERNELGEN_CACHE_DIR", str(directory))
    yield directory


def test_identity_is_recorded_in_header_and_constant(cache: Path) -> None:
    spec = _spec(gradient=True)
    text = store.ensure_source(spec).read_text()
    expected = store.identity(spec)
    assert store.file_identity(text) == expected and f"IDENTITY = {expected!r}" in text
    assert store.module_name(spec).endswith(expected[:16])


@pytest.mark.parametrize("other", [
    ("exp(-abs(x0 - y0) / l)", [((), ())], False),  # another kernel
    ("exp(-(x0 - y0)**2 / l)", [((0,), ())], False),  # another request
    ("exp(-(x0 - y0)**2 / l)", [((), ())], True),  # the same request with gradients
])
def test_valid_module_of_another_batch_under_this_name_is_regenerated(cache: Path, other: tuple) -> None:
    wanted, impostor = _spec(), _spec(*other)
    path, foreign = store.ensure_source(wanted), store.ensure_source(impostor)
    good = path.read_text()
    shutil.copy(foreign, path)
    assert checksum_ok(path.read_text())  # self-consistent: the checksum alone cannot tell
    assert store.find_source(wanted) is None
    assert store.ensure_source(wanted) == path and path.read_text() == good


def test_module_without_identity_is_not_accepted(cache: Path) -> None:
    from kernelgen.codegen.ir import build
    from kernelgen.codegen.render import render

    spec = _spec()
    path = store.ensure_source(spec)
    path.write_text(render(build(spec)))  # valid checksum, no identity (as an older kernelgen wrote)
    assert store.find_source(spec) is None
    assert store.file_identity(store.ensure_source(spec).read_text()) == store.identity(spec)


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_modules_are_created_honouring_the_umask(cache: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        path = store.ensure_source(_spec(f"exp(-(x0 - y0)**2 / l) * {umask + 2}"))
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_no_lock_or_temporary_file_is_left(cache: Path) -> None:
    store.ensure_source(_spec())
    store.ensure_source(_spec(requests=[((0,), (0,))]))
    assert sorted(p.suffix for p in cache.iterdir()) == [".py", ".py"]


def test_stale_lock_file_is_reused_and_removed(cache: Path) -> None:
    spec = _spec()
    cache.mkdir()
    stale = cache / f".{store.module_name(spec)}.lock"
    stale.write_text("")  # left by a process that died, or by an older kernelgen
    store.ensure_source(spec)
    assert not stale.exists()


def test_lock_is_exclusive_although_holders_delete_the_file(tmp_path: Path) -> None:
    """Threads hammer one lock: never two holders at once, and the file is gone at the end."""
    lock = tmp_path / ".m.lock"
    holders, worst, guard = [0], [0], threading.Lock()

    def work() -> None:
        for _ in range(30):
            with store._file_lock(lock):
                with guard:
                    holders[0] += 1
                    worst[0] = max(worst[0], holders[0])
                time.sleep(0.0005)
                with guard:
                    holders[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert worst[0] == 1 and not lock.exists()


def test_cache_directory_that_is_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "not-a-dir"
    target.write_text("")
    monkeypatch.setenv("KERNELGEN_CACHE_DIR", str(target))
    assert store.find_source(_spec()) is None  # looking up creates nothing and does not fail
    with pytest.raises(store.CacheError, match="KERNELGEN_CACHE_DIR=.* is not a directory"):
        store.ensure_source(_spec())


def test_read_only_cache_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with read_only_directory(tmp_path / "ro") as directory:
        monkeypatch.setenv("KERNELGEN_CACHE_DIR", str(directory))
        with pytest.raises(store.CacheError, match="cannot write a generated module to .*ro.*KERNELGEN_CACHE_DIR"):
            store.ensure_source(_spec())


def test_read_only_cache_directory_still_serves_its_modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = tmp_path / "shared"
    monkeypatch.setenv("KERNELGEN_CACHE_DIR", str(directory))
    path = store.ensure_source(_spec())
    with read_only_directory(directory):
        assert store.ensure_source(_spec()) == path


def test_output_directory_that_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "out.py"
    target.write_text("")
    with pytest.raises(store.CacheError, match="out.py exists and is not a directory"):
        store.ensure_source(_spec(), target)
