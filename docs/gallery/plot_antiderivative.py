"""
Antiderivative and definite integral of a GP fit, with error bars
=================================================================

The seed example extended: a GP fitted to noisy samples of :math:`f(x) = \\sin(2\\pi x)`, its
antiderivative :math:`F(x) = \\int_0^x f` as a posterior of its own (mean ± 2 sd, :math:`F(0) = 0`)
against the truth :math:`(1 - \\cos 2\\pi x)/(2\\pi)`, and :math:`\\int_0^1 f` (truth 0) with its
standard deviation. The seed answer's ``If`` is only defined up to a constant; here the anchor
fixes it, and the band comes from the integrated kernel.
"""

import matplotlib.pyplot as plt
import numpy as np

from kernelgen import GaussianProcess, kernels

rng = np.random.default_rng(0)
X = np.sort(rng.uniform(0, 1, 60))[:, None]
y = np.sin(2 * np.pi * X[:, 0]) + 0.1 * rng.standard_normal(60)

gp = GaussianProcess(kernels.rbf(1, length_scale=0.5), noise=0.1, random_state=0).fit(X, y)
grid = np.linspace(0, 1, 101)[:, None]
f, sf = gp.predict(grid, return_std=True)
F, sF = gp.predict_antiderivative(grid, anchor=0.0, return_std=True)
total, s_total = gp.predict_integral(0.0, 1.0, return_std=True)
truth = (1 - np.cos(2 * np.pi * grid[:, 0])) / (2 * np.pi)
print(f"fitted {gp.kernel_}; noise {gp.noise_:.3g}")
print(f"int_0^1 f = {total[0]:.4f} ± {s_total[0]:.4f} (truth 0); "
      f"RMSE of F {np.sqrt(np.mean((F - truth) ** 2)):.4f}")

fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
top.plot(X[:, 0], y, "k.", ms=3, label="data")
top.plot(grid[:, 0], f, "C0", label="posterior mean of f")
top.fill_between(grid[:, 0], f - 2 * sf, f + 2 * sf, color="C0", alpha=0.25, label="mean ± 2 sd")
top.set_ylabel("f(x)")
top.set_title(f"GP fit of sin(2πx) and its antiderivative; ∫₀¹ f = {total[0]:.3f} ± {s_total[0]:.3f}")
top.legend(loc="lower left")
bottom.plot(grid[:, 0], F, "C1", label="posterior mean of F(x) = ∫₀ˣ f")
bottom.fill_between(grid[:, 0], F - 2 * sF, F + 2 * sF, color="C1", alpha=0.25, label="mean ± 2 sd")
bottom.plot(grid[:, 0], truth, "k--", label="truth (1 − cos 2πx)/(2π)")
bottom.set_xlabel("x")
bottom.set_ylabel("F(x)")
bottom.legend(loc="upper left")
fig.tight_layout()
