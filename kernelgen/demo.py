"""``kernelgen demo``: the seed example end to end.

Noisy samples (200 by default) of sin(2πx) on [0, 1], an RBF kernel fitted by maximizing the marginal
likelihood, and the posterior of df/dx against the truth 2π cos(2πx).
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from .gp import GaussianProcess
from .symbolic.library import rbf

__all__ = ["run_demo"]


def run_demo(out_dir: str = ".", n: int = 200, seed: int = 0, plot: bool = True,
             noise_std: float = 0.1, n_test: int = 101, verbose: bool = True) -> dict[str, Any]:
    """Fit the seed example and report the derivative posterior.

    Parameters
    ----------
    out_dir : str
        Where ``kernelgen_demo.png`` is written.
    n : int
        Number of noisy samples.
    seed : int
        Seed of the data.
    plot : bool
        Write the PNG (needs matplotlib, the ``plot`` extra; a message is printed without it).
    noise_std : float
        Standard deviation of the observation noise.
    n_test : int
        Test grid size for the RMSE and the coverage.
    verbose : bool
        Print the table and summary.

    Returns
    -------
    dict
        ``rmse``, ``coverage`` (fraction of the grid where the truth is inside mean +- 2 sd),
        ``kernel`` and ``noise`` (fitted), ``lml``, ``fit_seconds``, ``plot`` (path or None).
    """
    rng = np.random.default_rng(seed)
    X = np.sort(rng.uniform(0.0, 1.0, n))[:, None]
    y = np.sin(2 * np.pi * X[:, 0]) + noise_std * rng.standard_normal(n)
    gp = GaussianProcess(rbf(1, length_scale=0.5), noise=0.1, n_restarts=2, random_state=seed)
    t0 = time.perf_counter()
    gp.fit(X, y)
    fit_seconds = time.perf_counter() - t0
    grid = np.linspace(0.0, 1.0, n_test)[:, None]
    mean, std = gp.predict(grid, deriv=(0,), return_std=True)
    truth = 2 * np.pi * np.cos(2 * np.pi * grid[:, 0])
    rmse = float(np.sqrt(np.mean((mean - truth) ** 2)))
    coverage = float(np.mean(np.abs(mean - truth) <= 2 * std))
    values = gp.kernel_.values
    if verbose:
        print(f"kernelgen demo: df/dx of a GP fitted to {n} noisy samples of sin(2πx)")
        print(f"fitted: variance={values['variance']:.4g} length_scale={values['length_scale']:.4g} "
              f"noise={gp.noise_:.4g} (true {noise_std**2:.4g})  lml={gp.log_marginal_likelihood_value_:.3f}  "
              f"fit {fit_seconds:.2f} s")
        print(f"{'x':>6} {'mean':>10} {'2 sd':>9} {'truth':>10} {'error':>9}")
        for i in range(0, n_test, max(1, n_test // 10)):
            print(f"{grid[i, 0]:6.2f} {mean[i]:10.4f} {2 * std[i]:9.4f} {truth[i]:10.4f} {mean[i] - truth[i]:9.4f}")
        print(f"RMSE of df/dx on {n_test} points: {rmse:.4f};  coverage of the 95% band: {100 * coverage:.1f}%")
    path = None
    if plot:
        path = _plot(out_dir, X, y, grid, gp, mean, std, truth, verbose)
    return {"rmse": rmse, "coverage": coverage, "kernel": values, "noise": gp.noise_,
            "lml": gp.log_marginal_likelihood_value_, "fit_seconds": fit_seconds, "plot": path}


def _plot(out_dir: str, X: np.ndarray, y: np.ndarray, grid: np.ndarray, gp: GaussianProcess,
          mean: np.ndarray, std: np.ndarray, truth: np.ndarray, verbose: bool) -> str | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: skipping the plot (pip install 'kernelgen[plot]')")
        return None
    f_mean, f_std = gp.predict(grid, return_std=True)
    # Wide figure, legends right of the axes: no legend entry ever covers a band or the data.
    fig, (ax0, ax1) = plt.subplots(2, 1, figsize=(9.5, 7), sharex=True)
    x = grid[:, 0]
    ax0.plot(X[:, 0], y, ".", color="0.6", label=f"data ({len(y)} noisy samples)")
    ax0.plot(x, f_mean, "C0", label="posterior mean of f")
    ax0.fill_between(x, f_mean - 2 * f_std, f_mean + 2 * f_std, color="C0", alpha=0.2, label="mean ± 2 sd of f")
    ax0.plot(x, np.sin(2 * np.pi * x), "k--", label="truth sin(2πx)")
    ax0.set_ylabel("f(x)")
    ax0.set_title(f"GP fit of {len(y)} noisy samples of sin(2πx) and its derivative (kernelgen demo)")
    ax1.plot(x, mean, "C1", label="posterior mean of df/dx")
    ax1.fill_between(x, mean - 2 * std, mean + 2 * std, color="C1", alpha=0.25, label="mean ± 2 sd of df/dx")
    ax1.plot(x, truth, "k--", label="truth 2π cos(2πx)")
    ax1.set_xlabel("x")
    ax1.set_ylabel("df/dx")
    for ax in (ax0, ax1):
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    fig.tight_layout()
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "kernelgen_demo.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    if verbose:
        print(f"plot written to {path}")
    return path
