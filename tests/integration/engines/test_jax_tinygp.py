"""kernelgen.jax: kernel_fn under jit/vmap/grad, and tinygp log-likelihoods against kernelgen's LML."""

from __future__ import annotations

import numpy as np
import pytest

from kernelgen import GaussianProcess, kernels

from .cases import cases
from .conftest import engine


def test_kernel_fn_jit_vmap_and_errors(jax) -> None:
    import jax.numpy as jnp

    from kernelgen.jax import kernel_fn

    k = kernels.matern(2, nu=2.5, length_scale=0.8, variance=1.3)
    f = jax.jit(kernel_fn(k, dx=(0,), dy=(1,)))
    X = np.random.default_rng(0).uniform(-1, 1, (5, 2))
    pairs = jax.vmap(jax.vmap(f, in_axes=(None, 0, None)), in_axes=(0, None, None))
    got = pairs(jnp.asarray(X), jnp.asarray(X), k.values)  # params by name
    np.testing.assert_allclose(np.asarray(got), k(X, X, dx=(0,), dy=(1,)), rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="dx"):
        kernel_fn(k, dx=(3,))
    with pytest.raises(ValueError, match="params"):
        kernel_fn(k)(X[0], X[1], {"variance": 1.0})


@pytest.mark.parametrize("name", ["matern52", "composite"])
def test_tinygp_log_likelihood_equals_kernelgen(jax, name: str) -> None:
    import jax.numpy as jnp

    tinygp = engine("tinygp")
    from kernelgen.jax import TinygpKernel

    kernel = cases(2)[name]
    rng = np.random.default_rng(4)
    Z = rng.uniform(-1, 1, (12, 2))
    noise = 1e-2
    # Values only.
    y = np.sin(3 * Z[:, 0]) + Z[:, 1]
    gp = tinygp.GaussianProcess(TinygpKernel(kernel), jnp.asarray(Z), diag=noise)
    ours = GaussianProcess(kernel, noise=noise, noise_bounds="fixed", optimizer=None).fit(Z, y)
    assert abs(float(gp.log_probability(jnp.asarray(y))) - ours.log_marginal_likelihood_value_) <= 1e-10
    # Derivative observations: inputs tagged with their index into derivs.
    derivs = [(), (0,), (1,)]
    index = np.repeat(np.arange(3), len(Z))
    X = np.vstack([Z] * 3)
    yd = np.concatenate([y, 3 * np.cos(3 * Z[:, 0]), np.ones(len(Z))])
    tk = TinygpKernel(kernel, derivs)
    gp = tinygp.GaussianProcess(tk, (jnp.asarray(X), jnp.asarray(index)), diag=noise)
    ours = GaussianProcess(kernel, noise=noise, noise_bounds="fixed", optimizer=None)
    ours.fit(X, yd, deriv=[derivs[i] for i in index])
    lml = ours.log_marginal_likelihood_value_
    assert abs(float(gp.log_probability(jnp.asarray(yd))) - lml) <= 1e-10 * max(1.0, abs(lml))

    # jax.grad of tinygp's likelihood in the hyperparameters = kernelgen's symbolic LML gradient.
    def loglike(params):
        kern = TinygpKernel(kernel, derivs, params=params)
        return tinygp.GaussianProcess(kern, (jnp.asarray(X), jnp.asarray(index)), diag=noise).log_probability(
            jnp.asarray(yd))

    params = jnp.asarray(kernel.parameter_vector)
    grad = np.asarray(jax.grad(loglike)(params)) * kernel.parameter_vector  # d/dlog(theta)
    _, ref = ours.log_marginal_likelihood(ours.theta_, eval_gradient=True)
    np.testing.assert_allclose(grad, ref, rtol=1e-8, atol=1e-8)
