"""A kernel nobody hand-derived: exact gradients, use inside scikit-learn, and a verified hand derivation.

The kernel is a locally periodic kernel with a Matérn 5/2 envelope, written as a string. kernelgen
gives its input derivatives and its log-hyperparameter gradient; ``SymbolicKernel`` puts it into
``GaussianProcessRegressor`` (whose optimizer then uses the exact gradient); and the verifier checks
a hand-written derivative of the simpler RBF against the symbolic truth.

Run: ``python examples/custom_kernel.py``
"""

from __future__ import annotations

import numpy as np
from sklearn.gaussian_process import GaussianProcessRegressor

from kernelgen import Kernel, kernels, verify
from kernelgen.sklearn import SymbolicKernel

LOCALLY_PERIODIC = (
    "s * (1 + sqrt(5)*abs(x0 - y0)/l + 5*(x0 - y0)^2/(3*l^2)) * exp(-sqrt(5)*abs(x0 - y0)/l)"
    " * exp(-2*sin(pi*(x0 - y0)/p)^2 / w^2)"
)


def hand_written_dk_dx(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """d/dx0 of the RBF variance * exp(-(x - y)^2 / (2 l^2)) at variance = 1, l = 0.5 (correct)."""
    d = X[:, :1] - Y[:, :1].T
    return -d / 0.25 * np.exp(-(d**2) / (2 * 0.25))


def main() -> None:
    k = Kernel.from_string(LOCALLY_PERIODIC, dim=1, l=2.0, p=0.5, w=1.0)
    print(k)
    print("smoothness at x = x':", k.smoothness, "(Matérn 5/2 envelope: two derivatives per argument)")
    X = np.linspace(0, 2, 6)[:, None]
    print("d2k/dx dy at coincident points:", k.diag(X, dx=(0,), dy=(0,))[:3])
    K, dK = k(X, eval_gradient=True)
    print("gradient w.r.t. log", k.hyperparameter_names, "has shape", dK.shape)

    rng = np.random.default_rng(1)
    Xt = rng.uniform(0, 4, size=(60, 1))
    yt = np.sin(4 * np.pi * Xt[:, 0]) * np.exp(-0.2 * Xt[:, 0]) + 0.05 * rng.normal(size=60)
    gpr = GaussianProcessRegressor(SymbolicKernel(k, noise_level=0.01), random_state=0).fit(Xt, yt)
    print("fitted:", gpr.kernel_)

    report = verify.input_derivative(kernels.rbf(1, length_scale=0.5), hand_written_dk_dx, dx=(0,))
    print(report)


if __name__ == "__main__":
    main()
