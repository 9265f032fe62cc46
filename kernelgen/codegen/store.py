"""Where generated modules live and how they are named and written (atomically, under a lock).

Loading them is the runtime's job (:mod:`kernelgen.runtime.loading`). Lookup order for a batch:
the committed ``kernelgen.generated`` package (built-in kernels), then the user cache directory
(``KERNELGEN_CACHE_DIR``, default ``$XDG_CACHE_HOME/kernelgen`` or ``~/.cache/kernelgen``). A file
is trusted only if its checksum line matches; anything else is regenerated. Writes go to a
temporary file in the same directory and are renamed into place, so readers never see a partial
module, and an exclusive ``flock`` keeps concurrent processes from doing the same work twice.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from .backends import BackendConfig, backend
from .ir import BatchSpec, build
from .render import checksum_ok, render, versions_text

__all__ = ["builtin_dir", "cache_dir", "ensure_source", "find_source", "module_name", "source_text", "write_atomic"]


def builtin_dir() -> Path:
    """Committed modules: package data when installed, the repository's generated/ in a source tree."""
    try:
        return Path(str(resources.files("kernelgen.generated")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[2] / "generated"


def cache_dir() -> Path:
    configured = os.environ.get("KERNELGEN_CACHE_DIR")
    if configured:
        path = Path(configured).expanduser()
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        path = Path(base) / "kernelgen"
    path.mkdir(parents=True, exist_ok=True)
    return path


def module_name(spec: BatchSpec, target: str | BackendConfig = "numba") -> str:
    """``<kernel>_<hash>`` (numba) or ``<kernel>_<backend>_<hash>``; the hash covers the backend too."""
    config = backend(target)
    key = spec.key(versions_text(config))[:16]
    return f"{spec.kernel.name}_{config.name}_{key}" if config.tagged else f"{spec.kernel.name}_{key}"


def source_text(spec: BatchSpec, target: str | BackendConfig = "numba") -> str:
    """Generate the module text for ``spec`` in one backend (deterministic)."""
    config = backend(target)
    return render(build(spec, config.printer), config)


def _valid(path: Path) -> bool:
    try:
        return checksum_ok(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return False


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with open(path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the whole new one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def find_source(spec: BatchSpec, target: str | BackendConfig = "numba") -> Path | None:
    """A valid committed or cached module file for ``spec``, or None (nothing is generated)."""
    name = module_name(spec, target)
    for path in (builtin_dir() / f"{name}.py", cache_dir() / f"{name}.py"):
        if _valid(path):
            return path
    return None


def ensure_source(spec: BatchSpec, directory: Path | None = None, target: str | BackendConfig = "numba") -> Path:
    """Path of a valid module file for ``spec`` in one backend, generating it if needed."""
    name = module_name(spec, target)
    if directory is None:
        committed = builtin_dir() / f"{name}.py"
        if _valid(committed):
            return committed
        directory = cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.py"
    if _valid(path):
        return path
    with _file_lock(directory / f".{name}.lock"):
        if not _valid(path):  # another process may have finished while we waited
            write_atomic(path, source_text(spec, target))
    return path
