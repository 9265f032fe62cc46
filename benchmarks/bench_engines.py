"""numba vs torch vs JAX (vs GPyTorch's RBFKernelGrad) on this machine, in one run (not a test).

Tasks, ARD RBF in d = 3 (variance 1.3, length scales 0.3, 0.5, 0.7):

A. the kernel matrix with its log-hyperparameter gradient, K (n, n) and dK (n, n, p), n = 1000:
   numba ``fill``, the generated torch and (jitted) JAX modules; GPyTorch's ``RBFKernel`` with
   autograd of sum(W * K) as the peer (it has no dK tensor of its own).
B. a derivative-observation log marginal likelihood and its gradient: f and its 3 partials at
   n = 150 points (600 observations), noise 1e-3: kernelgen's ``GaussianProcess`` (numba + LAPACK),
   GPyTorch ``ExactGP`` with ``SymbolicKernelGrad`` (torch autograd), tinygp with ``TinygpKernel``
   (jit(value_and_grad)), and GPyTorch's own ``ScaleKernel(RBFKernelGrad)``.

Times are the best of 3 after a warm-up (compilation excluded). The device is reported: on a
machine with a GPU torch and JAX use it (KeOps too), numba does not.

    python benchmarks/bench_engines.py
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import machine  # noqa: E402

ELL, SF2, NOISE = [0.3, 0.5, 0.7], 1.3, 1e-3


def best(func, repeat: int = 3) -> float:  # noqa: ANN001
    func()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    import gpytorch
    import jax
    import torch

    jax.config.update("jax_enable_x64", True)
    torch.set_default_dtype(torch.float64)
    import jax.numpy as jnp
    import numba
    import tinygp

    import kernelgen.runtime as rt
    from kernelgen import GaussianProcess, kernels
    from kernelgen.gpytorch import SymbolicKernelGrad
    from kernelgen.jax import TinygpKernel
    from kernelgen.runtime.engines import engine_module
    from kernelgen.symbolic.request import Request

    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(machine())
    print(f"torch {torch.__version__} on {device} ({torch.get_num_threads()} threads); jax {jax.__version__} on "
          f"{jax.devices()[0].platform}; gpytorch {gpytorch.__version__}; tinygp {tinygp.__version__}; "
          f"numba threads {numba.get_num_threads()}")
    k = kernels.rbf(3, length_scale=ELL, variance=SF2)
    p = k.parameter_vector
    rng = np.random.default_rng(0)

    # ---------------------------------------------------------------- A
    n = 1000
    X = rng.uniform(size=(n, 3))
    batch = rt.compiled(k, [Request()], gradient=True)
    tmod = engine_module(k, [Request()], True, "torch")
    jmod = engine_module(k, [Request()], True, "jax")
    Xt = torch.tensor(X, device=device)
    pt = [torch.tensor(v, device=device) for v in p]
    jfill = jax.jit(lambda x, q: jnp.stack(jmod(x[:, None, :], x[None, :, :], list(q)), -1))
    Xj, pj = jnp.asarray(X), jnp.asarray(p)
    peer = gpytorch.kernels.ScaleKernel(gpytorch.kernels.RBFKernel(ard_num_dims=3)).to(device)
    peer.base_kernel.lengthscale = torch.tensor([ELL])
    peer.outputscale = SF2
    W = torch.tensor(rng.standard_normal((n, n)), device=device)

    def gpytorch_a() -> None:
        K = peer(Xt).to_dense()
        torch.autograd.grad((W * K).sum(), list(peer.parameters()))

    ref = batch.fill(X, None, p)
    got_t = torch.stack(tmod(Xt[:, None, :], Xt[None, :, :], pt), -1).cpu().numpy()
    got_j = np.asarray(jfill(Xj, pj))
    print(f"\n== A. K and dK/dlog(theta) (n, n, {len(p)}), n = {n}, d = 3 "
          f"(max |torch - numba| {np.abs(got_t - ref).max():.1e}, |jax - numba| {np.abs(got_j - ref).max():.1e})")
    rows = [
        ("kernelgen numba fill", best(lambda: batch.fill(X, None, p))),
        ("kernelgen torch module", best(lambda: torch.stack(tmod(Xt[:, None, :], Xt[None, :, :], pt), -1))),
        ("kernelgen jax module (jit)", best(lambda: jfill(Xj, pj).block_until_ready())),
        ("GPyTorch RBFKernel + autograd of sum(W*K) (peer)", best(gpytorch_a)),
    ]
    for name, t in rows:
        print(f"  {name:52s} {t * 1e3:9.1f} ms")

    # ---------------------------------------------------------------- B
    m = 150
    Z = rng.uniform(size=(m, 3))
    f = np.sin(3 * Z[:, 0]) + Z[:, 1] * Z[:, 2]
    grad = np.column_stack([3 * np.cos(3 * Z[:, 0]), Z[:, 2], Z[:, 1]])
    derivs = [(), (0,), (1,), (2,)]
    ours = GaussianProcess(k, noise=NOISE, noise_bounds="fixed", optimizer=None)
    ours.fit(np.vstack([Z] * 4), np.concatenate([f, *grad.T]), deriv=[d for d in derivs for _ in Z])
    theta = ours.theta_

    class Model(gpytorch.models.ExactGP):
        def __init__(self, x, y, likelihood, covar) -> None:  # noqa: ANN001
            super().__init__(x, y, likelihood)
            self.covar_module = covar

        def forward(self, x):  # noqa: ANN001, ANN202
            return gpytorch.distributions.MultitaskMultivariateNormal(x.new_zeros(x.shape[0], 4), self.covar_module(x))

    def exact_gp(covar):  # noqa: ANN001, ANN202
        likelihood = gpytorch.likelihoods.MultitaskGaussianLikelihood(num_tasks=4, has_task_noise=False)
        likelihood.noise = NOISE
        y = torch.tensor(np.column_stack([f, grad]), device=device)
        model = Model(torch.tensor(Z, device=device), y, likelihood, covar).to(device)
        mll = gpytorch.mlls.ExactMarginalLogLikelihood(likelihood, model)
        model.train()

        def run() -> float:
            with gpytorch.settings.max_cholesky_size(10**5):
                value = mll(model(*model.train_inputs), y) * y.numel()
                torch.autograd.grad(value, [q for q in model.covar_module.parameters() if q.requires_grad])
            return value.item()

        return run

    theirs = gpytorch.kernels.ScaleKernel(gpytorch.kernels.RBFKernelGrad(ard_num_dims=3))
    theirs.base_kernel.lengthscale = torch.tensor([ELL])
    theirs.outputscale = SF2
    run_sym, run_peer = exact_gp(SymbolicKernelGrad(k)), exact_gp(theirs)
    Xd, idx = jnp.asarray(np.vstack([Z] * 4)), jnp.asarray(np.repeat(np.arange(4), m))
    yd = jnp.asarray(np.concatenate([f, *grad.T]))

    def loglike(params):  # noqa: ANN001, ANN202
        gp = tinygp.GaussianProcess(TinygpKernel(k, derivs, params=params), (Xd, idx), diag=NOISE)
        return gp.log_probability(yd)

    jgrad = jax.jit(jax.value_and_grad(loglike))
    lml = ours.log_marginal_likelihood(theta, eval_gradient=True)[0]
    values = {"numba": lml, "torch": run_sym(), "peer": run_peer(), "jax": float(jgrad(jnp.asarray(p))[0])}
    print(f"\n== B. derivative-observation LML + gradient, {m} points x (f + 3 partials) = {4 * m} observations "
          f"(LML: numba {values['numba']:.10f}, torch {values['torch']:.10f}, jax {values['jax']:.10f}, "
          f"GPyTorch RBFKernelGrad {values['peer']:.10f})")
    rows = [
        ("kernelgen GaussianProcess (numba + LAPACK)", best(lambda: ours.log_marginal_likelihood(theta, True))),
        ("GPyTorch ExactGP + SymbolicKernelGrad (torch)", best(run_sym)),
        ("tinygp + TinygpKernel (jax, jit value_and_grad)", best(lambda: jgrad(jnp.asarray(p))[0].block_until_ready())),
        ("GPyTorch ExactGP + RBFKernelGrad (peer)", best(run_peer)),
    ]
    for name, t in rows:
        print(f"  {name:52s} {t * 1e3:9.1f} ms")


if __name__ == "__main__":
    main()
