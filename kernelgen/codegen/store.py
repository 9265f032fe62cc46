"""Where generated modules live, what they are, and how they are written (atomically, under a lock).

Loading them is the runtime's job (:mod:`kernelgen.runtime.loading`). Lookup order for a batch:
the committed ``kernelgen.generated`` package (built-in kernels), then the user cache directory
(``KERNELGEN_CACHE_DIR``, default ``$XDG_CACHE_HOME/kernelgen`` or ``~/.cache/kernelgen``).

Identity. Every module records the identity of what it computes: the SHA-256 of the batch's
identity text (kernel signature, requests, gradient flag, kernelgen / SymPy / template
versions; :func:`identity`), in its header and as its ``IDENTITY`` constant. A file is used
only if its checksum line matches its text *and* its identity is the one asked for; anything
else (truncated, edited, or a valid module of another batch under this name) is regenerated.
Computing the identity needs the kernel's signature text, not any symbolic work.

Trust. The cache directory is trusted like ``site-packages``: its modules are imported and
executed. The checks above detect corruption and mix-ups, not attacks; anyone who can write
there can run code as you.

Writing. A module is written to a temporary file in the same directory (created with mode 0o666
less the umask, so a shared cache stays readable) and renamed into place, so readers never see a
partial module. An exclusive ``flock`` on ``.<name>.lock`` keeps concurrent processes from doing
the same work twice; the holder deletes the lock file before releasing it, and a process that
locked a file which was deleted meanwhile starts again, so no lock file stays behind.
"""

from __future__ import annotations

import errno
import fcntl
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from ..progress import plural, task
from .backends import BackendConfig, backend
from .ir import BatchSpec, build
from .render import IDENTITY_PREFIX, checksum_ok, render, versions_text

__all__ = [
    "CacheError", "builtin_dir", "cache_dir", "describe", "ensure_source", "file_identity", "find_source", "identity",
    "module_name", "source_text", "write_atomic",
]


class CacheError(OSError):
    """A directory for generated modules that cannot be used (a file, not writable, ...)."""

    def __init__(self, code: int | None, message: str) -> None:
        super().__init__(message)  # str(exc) is the message, without an "[Errno n]" prefix
        self.errno = code


