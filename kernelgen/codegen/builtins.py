"""The built-in kernels' modules committed under ``generated/``: which batches, and rewriting them.

``kernelgen generate --builtins`` rewrites the directory; the golden test regenerates every file in
memory and compares byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..progress import task
from ..symbolic.kernel import Kernel
from ..symbolic.library import LIBRARY
from ..symbolic.request import Request
from .ir import BatchSpec
from .store import builtin_dir, module_name, source_text, write_atomic

__all__ = ["DIMS", "committed_specs", "expected_files", "standard_requests", "standard_specs", "update"]

#: Dimensions for which built-in modules are committed.
DIMS = (1, 2, 3)


def _first_order(dim: int) -> list[Request]:
    first = [Request((i,), ()) for i in range(dim)]
    return [Request(), *first, *(Request((i,), (j,)) for i in range(dim) for j in range(dim))]


def standard_requests(kernel: Kernel) -> Iterator[tuple[list[Request], bool]]:
    """The batches most programs ask for: K with its hyperparameter gradient, and first-order cross terms."""
    yield [Request()], True
    if kernel.smoothness >= 2:
        yield _first_order(kernel.dim), False


def standard_specs() -> list[BatchSpec]:
    specs = []
    for factory in LIBRARY.values():
        for dim in DIMS:
            kernel = factory(dim)
            for requests, gradient in standard_requests(kernel):
                specs.append(BatchSpec.make(kernel, requests, gradient))
    return specs


def committed_specs(kernel: Kernel) -> list[BatchSpec]:
    """The standard batches of ``kernel`` whose modules are committed (no SymPy work: names only)."""
    candidates = [BatchSpec.make(kernel, [Request()], True), BatchSpec.make(kernel, _first_order(kernel.dim))]
    directory = builtin_dir()
    return [spec for spec in candidates if (directory / f"{module_name(spec)}.py").is_file()]


def expected_files() -> dict[str, str]:
    """``{file name: text}`` for every committed module."""
    specs = standard_specs()
    files = {}
    with task("generating the built-in modules", total=len(specs)) as progress:
        for spec in specs:
            files[f"{module_name(spec)}.py"] = source_text(spec)
            progress.advance()
    return files


def update(directory: Path | None = None) -> list[Path]:
    """Rewrite the committed modules in ``directory`` (default: the package's) and drop stale ones."""
    directory = directory or builtin_dir()
    directory.mkdir(parents=True, exist_ok=True)
    wanted = expected_files()
    for stale in directory.glob("*.py"):
        if stale.name != "__init__.py" and stale.name not in wanted:
            stale.unlink()
    paths = []
    for name, text in wanted.items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            write_atomic(path, text)
        paths.append(path)
    return paths
