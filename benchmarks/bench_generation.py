"""Cold generation time (issue 8 item 7): derivatives + CSE + printing, then numba compilation.

Run: ``python benchmarks/bench_generation.py [--kernels NAME ...] [--orders 2 4]``. Every case runs
in a fresh process with an empty ``KERNELGEN_CACHE_DIR`` and ``NUMBA_CACHE_DIR``, so nothing is
reused between cases or from earlier runs. For each case it prints the number of outputs (every
supported ``(dx, dy)`` of total order <= N, each with its log-hyperparameter gradients), the
generation time (the module source: analysis, preparation, differentiation, coincident limits,
CSE, printing, rendering and writing -- what ``kernelgen generate`` does), and
the cold total (generation + numba compilation + one call), each measured in
its own fresh process (import time excluded).
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import textwrap

sys.path.insert(0, os.path.dirname(__file__))
from common import machine  # noqa: E402

KERNELS = {
    "rbf*periodic+linear": "K.rbf(3) * K.periodic(3) + K.linear(3)",
    "rbf_ard": "K.rbf(3, length_scale=[0.3, 0.5, 0.7], variance=1.3)",
    "matern52_ard": "K.matern(3, 2.5, length_scale=[0.3, 0.5, 0.7], variance=1.3)",
}

_GENERATE = textwrap.dedent("""
    import time
    from kernelgen import kernels as K
    from kernelgen.symbolic.request import requests_up_to
    from kernelgen.codegen import ir
    from kernelgen.codegen.store import ensure_source
    kernel = {kernel}
    t0 = time.perf_counter()
    spec = ir.BatchSpec.make(kernel, requests_up_to(kernel.dim, {order}, kernel.smoothness // 2), gradient=True)
    path = ensure_source(spec)
    t1 = time.perf_counter()
    n_ops = next(line for line in open(path) if line.startswith("N_OPS")).split("=")[1]
    print(len(spec.outputs), n_ops, t1 - t0)
""")

_COLD = textwrap.dedent("""
    import time
    import numpy as np
    import kernelgen.runtime as rt
    from kernelgen import kernels as K
    from kernelgen.symbolic.request import requests_up_to
    kernel = {kernel}
    t0 = time.perf_counter()
    batch = rt.compiled(kernel, requests_up_to(kernel.dim, {order}, kernel.smoothness // 2), gradient=True)
    X = np.random.default_rng(0).uniform(size=(8, 3))
    batch.fill(X, X[:3], kernel.parameter_vector)
    print(time.perf_counter() - t0)
""")


def _fresh(code: str) -> list[str]:
    """Run ``code`` in a new process with empty kernelgen and numba caches; its stdout fields."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, KERNELGEN_CACHE_DIR=cache, NUMBA_CACHE_DIR=os.path.join(cache, "numba"))
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return out.stdout.split()


def run_case(kernel: str, order: int, total: bool = True) -> tuple[int, int, float, float]:
    """``(outputs, ops, generate s, cold total s)``, each time in its own fresh process."""
    n, ops, generate = _fresh(_GENERATE.format(kernel=kernel, order=order))
    cold = float(_fresh(_COLD.format(kernel=kernel, order=order))[0]) if total else math.nan
    return int(n), int(ops), float(generate), cold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kernels", nargs="*", default=list(KERNELS), choices=list(KERNELS))
    parser.add_argument("--orders", nargs="*", type=int, default=[2, 4])
    parser.add_argument("--no-compile", action="store_true",
                        help="generation only (numba compilation of order-4 batches takes minutes)")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print("d = 3, every supported (dx, dy) of total order <= N with log-hyperparameter gradients, cold")
    print(f"{'kernel':22s} {'N':>2s} {'outputs':>8s} {'ops':>8s} {'generate s':>11s} {'cold total s':>13s}")
    for name in args.kernels:
        for order in args.orders:
            n, ops, generate, total = run_case(KERNELS[name], order, total=not args.no_compile)
            print(f"{name:22s} {order:2d} {n:8d} {ops:8d} {generate:11.2f} {total:13.2f}", flush=True)


if __name__ == "__main__":
    main()
