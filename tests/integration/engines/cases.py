"""Kernels and points shared by the engine tests: RBF (ARD), Matérn 3/2 and 5/2, RQ and a composite."""

from __future__ import annotations

import numpy as np

from kernelgen import kernels
from kernelgen.symbolic.kernel import Kernel
from kernelgen.symbolic.request import Request, requests_up_to


def cases(dim: int = 2) -> dict[str, Kernel]:
    ls = [0.7, 1.3][:dim] if dim <= 2 else [0.7, 1.3, 0.9]
    composite = (kernels.rbf(dim, length_scale=ls, variance=1.2) * kernels.matern(dim, nu=1.5, length_scale=0.8)
                 + kernels.linear(dim, variance=0.3))
    return {
        "rbf_ard": kernels.rbf(dim, length_scale=ls, variance=1.7),
        "matern32": kernels.matern(dim, nu=1.5, length_scale=0.9, variance=1.1),
        "matern52": kernels.matern(dim, nu=2.5, length_scale=ls, variance=1.3),
        "rq": kernels.rational_quadratic(dim, length_scale=0.8, alpha=0.6),
        "composite": composite,
        # One radius per coordinate: partially coincident pairs take their own generated branch.
        "additive_matern52": _additive_matern52(dim),
    }


def _additive_matern52(dim: int) -> Kernel:
    term = "(1 + sqrt(5)*abs(x{i} - y{i})/l{i} + 5*(x{i} - y{i})^2/(3*l{i}^2))*exp(-sqrt(5)*abs(x{i} - y{i})/l{i})"
    text = " + ".join(f"s{i}*" + term.format(i=i) for i in range(dim))
    values = {f"l{i}": 0.6 + 0.3 * i for i in range(dim)} | {f"s{i}": 1.0 + 0.5 * i for i in range(dim)}
    return Kernel.from_string(text, dim=dim, **values)


def order2_requests(kernel: Kernel) -> list[Request]:
    """Every derivative block up to total order 2 that exists at x = x'."""
    order = int(min(2, kernel.smoothness))
    # A derivative process needs a covariance: at most smoothness / 2 derivatives per argument.
    return requests_up_to(kernel.dim, order, per_argument=kernel.smoothness / 2)


def points(dim: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random X, Y with coincident pairs (Y repeats rows of X, X repeats one of its own rows) and
    partially coincident ones (X[6] and Y[4] share their first coordinate, as gridded data do)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(7, dim))
    Y = rng.uniform(-1, 1, size=(6, dim))
    X[5] = X[1]
    Y[0], Y[3] = X[2], X[5]
    Y[4, 0] = X[6, 0]
    return X, Y


def assert_close(got: np.ndarray, ref: np.ndarray, rtol: float = 1e-12, what: str = "") -> None:
    """|got - ref| <= rtol * max(1, max |ref|) per output (the last axis): relative to each output's scale."""
    assert got.shape == ref.shape, (got.shape, ref.shape)
    scale = np.maximum(1.0, np.abs(ref).reshape(-1, ref.shape[-1]).max(axis=0))
    err = np.abs(got - ref).reshape(-1, ref.shape[-1]).max(axis=0) / scale
    assert np.all(np.isfinite(got)), f"{what}: non-finite values"
    assert err.max() <= rtol, f"{what}: worst relative error {err.max():.3g} at output {int(err.argmax())}"
