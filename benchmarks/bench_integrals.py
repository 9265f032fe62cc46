"""Kernel-integral benchmarks: kernelgen against emukit and GPy's integral kernel, in one run (not a test).

Setup (issue 9), 1-D RBF, variance 1.3, length scale 0.15, noise 1e-2 on [0, 1]:

* **a: 1000 box integrals of a fitted GP** with n = 2000 point observations: posterior mean and
  std of int f over 1000 random intervals. kernelgen: ``predict_integral(..., return_std=True)``.
  emukit (0.5.1): one ``QuadratureRBFLebesgueMeasure`` per interval (emukit integrates over one
  fixed domain per kernel object), its ``qK`` (kernel mean at the 2000 points) and ``qKq``, with
  the same Cholesky factor for the posterior (emukit has no box-by-box API). Also the kernel means
  alone (the (1000, 2000) box x point block) on both sides.
* **b: 500 integral observations** (bins of [0, 1]) with the 2000 points: one log marginal
  likelihood + gradient evaluation and a full ``fit`` by kernelgen; the 500 x 500 box x box
  covariance and its hyperparameter gradient against GPy's ``Integral_Limits`` kernel (RBF only,
  Python loops, integral inputs only; emukit has no integral observations).

Values are compared in the same run (largest relative difference printed). Threads: numba's
default (all cores) for kernelgen; emukit and GPy are NumPy code (BLAS threads as configured).

    python benchmarks/bench_integrals.py            # the issue's sizes
    python benchmarks/bench_integrals.py --quick    # small sizes
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import machine  # noqa: E402

SF2, ELL, NOISE = 1.3, 0.15, 1e-2


def _timed(func: Callable[[], object], repeat: int = 3) -> tuple[float, object]:
    """Best wall time of ``repeat`` calls after a warm-up call (compilation excluded), and the last result."""
    result = func()
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def _data(n: int, boxes: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, 1))
    y = np.sin(2 * np.pi * X[:, 0]) + 0.1 * rng.standard_normal(n)
    lower = rng.uniform(0, 0.9, size=(boxes, 1))
    upper = lower + rng.uniform(0.001, 0.3, size=(boxes, 1))
    return X, y, lower, upper


def _ours(X: np.ndarray, y: np.ndarray, **fit: object):  # noqa: ANN202
    from kernelgen import GaussianProcess, kernels

    gp = GaussianProcess(kernels.rbf(1, length_scale=ELL, variance=SF2), noise=NOISE, noise_bounds="fixed",
                         optimizer=None)
    return gp.fit(X, y, **fit)


def _emukit_kernel(lo: float, up: float):  # noqa: ANN202
    import GPy
    from emukit.model_wrappers.gpy_quadrature_wrappers import RBFGPy
    from emukit.quadrature.kernels import QuadratureRBFLebesgueMeasure
    from emukit.quadrature.measures import BoxDomain, LebesgueMeasure

    rbf = RBFGPy(GPy.kern.RBF(1, variance=SF2, lengthscale=ELL))
    return QuadratureRBFLebesgueMeasure(rbf, LebesgueMeasure(BoxDomain(bounds=[(lo, up)])))


def case_a(n: int, boxes: int) -> None:
    from scipy.linalg import cho_solve, solve_triangular

    from kernelgen.posterior.functionals import Rows, cross_covariance

    X, y, lower, upper = _data(n, boxes)
    gp = _ours(X, y)
    t_ours, (mean, std) = _timed(lambda: gp.predict_integral(lower, upper, return_std=True))
    points = Rows.points(X, [()], np.zeros(n, dtype=np.int64))
    kernel = gp.kernel_
    t_means, ours_q = _timed(lambda: cross_covariance(kernel, Rows.boxes(lower, upper), points,
                                                      kernel.parameter_vector))

    L = gp.L_

    def emukit_means() -> np.ndarray:
        return np.vstack([_emukit_kernel(lo, up).qK(X) for lo, up in zip(lower[:, 0], upper[:, 0])])

    def emukit_posterior() -> tuple[np.ndarray, np.ndarray]:
        q = np.empty((boxes, n))
        qq = np.empty(boxes)
        for i, (lo, up) in enumerate(zip(lower[:, 0], upper[:, 0])):
            k = _emukit_kernel(lo, up)
            q[i] = k.qK(X)[0]
            qq[i] = k.qKq()
        V = solve_triangular(L, q.T, lower=True)
        return q @ cho_solve((L, True), y), np.sqrt(np.maximum(qq - np.sum(V * V, axis=0), 0.0))

    t_em_means, em_q = _timed(emukit_means, repeat=1)
    t_em, (em_mean, em_std) = _timed(emukit_posterior, repeat=1)
    print(f"a: {boxes} box integrals, n = {n} points")
    print(f"   posterior mean + std: kernelgen {t_ours * 1e3:8.1f} ms, emukit {t_em * 1e3:8.1f} ms, "
          f"ratio {t_em / t_ours:6.1f}x; max rel diff mean {_rel(mean, em_mean):.1e}, std {_rel(std, em_std):.1e}")
    print(f"   kernel means ({boxes} x {n}): kernelgen {t_means * 1e3:8.1f} ms, emukit {t_em_means * 1e3:8.1f} ms, "
          f"ratio {t_em_means / t_means:6.1f}x; max rel diff {_rel(ours_q, em_q):.1e}")


def _gpy_integral(lower: np.ndarray, upper: np.ndarray):  # noqa: ANN202
    import GPy

    # GPy's integral kernel is exp(-(x - y)^2 / l^2): l = sqrt(2) * ell; inputs are [upper, lower].
    kern = GPy.kern.Integral_Limits(2, variances=SF2, lengthscale=math.sqrt(2) * ELL)
    return kern, np.hstack([upper, lower])


def case_b(n: int, k: int) -> None:
    from kernelgen.posterior.functionals import FunctionalCovariance

    X, y, _, _ = _data(n, 0)
    edges = np.linspace(0, 1, k + 1)
    lower, upper = edges[:-1, None], edges[1:, None]
    values = (np.cos(2 * np.pi * lower[:, 0]) - np.cos(2 * np.pi * upper[:, 0])) / (2 * np.pi)
    gp = _ours(X, y, integrals=(lower, upper, values))
    t_lml, _ = _timed(lambda: gp.log_marginal_likelihood(gp.theta_, eval_gradient=True))
    fitting = _free_fit(X, y, lower, upper, values)
    start = time.perf_counter()
    fitting.fit(X, y, integrals=(lower, upper, values))
    t_fit = time.perf_counter() - start
    print(f"b: {k} integral observations + n = {n} points (K is {n + k} x {n + k})")
    print(f"   kernelgen LML + gradient {t_lml * 1e3:8.1f} ms; full fit (3 hyperparameters, warm modules) "
          f"{t_fit:6.2f} s, fitted {fitting.kernel_.values}, noise {fitting.noise_:.3g}")

    kernel = gp.kernel_
    cov = FunctionalCovariance(kernel, np.empty((0, 1)), [()], np.zeros(0, dtype=np.int64), lower, upper)
    params = kernel.parameter_vector
    W = np.random.default_rng(1).standard_normal((k, k))
    W = W + W.T
    t_K, K = _timed(lambda: cov.matrix(params))
    t_g, grad = _timed(lambda: cov.contract(params, W))
    kern, Z = _gpy_integral(lower, upper)
    t_gK, gK = _timed(lambda: kern.K(Z), repeat=1)

    def gpy_gradient() -> np.ndarray:
        kern.update_gradients_full(W, Z)
        return np.array([kern.variances.gradient[0], kern.lengthscale.gradient[0]])

    t_gg, gg = _timed(gpy_gradient, repeat=1)
    # kernelgen's contraction is sum W dK/dlog(theta) (variance, length scale); GPy's is sum W dK/dtheta.
    ours_g = np.asarray(grad) / np.array([kernel.values["variance"], kernel.values["length_scale"]])
    gpy_g = np.array([gg[0], gg[1] * math.sqrt(2)])
    print(f"   {k} x {k} box covariance: kernelgen {t_K * 1e3:8.1f} ms, GPy Integral_Limits {t_gK * 1e3:8.1f} ms, "
          f"ratio {t_gK / t_K:6.0f}x; max rel diff {_rel(K, gK):.1e}")
    print(f"   its hyperparameter gradient: kernelgen {t_g * 1e3:8.1f} ms, GPy {t_gg * 1e3:8.1f} ms, "
          f"ratio {t_gg / t_g:6.0f}x; max rel diff {_rel(ours_g, gpy_g):.1e}")


def _free_fit(X: np.ndarray, y: np.ndarray, lower: np.ndarray, upper: np.ndarray, values: np.ndarray):  # noqa: ANN202
    from kernelgen import GaussianProcess, kernels

    gp = GaussianProcess(kernels.rbf(1, length_scale=0.3, variance=1.0), noise=0.05)
    gp.fit(X[:50], y[:50], integrals=(lower[:10], upper[:10], values[:10]))  # compile the gradient modules
    return gp


def _rel(a: object, b: object) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    args = parser.parse_args()
    n, boxes, k = (200, 100, 50) if args.quick else (2000, 1000, 500)
    import numba

    print(machine())
    print(f"numba threads {numba.get_num_threads()}; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}; "
          "times are the best of 3 after a warm-up call for kernelgen, one call (after a warm-up) for emukit / GPy")
    case_a(n, boxes)
    case_b(n, k)


if __name__ == "__main__":
    main()
