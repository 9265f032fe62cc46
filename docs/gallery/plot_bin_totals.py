"""
Recovering f from bin totals (integral observations)
====================================================

Only the totals :math:`\\int_{l_i}^{u_i} f` of :math:`f(x) = \\sin(2\\pi x) + x` over 20 equal bins
are observed. ``fit(X, y, integrals=(lower, upper, values))`` with empty point data conditions the
GP on the integrals (hyperparameters fitted through the integrated kernel's log-θ gradient), and
the posterior of f itself follows, with its band, between and inside the bins.
"""

import matplotlib.pyplot as plt
import numpy as np

from kernelgen import GaussianProcess, kernels

edges = np.linspace(0, 1, 21)
lower, upper = edges[:-1], edges[1:]
values = (np.cos(2 * np.pi * lower) - np.cos(2 * np.pi * upper)) / (2 * np.pi) + 0.5 * (upper**2 - lower**2)

gp = GaussianProcess(kernels.rbf(1, length_scale=0.3), noise=1e-6, normalize_y=True)
gp.fit(np.empty((0, 1)), np.empty(0), integrals=(lower, upper, values))
x = np.linspace(0, 1, 201)[:, None]
mean, std = gp.predict(x, return_std=True)
truth = np.sin(2 * np.pi * x[:, 0]) + x[:, 0]
print(f"fitted {gp.kernel_}")
print(f"RMSE of f from 20 bin totals: {np.sqrt(np.mean((mean - truth) ** 2)):.2e}")

fig, ax = plt.subplots(figsize=(7, 4))
ax.bar(lower, values / (upper - lower), width=upper - lower, align="edge", color="0.85", edgecolor="0.6",
       label="bin averages (totals / width)")
ax.plot(x[:, 0], truth, "k--", label="truth sin(2πx) + x")
ax.plot(x[:, 0], mean, "C0", label="posterior mean of f")
ax.fill_between(x[:, 0], mean - 2 * std, mean + 2 * std, color="C0", alpha=0.3, label="mean ± 2 sd")
ax.set_xlabel("x")
ax.set_ylabel("f(x)")
ax.set_title("f recovered from 20 bin totals")
ax.set_ylim(-0.5, 1.9)
ax.legend(loc="upper right", ncol=2, fontsize="small")
fig.tight_layout()
