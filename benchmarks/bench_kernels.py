"""Issue 2 benchmarks: generation/compile times and K + dK/dlog(theta) against scikit-learn.

Run: ``python benchmarks/bench_kernels.py [--quick]``. Every figure is measured in this run, on
this machine; cold times use a fresh cache directory and a fresh process, warm times a fresh
process whose cache is already filled.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from common import best_of, machine  # noqa: E402

KERNELS = {
    "rbf_ard": "kernelgen.kernels.rbf(3, length_scale=[0.3, 0.5, 0.7], variance=1.3)",
    "matern52_ard": "kernelgen.kernels.matern(3, 2.5, length_scale=[0.3, 0.5, 0.7], variance=1.3)",
}

_LOAD = textwrap.dedent("""
    import time, itertools
    t0 = time.perf_counter()
    import numpy as np, kernelgen, kernelgen.runtime as rt
    from kernelgen.symbolic.request import requests_up_to
    kernel = {kernel}
    requests = requests_up_to(kernel.dim, {order}, kernel.smoothness // 2)
    t1 = time.perf_counter()
    batch = rt.compiled(kernel, requests, gradient=True)
    X = np.random.default_rng(0).uniform(size=(8, 3))
    batch.fill(X, X[:3], kernel.parameter_vector)
    t2 = time.perf_counter()
    print(len(batch.outputs), t1 - t0, t2 - t1)
""")


def generate_and_load(kernel: str, order: int, cache: str) -> tuple[int, float, float]:
    env = dict(os.environ, KERNELGEN_CACHE_DIR=cache, NUMBA_CACHE_DIR=os.path.join(cache, "numba"))
    code = _LOAD.format(kernel=kernel, order=order)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    n, imp, gen = out.stdout.split()
    return int(n), float(imp), float(gen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="n = 300 and order <= 2 only")
    args = parser.parse_args()
    n = 300 if args.quick else 2000
    print(f"machine: {machine()}")
    print("\n== generate + compile (all (dx, dy) pairs of total order <= N, plus log-theta gradients), d = 3")
    print(f"{'kernel':14s} {'N':>2s} {'outputs':>8s} {'cold s':>8s} {'warm s':>8s}   (import time excluded)")
    for name, kernel in KERNELS.items():
        for order in (2,) if args.quick else (2, 4):
            with tempfile.TemporaryDirectory() as cache:
                n_out, _, cold = generate_and_load(kernel, order, cache)
                _, _, warm = generate_and_load(kernel, order, cache)
            print(f"{name:14s} {order:2d} {n_out:8d} {cold:8.2f} {warm:8.2f}")

    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, Matern

    import kernelgen

    X = np.random.default_rng(0).uniform(size=(n, 3))
    cases = {
        "rbf_ard": (kernelgen.kernels.rbf(3, length_scale=[0.3, 0.5, 0.7], variance=1.3),
                    ConstantKernel(1.3) * RBF([0.3, 0.5, 0.7])),
        "matern52_ard": (kernelgen.kernels.matern(3, 2.5, length_scale=[0.3, 0.5, 0.7], variance=1.3),
                         ConstantKernel(1.3) * Matern([0.3, 0.5, 0.7], nu=2.5)),
    }
    print(f"\n== K and its (n, n, p) log-hyperparameter gradient, n = {n}, d = 3 (best of 5)")
    print(f"{'kernel':14s} {'kernelgen s':>12s} {'sklearn s':>10s} {'ratio':>7s} {'max |diff|':>11s}")
    for name, (ours, theirs) in cases.items():
        t_ours = best_of(lambda ours=ours: ours(X, eval_gradient=True))
        t_sk = best_of(lambda theirs=theirs: theirs(X, eval_gradient=True), repeat=3)
        K1, G1 = ours(X, eval_gradient=True)
        K2, G2 = theirs(X, eval_gradient=True)
        diff = max(np.abs(K1 - K2).max(), np.abs(G1 - G2).max())
        print(f"{name:14s} {t_ours:12.4f} {t_sk:10.4f} {t_sk / t_ours:6.1f}x {diff:11.1e}")


if __name__ == "__main__":
    main()
