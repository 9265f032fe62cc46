"""Loading a committed built-in module does no SymPy work: no diff, CSE, lambdify or preparation.

Each check runs in a fresh process (nothing prepared or loaded earlier): it builds the kernel
(SymPy's own assumption system may differentiate while constructing ``sqrt(r**2)``), then patches
those entry points to raise and evaluates. Values are compared with closed forms.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

_PATCHES = textwrap.dedent("""
    import sympy
    import sympy.core.expr
    import sympy.utilities.lambdify

    def refuse(name):
        def call(*args, **kwargs):
            raise AssertionError(f"{name} was called while loading a committed module")
        return call

    sympy.diff = refuse("sympy.diff")
    sympy.core.expr.Expr.diff = refuse("Expr.diff")
    sympy.cse = refuse("sympy.cse")
    sympy.lambdify = sympy.utilities.lambdify.lambdify = refuse("sympy.lambdify")

    import kernelgen.symbolic.prepared as prepared
    prepared.PreparedKernel.of = classmethod(refuse("PreparedKernel.of"))
    prepared.PreparedKernel.__init__ = refuse("PreparedKernel.__init__")
""")

#: name -> (kernel construction, evaluation under the patches)
_CHECKS = {
    "first derivatives": ("k = kernels.rbf(1, length_scale=0.7, variance=1.3)", """
        X = np.array([[0.0], [0.3], [1.1]])
        D = X - X.T
        K = k(X, dx=(0,), dy=(0,))
        expected = 1.3 * np.exp(-D**2 / (2 * 0.49)) * (1 / 0.49 - D**2 / 0.49**2)
        np.testing.assert_allclose(K, expected, rtol=1e-13)
    """),
    "log-hyperparameter gradient": ("k = kernels.rbf(1, length_scale=0.7, variance=1.3)", """
        X = np.array([[0.0], [0.3], [1.1]])
        D2 = (X - X.T) ** 2
        K, G = k(X, eval_gradient=True)
        base = 1.3 * np.exp(-D2 / (2 * 0.49))
        np.testing.assert_allclose(K, base, rtol=1e-14)
        np.testing.assert_allclose(G[:, :, 0], base, rtol=1e-14)              # d/dlog variance
        np.testing.assert_allclose(G[:, :, 1], base * D2 / 0.49, rtol=1e-13)  # d/dlog length_scale
    """),
    "diagonal": ("k = kernels.matern(1, 2.5, length_scale=0.5)", """
        X = np.array([[0.0], [0.3]])
        np.testing.assert_allclose(k.diag(X, dx=(0,), dy=(0,)), 5 / (3 * 0.25), rtol=1e-14)
    """),
}


@pytest.mark.parametrize("name", list(_CHECKS))
def test_committed_module_loads_without_sympy_work(name: str, tmp_path: Path) -> None:
    build, evaluate = _CHECKS[name]
    code = "import numpy as np\nfrom kernelgen import kernels\n" + build + "\n" + _PATCHES + textwrap.dedent(evaluate)
    code += "\nimport kernelgen.runtime.loading as loading\n"
    code += "assert all(m.__name__.startswith('kernelgen.generated.') for m in loading._loaded.values())\n"
    # An empty user cache: whatever is found must be a committed module.
    env = dict(os.environ, KERNELGEN_CACHE_DIR=str(tmp_path / "cache"))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO)
    assert result.returncode == 0, result.stderr


def test_the_patches_catch_generation(tmp_path: Path) -> None:
    """Control: a kernel with no committed module must generate, and the patches stop that."""
    build = 'k = kernelgen.Kernel.from_string("exp(-(x0 - y0)**2 / l)", dim=1, name="uncommitted")'
    code = "import numpy as np\nimport kernelgen\n" + build + "\n" + _PATCHES + "k(np.zeros((2, 1)))\n"
    env = dict(os.environ, KERNELGEN_CACHE_DIR=str(tmp_path / "cache"))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO)
    assert result.returncode != 0 and "was called while loading a committed module" in result.stderr
