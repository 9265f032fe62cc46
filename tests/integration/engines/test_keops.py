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
        assert type(grad_op).__name__ == "SymbolicGradOperator"
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


def test_keops_all_outputs_match_numba(torch) -> None:
    """Every output of an order-2 batch with log-theta gradients, as one vector-valued KeOps formula.

    Random and coincident pairs; the reduction sum_j F_ij v_j of all outputs at once (one compile)
    is compared with numba's dense matrices times v. CI: Matérn 5/2 and the composite (two radii,
    branches) in 1-D, because KeOps compile time grows with the formula (the 2-D order-2 batch
    with gradients takes minutes); ``KERNELGEN_FULL_SWEEP=1``: every case kernel in 2-D.
    """
    import os

    from pykeops.torch import LazyTensor

    from kernelgen.runtime.engines import engine_module

    from .cases import cases, order2_requests, points

    full = os.environ.get("KERNELGEN_FULL_SWEEP") == "1"
    dim = 2 if full else 1
    names = list(cases(dim)) if full else ["matern52", "composite"]
    for name in names:
        kernel = cases(dim)[name]
        requests = order2_requests(kernel)
        X, Y = points(kernel.dim)
        batch = rt.compiled(kernel, requests, gradient=True)
        ref = batch.fill(X, Y, kernel.parameter_vector)
        module = engine_module(kernel, requests, True, "keops")
        assert module.outputs == batch.outputs
        p = [LazyTensor(torch.tensor([v])) for v in kernel.parameter_vector]
        outs = module(LazyTensor(torch.tensor(X)[:, None, :]), LazyTensor(torch.tensor(Y)[None, :, :]), p)
        v = np.random.default_rng(9).standard_normal(len(Y))
        # One formula of dimension N_OUT: sum_j out_k(x_i, y_j) v_j for every output k.
        got = (LazyTensor.concatenate(outs, -1) * LazyTensor(torch.tensor(v)[None, :, None])).sum(dim=1).numpy()
        want = np.einsum("ijk,j->ik", ref, v)
        scale = np.maximum(1.0, np.abs(ref).max(axis=(0, 1)))
        assert np.all(np.abs(got - want) / scale <= 1e-12 * len(Y)), name
