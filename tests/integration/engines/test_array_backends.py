"""torch and JAX modules against numba (float64): values, every block to order 2, log-theta gradients.

The numba modules are themselves checked against SymPy/mpmath elsewhere; here the array backends
must print the same IR to the same numbers (1e-12 relative per output) at random and coincident
points, and autograd must agree with the symbolic hyperparameter gradients without NaN at x = x'.
"""

from __future__ import annotations

import numpy as np
import pytest

import kernelgen.runtime as rt
from kernelgen.runtime.engines import engine_module
from kernelgen.symbolic.request import Output, Request

from .cases import assert_close, cases, order2_requests, points

KERNELS = cases(2)


def _reference(kernel, requests, X, Y):
    batch = rt.compiled(kernel, requests, gradient=True)
    return batch.fill(X, Y, kernel.parameter_vector), batch.outputs


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_torch_matches_numba(torch, name: str) -> None:
    kernel = KERNELS[name]
    requests = order2_requests(kernel)
    X, Y = points(kernel.dim)
    ref, outputs = _reference(kernel, requests, X, Y)
    module = engine_module(kernel, requests, True, "torch")
    assert module.outputs == outputs
    p = [torch.tensor(v) for v in kernel.parameter_vector]
    got = torch.stack(module(torch.tensor(X)[:, None, :], torch.tensor(Y)[None, :, :], p), -1).numpy()
    assert_close(got, ref, what=f"torch {name}")


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_jax_matches_numba(jax, name: str) -> None:
    import jax.numpy as jnp

    kernel = KERNELS[name]
    requests = order2_requests(kernel)
    X, Y = points(kernel.dim)
    ref, outputs = _reference(kernel, requests, X, Y)
    module = engine_module(kernel, requests, True, "jax")
    assert module.outputs == outputs
    fn = jax.jit(lambda x, y, p: jnp.stack(module(x, y, list(p)), -1))
    got = np.asarray(fn(jnp.asarray(X)[:, None, :], jnp.asarray(Y)[None, :, :], jnp.asarray(kernel.parameter_vector)))
    assert_close(got, ref, what=f"jax {name}")


def _symbolic_gradients(kernel, X, Y, request):
    """d(sum of the block)/d(theta) from kernelgen's symbolic log-theta gradients (theta * d/dtheta)."""
    batch = rt.compiled(kernel, [request], gradient=True)
    out = batch.fill(X, Y, kernel.parameter_vector)
    names = kernel.all_hyperparameter_names
    return np.array([out[:, :, batch.position(Output(request, n))].sum() for n in names]) / kernel.parameter_vector


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_torch_autograd_gradients(torch, name: str) -> None:
    """Hyperparameter autograd = symbolic gradient; no NaN in any gradient at coincident points."""
    kernel = KERNELS[name]
    X, Y = points(kernel.dim)
    for request in (Request(), Request((0,), (1,))):
        if request.order > kernel.smoothness:
            continue
        module = engine_module(kernel, [request], False, "torch")
        p = [torch.tensor(v, requires_grad=True) for v in kernel.parameter_vector]
        x = torch.tensor(X, requires_grad=True)
        value = module(x[:, None, :], torch.tensor(Y)[None, :, :], p)[0]
        if not value.requires_grad:  # an identically zero block (d2/dx0dy1 of an additive kernel)
            assert not value.any() and not _symbolic_gradients(kernel, X, Y, request).any()
            continue
        grads = torch.autograd.grad(value.sum(), [*p, x], allow_unused=True)  # a block may not use a parameter
        grads = [torch.zeros_like(v) if g is None else g for g, v in zip(grads, [*p, x])]
        assert all(torch.isfinite(g).all() for g in grads), f"{name} {request}: NaN in autograd"
        np.testing.assert_allclose([g.item() for g in grads[:-1]], _symbolic_gradients(kernel, X, Y, request),
                                   rtol=1e-12, atol=1e-12)
    # Value kernel: autograd input gradients are exact everywhere, x = x' included.
    module = engine_module(kernel, [Request()], False, "torch")
    x = torch.tensor(X, requires_grad=True)
    p = [torch.tensor(v) for v in kernel.parameter_vector]
    (gx,) = torch.autograd.grad(module(x[:, None, :], torch.tensor(Y)[None, :, :], p)[0].sum(), [x])
    exact = np.stack([kernel(X, Y, dx=(i,)).sum(axis=1) for i in range(kernel.dim)], axis=1)
    np.testing.assert_allclose(gx.numpy(), exact, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_jax_grad_gradients(jax, name: str) -> None:
    import jax.numpy as jnp

    from kernelgen.jax import kernel_fn

    kernel = KERNELS[name]
    X, Y = points(kernel.dim)
    for request in (Request(), Request((0,), (1,))):
        if request.order > kernel.smoothness:
            continue
        k = kernel_fn(kernel, request.dx, request.dy)
        total = jax.jit(lambda x, p, k=k: k(x[:, None, :], jnp.asarray(Y)[None, :, :], p).sum())
        gp, gx = jax.grad(total, argnums=(1, 0))(jnp.asarray(X), jnp.asarray(kernel.parameter_vector))
        assert np.all(np.isfinite(gp)) and np.all(np.isfinite(gx)), f"{name} {request}: NaN in jax.grad"
        np.testing.assert_allclose(np.asarray(gp), _symbolic_gradients(kernel, X, Y, request), rtol=1e-12, atol=1e-12)
    # Pointwise through vmap: the value's input gradient at x = x' equals the exact derivative (0 here).
    k = kernel_fn(kernel)
    gx = jax.vmap(jax.grad(k), in_axes=(0, 0, None))(jnp.asarray(X), jnp.asarray(X), kernel.parameter_vector)
    exact = np.stack([np.diag(kernel(X, X, dx=(i,))) for i in range(kernel.dim)], axis=1)
    np.testing.assert_allclose(np.asarray(gx), exact, rtol=1e-12, atol=1e-12)


def test_torch_broadcasts_leading_batch_dims(torch) -> None:
    kernel = KERNELS["matern52"]
    module = engine_module(kernel, [Request()], False, "torch")
    X = torch.randn(3, 5, 2)
    scale = torch.tensor([0.5, 1.0, 2.0]).reshape(3, 1, 1)
    p = [torch.tensor(kernel.values["variance"]) * scale, *(torch.tensor(v) for v in kernel.parameter_vector[1:])]
    K = module(X[..., :, None, :], X[..., None, :, :], p)[0]
    assert K.shape == (3, 5, 5)
    for b in range(3):
        ref = kernel.with_values(variance=kernel.values["variance"] * float(scale[b])).__call__(X[b].numpy())
        np.testing.assert_allclose(K[b].numpy(), ref, rtol=1e-12, atol=1e-14)
