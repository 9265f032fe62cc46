"""Issue 8 benchmarks: the cost of ``import kernelgen`` and of a fresh process evaluating a built-in kernel.

Run: ``python benchmarks/bench_import.py [--repeat N]``. Every figure is a fresh interpreter,
measured in this run against the baseline ``import numpy, sympy, numba`` (runs interleaved, so a
busy machine slows all of them alike); the evaluation runs after one warm-up process has filled
the numba cache (warm caches, as on a user's second run). Targets: ``import kernelgen`` at most
0.2 s above the baseline, the evaluating process at most 0.5 s above it.

Two more rows separate what kernelgen adds from what its dependencies cost on first use in any
program: the first SymPy arithmetic (SymPy imports more of itself then), and the first call of a
trivial cached ``@njit`` function (numba loads its typing registries and, through its BLAS check,
``scipy.linalg``). A built-in kernel's evaluation pays both before any kernelgen code runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from common import machine  # noqa: E402

NJIT_MODULE = """
from numba import njit

@njit(cache=True)
def one(x):
    return x + 1.0
"""

CASES = {
    "baseline: import numpy, sympy, numba": "import numpy, sympy, numba",
    "floor: baseline + first SymPy arithmetic": "import numpy, sympy, numba\nx, y = sympy.symbols('x y')\nx - y",
    "floor: baseline + first call of a cached @njit function": (
        "import numpy, sympy, numba, njit_one\nnjit_one.one(1.0)"),
    "import kernelgen": "import kernelgen",
    "import kernelgen + kernels.rbf(1)": "import kernelgen\nkernelgen.kernels.rbf(1)",
    "fresh process: rbf(1)(X, dx=(0,), dy=(0,)) and (X, eval_gradient=True)": (
        "import numpy as np, kernelgen\n"
        "k = kernelgen.kernels.rbf(1)\n"
        "X = np.linspace(0, 1, 50)[:, None]\n"
        "k(X, dx=(0,), dy=(0,))\n"
        "k(X, eval_gradient=True)\n"
    ),
}


def _run(code: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7, help="fresh processes per case (default: 7)")
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "njit_one.py"), "w") as handle:
            handle.write(NJIT_MODULE)
        env = dict(os.environ, KERNELGEN_CACHE_DIR=os.path.join(tmp, "kg"), NUMBA_CACHE_DIR=os.path.join(tmp, "nb"),
                   PYTHONPATH=os.pathsep.join(filter(None, [tmp, os.environ.get("PYTHONPATH")])))
        for code in CASES.values():  # warm-up: OS file cache, numba cache, .pyc files
            _run(code, env)
        times: dict[str, list[float]] = {name: [] for name in CASES}
        for _ in range(args.repeat):
            for name, code in CASES.items():
                times[name].append(_run(code, env))
    base = statistics.median(times[next(iter(CASES))])
    print(f"{'case':<75} {'median':>8} {'min':>8} {'- baseline':>11}")
    for name, values in times.items():
        med = statistics.median(values)
        print(f"{name:<75} {med:7.3f}s {min(values):7.3f}s {med - base:+10.3f}s")


if __name__ == "__main__":
    main()
