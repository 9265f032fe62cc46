"""The built-in kernels whose generated modules are committed under ``generated/``.

``python -m kernelgen.builtin --update`` regenerates them; ``tests/test_golden.py`` regenerates
them in memory and compares byte for byte.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from pathlib import Path

from . import kernels
from .codegen.cache import builtin_dir, module_name, source_text, write_atomic
from .codegen.ir import BatchSpec
from .symbolic.kernel import Kernel

#: Dimensions for which built-in modules are committed.
DIMS = (1, 2, 3)

#: name -> factory(dim); the names accepted by the CLI in place of an expression.
LIBRARY: dict[str, Callable[[int], Kernel]] = {
    "rbf": lambda d: kernels.rbf(d),
    "rbf_ard": lambda d: kernels.rbf(d, ard=True),
    "matern12": lambda d: kernels.matern(d, 0.5),
    "matern32": lambda d: kernels.matern(d, 1.5),
    "matern52": lambda d: kernels.matern(d, 2.5),
    "matern32_ard": lambda d: kernels.matern(d, 1.5, ard=True),
    "matern52_ard": lambda d: kernels.matern(d, 2.5, ard=True),
    "rational_quadratic": lambda d: kernels.rational_quadratic(d),
    "periodic": lambda d: kernels.periodic(d),
    "exp_sine_squared": lambda d: kernels.exp_sine_squared(d),
    "linear": lambda d: kernels.linear(d),
    "dot_product": lambda d: kernels.dot_product(d),
    "polynomial": lambda d: kernels.polynomial(d),
    "constant": lambda d: kernels.constant(d),
}


def standard_requests(kernel: Kernel) -> Iterator[tuple[list[tuple[tuple[int, ...], tuple[int, ...]]], bool]]:
    """The batches most programs ask for: K with its hyperparameter gradient, and first-order cross terms."""
    yield [((), ())], True
    if kernel.smoothness >= 2:
        d = kernel.dim
        first = [((i,), ()) for i in range(d)]
        yield [((), ()), *first, *(((i,), (j,)) for i in range(d) for j in range(d))], False


def standard_specs() -> list[BatchSpec]:
    specs = []
    for factory in LIBRARY.values():
        for dim in DIMS:
            kernel = factory(dim)
            for requests, gradient in standard_requests(kernel):
                specs.append(BatchSpec.make(kernel, requests, gradient))
    return specs


def expected_files() -> dict[str, str]:
    """``{file name: text}`` for every committed module."""
    return {f"{module_name(spec)}.py": source_text(spec) for spec in standard_specs()}


def update(directory: Path | None = None) -> list[Path]:
    directory = directory or builtin_dir()
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--update", action="store_true", help="rewrite generated/ from the library")
    parser.add_argument("--out", type=Path, default=None, help="directory (default: the package's generated/)")
    args = parser.parse_args(argv)
    if not args.update:
        parser.print_help()
        return 0
    paths = update(args.out)
    print(f"{len(paths)} modules in {paths[0].parent if paths else args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
