"""Cold generation time (issue 8 item 7): derivatives + CSE + printing, then numba compilation.

Run: ``python benchmarks/bench_generation.py [--kernels NAME ...] [--orders 2 4]``. Every case runs
in a fresh process with an empty ``KERNELGEN_CACHE_DIR`` and ``NUMBA_CACHE_DIR``, so nothing is
reused between cases or from earlier runs. For each case it prints the number of outputs (every
supported ``(dx, dy)`` of total order <= N, each with its log-hyperparameter gradients), the
symbolic time (preparation, differentiation, coincident limits, CSE and printing: ``ir.build``), and
the cold total (symbolic + rendering + writing + numba compilation + one call), each measured in
its own fresh process (import time excluded).
"""

from __future__ import annotations

import argparse
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

_SYMBOLIC = textwrap.dedent("""
    import time
    from kernelgen import kernels as K
    from kernelgen.cli import _all_requests
    from kernelgen.codegen import ir
    kernel = {kernel}
    t0 = time.perf_counter()
    spec = ir.BatchSpec.make(kernel, _all_requests(kernel, {order}), gradient=True)
    module = ir.build(spec)
    print(len(spec.outputs), module.n_ops, time.perf_counter() - t0)
""")

_COLD = textwrap.dedent("""
    import time
    import numpy as np
    import kernelgen.runtime as rt
    from kernelgen import kernels as K
    from kernelgen.cli import _all_requests
    kernel = {kernel}
    t0 = time.perf_counter()
    batch = rt.compiled(kernel, _all_requests(kernel, {order}), gradient=True)
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


def run_case(kernel: str, order: int) -> tuple[int, int, float, float]:
    """``(outputs, ops, symbolic s, cold total s)``, each time in its own fresh process."""
    n, ops, symbolic = _fresh(_SYMBOLIC.format(kernel=kernel, order=order))
    (total,) = _fresh(_COLD.format(kernel=kernel, order=order))
    return int(n), int(ops), float(symbolic), float(total)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kernels", nargs="*", default=list(KERNELS), choices=list(KERNELS))
    parser.add_argument("--orders", nargs="*", type=int, default=[2, 4])
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print("d = 3, every supported (dx, dy) of total order <= N with log-hyperparameter gradients, cold")
    print(f"{'kernel':22s} {'N':>2s} {'outputs':>8s} {'ops':>8s} {'symbolic s':>11s} {'cold total s':>13s}")
    for name in args.kernels:
        for order in args.orders:
            n, ops, symbolic, total = run_case(KERNELS[name], order)
            print(f"{name:22s} {order:2d} {n:8d} {ops:8d} {symbolic:11.2f} {total:13.2f}", flush=True)


if __name__ == "__main__":
    main()