def builtin_dir() -> Path:
    """Committed modules: package data when installed, the repository's generated/ in a source tree."""
    try:
        return Path(str(resources.files("kernelgen.generated")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[2] / "generated"


_CACHE_ADVICE = "set KERNELGEN_CACHE_DIR to a writable directory"


def cache_dir(create: bool = True) -> Path:
    """The user cache directory (created unless ``create`` is false); CacheError if unusable."""
    path, label = _cache_location()
    if create:
        _make_directory(path, label, _CACHE_ADVICE)
    return path


def _cache_location() -> tuple[Path, str]:
    """The cache directory and how to name it in errors."""
    configured = os.environ.get("KERNELGEN_CACHE_DIR")
    if configured:
        path = Path(configured).expanduser()
        return path, f"the cache directory KERNELGEN_CACHE_DIR={path}"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    path = Path(base) / "kernelgen"
    return path, f"the cache directory {path}"


def _make_directory(path: Path, label: str, advice: str) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise CacheError(errno.ENOTDIR, f"{label} exists and is not a directory; {advice}") from None
    except OSError as exc:
        raise CacheError(exc.errno, f"cannot create {label}: {exc.strerror}; {advice}") from None


def module_name(spec: BatchSpec, target: str | BackendConfig = "numba") -> str:
    """``<kernel>_<hash>`` (numba) or ``<kernel>_<backend>_<hash>``; the hash covers the backend too."""
    config = backend(target)
    key = identity(spec, config)[:16]
    return f"{spec.kernel.name}_{config.name}_{key}" if config.tagged else f"{spec.kernel.name}_{key}"


def identity(spec: BatchSpec, target: str | BackendConfig = "numba") -> str:
    """SHA-256 (hex) of the batch's identity text in one backend: the file name's hash and ``IDENTITY``."""
    return spec.key(versions_text(backend(target)))


def source_text(spec: BatchSpec, target: str | BackendConfig = "numba") -> str:
    """Generate the module text for ``spec`` in one backend (deterministic, with its identity)."""
    config = backend(target)
    label = f"{module_name(spec, config)}: {plural(len(spec.outputs), 'output')} ({describe(spec)})"
    with task(f"generating {label}"):
        return render(build(spec, config.printer), config, identity=identity(spec, config))


def describe(spec: BatchSpec) -> str:
    """``"kernel rbf_ard, d=3, 10 derivative requests + log-gradients in 4 hyperparameters"``."""
    requests = plural(len(spec.requests), "derivative request")
    names = spec.kernel.all_hyperparameter_names
    gradient = f" + log-gradients in {len(names)} hyperparameters" if spec.gradient else ""
    return f"kernel {spec.kernel.name}, d={spec.kernel.dim}, {requests}{gradient}"


def file_identity(text: str) -> str | None:
    """The identity recorded in a module's header, or None."""
    start = text.find(IDENTITY_PREFIX)
    if start < 0:
        return None
    start += len(IDENTITY_PREFIX)
    end = text.find("\n", start)
    return text[start:end].strip() if end > 0 else None


def _valid(path: Path, expected: str) -> bool:
    """The file is complete and unedited (checksum) and is the module for ``expected`` (identity)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return file_identity(text) == expected and checksum_ok(text)


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path``, and delete it before releasing (no stale lock files).

    A waiter may acquire the lock on a file the previous holder has just deleted; it then sees
    that ``path`` no longer names the file it holds and starts again on the current one.
    """
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            held = os.fstat(fd)
            try:
                current = os.stat(path)
            except FileNotFoundError:
                current = None
        except BaseException:
            os.close(fd)
            raise
        if current is not None and (current.st_dev, current.st_ino) == (held.st_dev, held.st_ino):
            break
        os.close(fd)  # deleted (and perhaps recreated) by the previous holder: lock the new one
    try:
        yield
    finally:
        try:
            path.unlink(missing_ok=True)
        finally:
            os.close(fd)  # closing releases the lock, after the file is gone


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the whole new one.

    The file is created with mode ``0o666`` less the umask (as ``open`` would): a cache shared
    by a group stays readable (``tempfile.mkstemp`` would make it ``0o600``).
    """
    while True:
        tmp = path.parent / f".{path.stem}.{secrets.token_hex(8)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def find_source(spec: BatchSpec, target: str | BackendConfig = "numba") -> Path | None:
    """A valid committed or cached module file for ``spec``, or None (nothing is generated or created)."""
    name, expected = module_name(spec, target), identity(spec, target)
    committed = builtin_dir() / f"{name}.py"
    if _valid(committed, expected):
        return committed
    cached = cache_dir(create=False) / f"{name}.py"
    return cached if _valid(cached, expected) else None


def ensure_source(spec: BatchSpec, directory: Path | None = None, target: str | BackendConfig = "numba", *,
                  force: bool = False) -> Path:
    """Path of a valid module file for ``spec`` in one backend, generating it if needed.

    ``directory`` defaults to the committed modules, then the cache directory. ``force``
    regenerates even a file that looks valid (the loader's answer to a module whose constants
    do not match what it asked for).
    """
    name, expected = module_name(spec, target), identity(spec, target)
    if directory is None:
        committed = builtin_dir() / f"{name}.py"
        if not force and _valid(committed, expected):
            return committed
        (directory, label), advice = _cache_location(), _CACHE_ADVICE
    else:
        label, advice = f"directory {directory}", "choose another directory"
    path = directory / f"{name}.py"
    if not force and _valid(path, expected):
        return path
    _make_directory(directory, label, advice)
    try:
        with _file_lock(directory / f".{name}.lock"):
            if force or not _valid(path, expected):  # another process may have finished while we waited
                write_atomic(path, source_text(spec, target))
    except CacheError:
        raise
    except OSError as exc:
        raise CacheError(exc.errno, f"cannot write a generated module to {label}: {exc.strerror}; {advice}") from None
    return path
