"""KeOps operators: K v and a first-derivative block without forming K, against numba (dense).

Few formulas on purpose: each one is compiled by KeOps (g++) on first use. The n = 200 000 run is
``benchmarks/bench_keops.py``.
"""

from __future__ import annotations

import numpy as np

import kernelgen.runtime as rt
from kernelgen import kernels

from .conftest import engine

gpytorch = engine("gpytorch")
engine("pykeops")

N = 3000


def _points(n: int, seed: int = 5) -> np.ndarray:
    X = np.random.default_rng(seed).uniform(-2, 2, (n, 3))
    X[7] = X[3]  # coincident points reach the r = 0 branch inside the formula
    return X


def test_keops_value_and_derivative_block_matvec(torch) -> None:
    from kernelgen.gpytorch import SymbolicKernel, SymbolicKernelGrad

    k = kernels.matern(3, nu=2.5, length_scale=0.9, variance=1.3)
    X = _points(N)
    v = np.random.default_rng(6).standard_normal((N, 1))
    batch = rt.compiled(k, [((), ()), ((0,), ())])
    rows = slice(0, 200)
    dense = batch.fill(X[rows], X, k.parameter_vector)  # numba reference on a subset of rows
    with gpytorch.settings.max_cholesky_size(100):
        op = SymbolicKernel(k, backend="keops")(torch.tensor(X)).evaluate_kernel()
        assert type(op).__name__ == "KernelLinearOperator"
        Kv = (op @ torch.tensor(v)).detach().numpy()
        np.testing.assert_allclose(Kv[rows], dense[:, :, 0] @ v, rtol=1e-12, atol=1e-10)
        # Joint (f, df/dx0) covariance, point-major: rows 2i are f, 2i+1 are df/dx0 at X[i].
        grad_op = SymbolicKernelGrad(k, derivs=[(), (0,)], backend="keops")(torch.tensor(X)).evaluate_kernel()
        w = np.random.default_rng(7).standard_normal((2 * N, 1))
        Gw = (grad_op @ torch.tensor(w)).detach().numpy()
        cross = rt.compiled(k, [((), ()), ((), (0,)), ((0,), ()), ((0,), (0,))]).fill(X[rows], X, k.parameter_vector)
        f_rows = cross[:, :, 0] @ w[0::2] + cross[:, :, 1] @ w[1::2]
        d_rows = cross[:, :, 2] @ w[0::2] + cross[:, :, 3] @ w[1::2]
        np.testing.assert_allclose(Gw[0:400:2], f_rows, rtol=1e-12, atol=1e-10)
        np.testing.assert_allclose(Gw[1:400:2], d_rows, rtol=1e-12, atol=1e-10)


def test_keops_hyperparameter_gradient_matches_dense(torch) -> None:
    from kernelgen.gpytorch import SymbolicKernel

    k = kernels.matern(3, nu=2.5, length_scale=0.9, variance=1.3)
    X = torch.tensor(_points(800))
    v = torch.tensor(np.random.default_rng(8).standard_normal((800, 1)))

    def quad(backend: str) -> list[float]:
        sym = SymbolicKernel(k, backend=backend)
        with gpytorch.settings.max_cholesky_size(100):
            value = (v * (sym(X).evaluate_kernel() @ v)).sum()
        return [g.item() for g in torch.autograd.grad(value, list(sym.parameters()))]

    np.testing.assert_allclose(quad("keops"), quad("torch"), rtol=1e-10)
