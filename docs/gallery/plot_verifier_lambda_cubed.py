"""
The verifier catches the λ³ bug
===============================

scikit-learn's ``eval_gradient`` is the derivative with respect to **log** hyperparameters,
:math:`\\partial K/\\partial\\log\\lambda = \\lambda\\,\\partial K/\\partial\\lambda`, which for the
RBF is :math:`K\\,d^2/\\lambda^2`. Dividing by :math:`\\lambda^3` instead (scikit-learn PR 11116)
gives :math:`\\partial K/\\partial\\lambda`. At :math:`\\lambda = 1` the two coincide — which is why a
check there passes — so the verifier draws hyperparameters away from 1 and says in one sentence
which convention the code matches.
"""

import matplotlib.pyplot as plt
import numpy as np
from scipy.spatial.distance import cdist
from sklearn.gaussian_process.kernels import RBF

from kernelgen import verify


class CubedRBF(RBF):
    """An RBF whose length-scale gradient divides by length_scale**3."""

    def __call__(self, X, Y=None, eval_gradient=False):
        K = super().__call__(X, Y)
        if not eval_gradient:
            return K
        return K, (K * cdist(X, X, "sqeuclidean") / self.length_scale**3)[:, :, None]


print(verify.sklearn_kernel(CubedRBF(1.0), dim=2, randomize=False).passed, "<- checked at length_scale = 1 only")
report = verify.sklearn_kernel(CubedRBF(1.0), dim=2)
print(report)

# The two conventions against the length scale, for one pair of points at distance 1.
scales = np.geomspace(0.3, 3, 100)
X = np.array([[0.0, 0.0], [1.0, 0.0]])
right = [RBF(s)(X, eval_gradient=True)[1][0, 1, 0] for s in scales]
wrong = [CubedRBF(s)(X, eval_gradient=True)[1][0, 1, 0] for s in scales]
fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(scales, right, "C0", label="dK/dlog λ (scikit-learn's convention)")
ax.plot(scales, wrong, "C3--", label="K d²/λ³ = dK/dλ (the λ³ bug)")
ax.axvline(1.0, color="0.6", lw=1, label="λ = 1: the two coincide")
ax.set_xscale("log")
ax.set_xlabel("length scale λ")
ax.set_ylabel("gradient entry for |x − x'| = 1")
ax.set_title("Why a check at λ = 1 cannot catch a missing chain-rule factor")
ax.legend(loc="upper right", fontsize="small")
fig.tight_layout()
