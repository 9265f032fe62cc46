"""GaussianProcess benchmarks against scikit-learn and a NumPy/SciPy closed form (not a test).

Setup (issue 3): d = 3, ARD RBF, sf2 = 1.3, ell = (0.3, 0.5, 0.7), noise 1e-2, X ~ U[0, 1]^3.
Each case runs in its own subprocess so ``ru_maxrss`` is that case's peak resident memory.

    python benchmarks/bench_gp.py            # full sizes (d: n = 20000 takes minutes)
    python benchmarks/bench_gp.py --quick    # small sizes
    python benchmarks/bench_gp.py --case a   # one case
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import machine  # noqa: E402

SF2, ELL, NOISE = 1.3, (0.3, 0.5, 0.7), 1e-2


def data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, 3))
    y = np.sin(3 * X[:, 0]) + X[:, 1] ** 2 - 0.5 * X[:, 2] + 0.1 * rng.standard_normal(n)
    return X, y


def ours(**kw):  # noqa: ANN003, ANN201
    from kernelgen import GaussianProcess, kernels

    # noise_bounds as scikit-learn's WhiteKernel default, so both optimize over the same box.
    return GaussianProcess(kernels.rbf(3, length_scale=list(ELL), variance=SF2), noise=NOISE,
                           noise_bounds=(1e-5, 1e5), **kw)


def sk(**kw):  # noqa: ANN003, ANN201
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, WhiteKernel
    from sklearn.gaussian_process.kernels import ConstantKernel as C

    return GaussianProcessRegressor(C(SF2) * RBF(list(ELL)) + WhiteKernel(NOISE), alpha=0.0, **kw)


def best(f, repeat: int = 3) -> float:  # noqa: ANN001
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def interleaved(f, g, repeat: int = 5) -> tuple[float, float]:  # noqa: ANN001
    """Best times of f and g, alternating runs so load drift on a shared machine hits both alike."""
    tf, tg = [], []
    for _ in range(repeat):
        tf.append(best(f, 1))
        tg.append(best(g, 1))
    return min(tf), min(tg)


def case_a(n: int) -> dict:
    X, y = data(n)
    g = ours(optimizer=None).fit(X, y)
    r = sk(optimizer=None).fit(X, y)
    theta = r.kernel_.theta
    g.log_marginal_likelihood(theta, eval_gradient=True)  # warm (compile/load)
    t_ours, t_sk = interleaved(lambda: g.log_marginal_likelihood(theta, eval_gradient=True),
                               lambda: r.log_marginal_likelihood(theta, eval_gradient=True))
    a, ga = g.log_marginal_likelihood(theta, eval_gradient=True)
    b, gb = r.log_marginal_likelihood(theta, eval_gradient=True)
    return {"n": n, "ours_s": t_ours, "sklearn_s": t_sk, "ratio": t_sk / t_ours,
            "lml_rel_diff": abs(a - b) / abs(b), "grad_rel_diff": float(np.max(np.abs(ga - gb)) / np.max(np.abs(gb)))}


def closed_form_gradient(X: np.ndarray, alpha: np.ndarray, L: np.ndarray, Xs: np.ndarray,
                         chunk: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """Straightforward NumPy/SciPy reference: gradient mean and variance, chunked solve_triangular."""
    from scipy.linalg import solve_triangular

    ell2 = np.array(ELL) ** 2
    mean = np.empty((len(Xs), 3))
    var = np.empty((len(Xs), 3))
    for s in range(0, len(Xs), chunk):
        xs = Xs[s:s + chunk]
        diff = xs[:, None, :] - X[None, :, :]  # (c, n, 3)
        k = SF2 * np.exp(-0.5 * np.sum(diff**2 / ell2, axis=-1))
        for a in range(3):
            ka = -k * diff[:, :, a] / ell2[a]  # d k(x*, x_i) / d x*_a
            mean[s:s + chunk, a] = ka @ alpha
            v = solve_triangular(L, ka.T, lower=True, check_finite=False)
            var[s:s + chunk, a] = SF2 / ell2[a] - np.sum(v**2, axis=0)
    return mean, var


def case_b(n: int, m: int) -> dict:
    X, y = data(n)
    g = ours(optimizer=None).fit(X, y)
    Xs = np.random.default_rng(1).uniform(size=(m, 3))
    g.predict_gradient(Xs[:10], return_std=True)  # warm (compile or load the modules)
    g.predict_gradient(Xs[:10])
    t = time.perf_counter()
    mean, std = g.predict_gradient(Xs, return_std=True)
    t_ours = time.perf_counter() - t
    t = time.perf_counter()
    g.predict_gradient(Xs)
    t_mean_only = time.perf_counter() - t
    L = np.asarray(g.L_)
    t = time.perf_counter()
    mr, vr = closed_form_gradient(X, g.alpha_, L, Xs)
    t_ref = time.perf_counter() - t
    t = time.perf_counter()
    mr2 = None
    ell2 = np.array(ELL) ** 2
    mr2 = np.empty((m, 3))
    for s in range(0, m, 1000):
        diff = Xs[s:s + 1000, None, :] - X[None]
        k = SF2 * np.exp(-0.5 * np.sum(diff**2 / ell2, axis=-1))
        mr2[s:s + 1000] = np.einsum("ij,ijk,j->ik", k, -diff / ell2, g.alpha_)
    t_ref_mean = time.perf_counter() - t
    return {"n": n, "m": m, "ours_mean_var_s": t_ours, "ref_mean_var_s": t_ref, "ratio_mean_var": t_ref / t_ours,
            "ours_mean_only_s": t_mean_only, "ref_mean_only_s": t_ref_mean, "ratio_mean_only": t_ref_mean / t_mean_only,
            "max_mean_diff": float(np.max(np.abs(mean - mr))),
            "max_var_rel_diff": float(np.max(np.abs(std**2 - vr) / vr))}


def case_b_memory(n: int, m: int) -> dict:
    X, y = data(n)
    g = ours(optimizer=None).fit(X, y)
    Xs = np.random.default_rng(1).uniform(size=(m, 3))
    g.predict_gradient(Xs[:10], return_std=True)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    g.predict_gradient(Xs, return_std=True)
    return {"n": n, "m": m, "seconds": time.perf_counter() - t, "maxrss_before_MiB": before / 1024}


def case_c(n: int) -> dict:
    import warnings

    X, y = data(n)
    ours(optimizer="L-BFGS-B").fit(X[:20], y[:20])  # warm compile
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        g = ours().fit(X, y)
        t_ours = time.perf_counter() - t
        t = time.perf_counter()
        r = sk().fit(X, y)
        t_sk = time.perf_counter() - t
    return {"n": n, "ours_s": t_ours, "sklearn_s": t_sk, "ratio": t_sk / t_ours,
            "ours_lml": g.log_marginal_likelihood_value_, "sklearn_lml": r.log_marginal_likelihood_value_,
            "max_theta_diff": float(np.max(np.abs(g.theta_ - r.kernel_.theta)))}


def case_d(n: int) -> dict:
    X, y = data(n)
    g = ours(optimizer=None).fit(X[:50], y[:50])
    g.log_marginal_likelihood(g.theta_, eval_gradient=True)  # warm
    from kernelgen.posterior import TrainingProblem

    problem = TrainingProblem(g.kernel_, X, y, ((),), np.zeros(n, np.int64))
    t = time.perf_counter()
    lml, grad, gn = problem.log_marginal_likelihood(g.kernel_.parameter_vector, NOISE, eval_gradient=True)
    return {"n": n, "seconds": time.perf_counter() - t, "lml": lml}


CASES = {"a": case_a, "b": case_b, "b_mem": case_b_memory, "c": case_c, "d": case_d}


def run_child(name: str, kwargs: dict, blas_threads: int) -> dict:
    import scipy.linalg  # noqa: F401  (load every BLAS before limiting: threadpoolctl only sees loaded ones)
    import sklearn.gaussian_process  # noqa: F401
    from threadpoolctl import threadpool_limits

    import kernelgen  # noqa: F401

    with threadpool_limits(limits=blas_threads, user_api="blas"):
        out = CASES[name](**kwargs)
    out["peak_rss_MiB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--case", choices=sorted(CASES), action="append")
    ap.add_argument("--blas-threads", type=int, default=1,
                    help="BLAS threads for both libraries (default 1: on 2 shared cores OpenBLAS's spinning "
                         "threads fight numba's thread pool and other load; 1 thread was faster for both)")
    ap.add_argument("--numba-threads", type=int, default=0, help="NUMBA_NUM_THREADS for the cases (default: all)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        name, kw = json.loads(args.child)
        print(json.dumps(run_child(name, kw, args.blas_threads)))
        return
    q = args.quick
    plan = {
        "a": {"n": 300 if q else 2000},
        "b": {"n": 300 if q else 2000, "m": 2000 if q else 20000},
        "b_mem": {"n": 300 if q else 2000, "m": 10000 if q else 100000},
        "c": {"n": 100 if q else 500},
        "d": {"n": 2000 if q else 20000},
    }
    print(machine())
    print(f"BLAS threads: {args.blas_threads}; numba threads: {args.numba_threads or 'default'}; sizes: {plan}")
    for name in args.case or list(plan):
        env = dict(os.environ)
        if args.numba_threads:
            env["NUMBA_NUM_THREADS"] = str(args.numba_threads)
        proc = subprocess.run([sys.executable, __file__, "--blas-threads", str(args.blas_threads),
                               "--child", json.dumps([name, plan[name]])],
                              capture_output=True, text=True, env=env)
        if proc.returncode:
            print(f"case {name} failed:\n{proc.stderr[-2000:]}")
            continue
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"({name}) " + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in res.items()),
              flush=True)


if __name__ == "__main__":
    main()
