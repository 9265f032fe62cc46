"""kernelgen.gpytorch: GPyTorch's gradient kernels, ExactGP with derivative observations, autograd.

References: GPyTorch's own ``RBFKernelGrad`` / ``Matern52KernelGrad`` (independent implementations),
central finite differences of the kernel where they disagree, and kernelgen's ``GaussianProcess``
(numba, NumPy linear algebra) for posteriors and the log marginal likelihood.
"""

from __future__ import annotations

import numpy as np
import pytest

from kernelgen import GaussianProcess, kernels

from .cases import cases
from .conftest import engine

gpytorch = engine("gpytorch")

NOISE = 1e-3


def _franke_like(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A 2-D test function and its gradient, as in GPyTorch's derivative examples."""
    x, y = Z[:, 0], Z[:, 1]
    f = np.sin(2 * x) * np.cos(y) + 0.5 * x * y
    grad = np.column_stack([2 * np.cos(2 * x) * np.cos(y) + 0.5 * y, -np.sin(2 * x) * np.sin(y) + 0.5 * x])
    return f, grad


def _gpytorch_grad(kernel_name: str, ard: bool, torch):
    length = [0.7, 1.3] if ard else [0.8, 0.8]
    if kernel_name == "rbf":
        base = gpytorch.kernels.RBFKernelGrad(ard_num_dims=2 if ard else None)
        ours = kernels.rbf(2, length_scale=length if ard else 0.8, variance=1.7)
    else:
        base = gpytorch.kernels.Matern52KernelGrad(ard_num_dims=2 if ard else None)
        ours = kernels.matern(2, nu=2.5, length_scale=length if ard else 0.8, variance=1.7)
    theirs = gpytorch.kernels.ScaleKernel(base)
    base.lengthscale = torch.tensor([length]) if ard else 0.8
    theirs.outputscale = 1.7
    return ours, theirs


@pytest.mark.parametrize(("kernel_name", "ard"), [("rbf", True), ("matern52", False), ("matern52", True)])
def test_symbolic_kernel_grad_equals_gpytorch(torch, kernel_name: str, ard: bool) -> None:
    from kernelgen.gpytorch import SymbolicKernelGrad

    ours, theirs = _gpytorch_grad(kernel_name, ard, torch)
    sym = SymbolicKernelGrad(ours)
    rng = np.random.default_rng(1)
    X = torch.tensor(rng.uniform(-1, 1, (6, 2)))
    Y = torch.tensor(rng.uniform(-1, 1, (5, 2)))
    Y[1] = X[3]  # a coincident pair inside a cross-covariance
    for a, b in ((X, Y), (X, X)):
        A, B = sym(a, b).to_dense(), theirs(a, b).to_dense()
        assert A.shape == B.shape == (a.shape[0] * 3, b.shape[0] * 3)
        np.testing.assert_allclose(A.detach().numpy(), B.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sym(X, diag=True).detach().numpy(), theirs(X, diag=True).detach().numpy(),
                               rtol=1e-12, atol=1e-12)
    # Sign and layout checked against finite differences of k itself (independent of both).
    k = ours
    x, y, h = X[0].numpy(), Y[2].numpy(), 1e-5
    fd = (k(x[None] + [h, 0], y[None]) - k(x[None] - [h, 0], y[None]))[0, 0] / (2 * h)
    assert abs(sym(X, Y).to_dense()[0 * 3 + 1, 2 * 3 + 0].item() - fd) < 1e-8


def test_num_outputs_and_subsets(torch) -> None:
    from kernelgen.gpytorch import SymbolicKernelGrad

    k = kernels.matern(2, nu=2.5, length_scale=0.9)
    sym = SymbolicKernelGrad(k, derivs=[(), (1,)])
    X = torch.randn(4, 2)
    assert sym.num_outputs_per_input(X, X) == 2
    K = sym(X).to_dense().detach().numpy()
    # Entry (i*2 + a, j*2 + b) is d^a/dx d^b/dy k(X_i, X_j).
    ref = k(X.numpy(), X.numpy(), dx=(1,), dy=())
    np.testing.assert_allclose(K[1::2, 0::2], ref, rtol=1e-12, atol=1e-14)
    second = SymbolicKernelGrad(kernels.rbf(2), derivs=[(), (0,), (0, 0)])
    assert second(X).to_dense().shape == (12, 12)
    with pytest.raises(ValueError, match="derivs"):
        SymbolicKernelGrad(k, derivs=[(2,)])


class _DerivativeGP(gpytorch.models.ExactGP):
    def __init__(self, x, y, likelihood, covar, q: int) -> None:
        super().__init__(x, y, likelihood)
        self.covar_module = covar
        self.q = q

    def forward(self, x):
        mean = x.new_zeros(x.shape[0], self.q)
        return gpytorch.distributions.MultitaskMultivariateNormal(mean, self.covar_module(x))


def _derivative_model(torch, kernel, Z, f, grad):
    from kernelgen.gpytorch import SymbolicKernelGrad

    covar = SymbolicKernelGrad(kernel)
    likelihood = gpytorch.likelihoods.MultitaskGaussianLikelihood(num_tasks=3, has_task_noise=False)
    likelihood.noise = NOISE
    train_y = torch.tensor(np.column_stack([f, grad]))
    return _DerivativeGP(torch.tensor(Z), train_y, likelihood, covar, 3), likelihood, train_y


@pytest.mark.parametrize("name", ["matern52", "composite"])
def test_exact_gp_with_derivatives_equals_kernelgen(torch, name: str) -> None:
    kernel = cases(2)[name]
    rng = np.random.default_rng(2)
    Z = rng.uniform(-1, 1, (15, 2))
    f, grad = _franke_like(Z)
    model, likelihood, train_y = _derivative_model(torch, kernel, Z, f, grad)

    derivs = [(), (0,), (1,)]
    ours = GaussianProcess(kernel, noise=NOISE, noise_bounds="fixed", optimizer=None)
    ours.fit(np.vstack([Z] * 3), np.concatenate([f, grad[:, 0], grad[:, 1]]), deriv=[d for d in derivs for _ in Z])

    # Log marginal likelihood and its log-theta gradient (autograd through the generated torch code).
    mll = gpytorch.mlls.ExactMarginalLogLikelihood(likelihood, model)
    model.train()
    likelihood.train()
    value = mll(model(*model.train_inputs), train_y) * train_y.numel()
    names = kernel.hyperparameter_names
    raws = [getattr(model.covar_module, f"raw_{n}") for n in names]
    grads = torch.autograd.grad(value, raws)
    theta = np.array([getattr(model.covar_module, n).item() for n in names])
    dtheta_draw = np.array([torch.sigmoid(r).item() for r in raws])  # Positive() is softplus
    lml, lml_grad = ours.log_marginal_likelihood(np.log(theta), eval_gradient=True)
    assert abs(value.item() - lml) <= 1e-10 * abs(lml)
    np.testing.assert_allclose(theta * np.array([g.item() for g in grads]) / dtheta_draw, lml_grad[:len(names)],
                               rtol=1e-9, atol=1e-9)

    # Posterior of f and its gradient at test points, coincident with training points included.
    Xs = np.vstack([rng.uniform(-1, 1, (8, 2)), Z[:2]])
    model.eval()
    likelihood.eval()
    with torch.no_grad(), gpytorch.settings.fast_pred_var(False), gpytorch.settings.max_cholesky_size(10**6):
        post = model(torch.tensor(Xs))
        mean, var = post.mean.numpy(), post.variance.numpy()
    ref_mean, ref_var = ours.predict_joint(Xs, derivs, cov="diag")
    np.testing.assert_allclose(mean, ref_mean, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(var, ref_var, rtol=1e-8, atol=1e-8)


def test_gpytorch_training_loop_runs(torch) -> None:
    kernel = kernels.matern(2, nu=2.5, length_scale=0.5, variance=0.5)
    rng = np.random.default_rng(3)
    Z = rng.uniform(-1, 1, (20, 2))
    f, grad = _franke_like(Z)
    model, likelihood, train_y = _derivative_model(torch, kernel, Z, f, grad)
    model.train()
    likelihood.train()
    mll = gpytorch.mlls.ExactMarginalLogLikelihood(likelihood, model)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(15):
        optimizer.zero_grad()
        loss = -mll(model(*model.train_inputs), train_y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]
    assert model.covar_module.length_scale.item() != 0.5


def test_symbolic_kernel_in_exact_gp_and_parameters(torch) -> None:
    from kernelgen.gpytorch import SymbolicKernel

    kernel = kernels.rbf(2, length_scale=[0.6, 1.2], variance=1.4).with_bounds(variance=(0.1, 10.0))
    sym = SymbolicKernel(kernel)
    names = dict(sym.named_parameters())
    assert set(names) == {"raw_variance", "raw_length_scale_0", "raw_length_scale_1"}
    assert isinstance(sym.raw_variance_constraint, gpytorch.constraints.Interval)
    assert isinstance(sym.raw_length_scale_0_constraint, gpytorch.constraints.Positive)
    assert abs(sym.variance.item() - 1.4) < 1e-12
    sym.length_scale_1 = 0.9
    assert abs(sym.to_kernel().values["length_scale_1"] - 0.9) < 1e-12
    X = torch.randn(7, 2)
    np.testing.assert_allclose(sym(X).to_dense().detach().numpy(), sym.to_kernel()(X.numpy()), rtol=1e-12)
    np.testing.assert_allclose(sym(X, diag=True).detach().numpy(), np.diag(sym.to_kernel()(X.numpy())), rtol=1e-12)
    # Autograd through the generated code = kernelgen's symbolic log-theta gradient (chain rule
    # through Interval's sigmoid and Positive's softplus done by autograd itself).
    W = torch.randn(7, 7)
    raws = [getattr(sym, f"raw_{n}") for n in sym._hp_names]
    grads = torch.autograd.grad((W * sym.forward(X, X)).sum(), raws)
    # d/dlog(theta) = theta * (dL/draw) / (dtheta/draw)
    dlog = [g.item() * getattr(sym, n).item() / torch.autograd.grad(getattr(sym, n), r)[0].item()
            for g, n, r in zip(grads, sym._hp_names, raws)]
    K, dK = sym.to_kernel()(X.numpy(), eval_gradient=True)
    np.testing.assert_allclose(dlog, np.einsum("ij,ijp->p", W.numpy(), dK), rtol=1e-12)
    fixed = SymbolicKernel(kernels.rbf(1).fix("variance"))
    assert not fixed.raw_variance.requires_grad
    batched = SymbolicKernel(kernels.matern(1, nu=1.5), batch_shape=torch.Size([3]))
    assert batched(torch.randn(3, 5, 1)).to_dense().shape == (3, 5, 5)
