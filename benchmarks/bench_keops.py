"""KeOps: K v and a first-derivative block (dK/dx0) v for n points in d = 3, never forming K (not a test).

The kernelgen KeOps module of an ARD RBF (``--kernel matern52``: Matérn 5/2) gives both formulas;
the result is compared with numba's matrix-free product (``matvec_multi``) on a subset of rows.
Peak resident memory is this process's ``ru_maxrss``; a dense K would take 8 n^2 bytes (n = 200 000: 320 GB).

    python benchmarks/bench_keops.py --n 200000     # the issue's size (minutes on 2 CPU cores)
    python benchmarks/bench_keops.py --n 20000
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import machine  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--check-rows", type=int, default=100)
    parser.add_argument("--kernel", choices=("rbf", "matern52"), default="rbf")
    args = parser.parse_args()
    import pykeops
    import torch
    from pykeops.torch import LazyTensor

    import kernelgen.runtime as rt
    from kernelgen import kernels
    from kernelgen.runtime.engines import engine_module
    from kernelgen.symbolic.request import Request

    pykeops.set_verbose(False)
    torch.set_default_dtype(torch.float64)
    print(machine())
    print(f"torch {torch.__version__} ({torch.get_num_threads()} threads), pykeops {pykeops.__version__}, "
          f"device: {'cuda' if torch.cuda.is_available() else 'cpu'}")
    n = args.n
    if args.kernel == "rbf":
        k = kernels.rbf(3, length_scale=[0.3, 0.4, 0.5], variance=1.3)
    else:
        k = kernels.matern(3, nu=2.5, length_scale=0.4, variance=1.3)
    print(f"kernel: {k.name}, d = 3, outputs k and dk/dx0")
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (n, 3))
    v = rng.standard_normal((n, 1))
    requests = [Request(), Request((0,), ())]
    module = engine_module(k, requests, False, "keops")
    x_i = LazyTensor(torch.tensor(X)[:, None, :])
    y_j = LazyTensor(torch.tensor(X)[None, :, :])
    p = [LazyTensor(torch.tensor([value])) for value in k.parameter_vector]
    outs = module(x_i, y_j, p)
    vt = torch.tensor(v)
    results = {}
    small = module(LazyTensor(torch.tensor(X[:50])[:, None, :]), LazyTensor(torch.tensor(X[:50])[None, :, :]), p)
    for a, (name, formula) in enumerate(zip(("K v", "dK/dx0 v"), outs)):
        _ = small[a] @ vt[:50]  # compiles the formula on a tiny problem (cached on disk afterwards)
        start = time.perf_counter()
        results[name] = (formula @ vt).numpy()
        print(f"{name}: n = {n}: {time.perf_counter() - start:.1f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak:.0f} MiB (dense K would be {8 * n * n / 2**30:.0f} GiB)")
    rows = np.arange(0, n, max(1, n // args.check_rows))[: args.check_rows]
    batch = rt.compiled(k, requests)
    ref = batch.matvec_multi(X[rows], X, k.parameter_vector, np.zeros(n, np.int64),
                             np.array([[0], [1]], dtype=np.int64), v)
    for a, name in enumerate(("K v", "dK/dx0 v")):
        err = np.abs(results[name][rows, 0] - ref[:, a, 0]).max() / np.abs(ref[:, a, 0]).max()
        print(f"{name}: max relative difference to numba on {len(rows)} rows: {err:.2e}")


if __name__ == "__main__":
    main()
