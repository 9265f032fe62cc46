"""The documentation: every gallery script runs, and the site builds without a warning.

The gallery scripts run one per test in a fresh process (as ``python docs/gallery/<name>.py``).
The Sphinx build here skips executing them again (``plot_gallery=0``) and checks everything else
with ``-W``: the numpydoc API pages of every public name, the guide, the gallery pages. The full
build (``sphinx-build -W -b html docs docs/_build/html``, gallery executed) is the documented
command and runs in ``.ci/run``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GALLERY = sorted((REPO / "docs" / "gallery").glob("plot_*.py"))


def _env() -> dict[str, str]:
    return {**os.environ, "MPLBACKEND": "Agg", "KERNELGEN_PROGRESS": "0"}


def test_gallery_has_the_promised_examples() -> None:
    names = {p.stem for p in GALLERY}
    assert names == {"plot_seed_example", "plot_gradient_field_2d", "plot_hessian", "plot_gradient_observations",
                     "plot_custom_string_kernel", "plot_sklearn_derivatives", "plot_verifier_lambda_cubed"}


@pytest.mark.parametrize("script", GALLERY, ids=[p.stem for p in GALLERY])
def test_gallery_script_runs(script: Path, tmp_path: Path) -> None:
    code = ("import runpy, sys, matplotlib.pyplot as plt\n"
            f"runpy.run_path({str(script)!r}, run_name='__main__')\n"
            "assert plt.get_fignums(), 'the example made no figure'\n"
            "fig = plt.figure(plt.get_fignums()[0])\n"
            "axes = [ax for ax in fig.axes if ax.get_label() != '<colorbar>']\n"
            "assert all(ax.get_ylabel() for ax in axes) and axes[-1].get_xlabel(), 'unlabelled axes'\n"
            "assert fig.axes[0].get_title()\n")
    result = subprocess.run([sys.executable, "-W", "error::UserWarning", "-c", code], cwd=tmp_path, env=_env(),
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]


def test_docs_build_without_warnings(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "-D", "plot_gallery=0",
         "-d", str(tmp_path / "doctrees"), str(REPO / "docs"), str(tmp_path / "html")],
        cwd=REPO, env=_env(), capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    html = tmp_path / "html"
    for page in ("index.html", "guide.html", "api.html", "auto_examples/index.html",
                 "api/generated/kernelgen.GaussianProcess.html", "api/generated/kernelgen.sklearn.from_sklearn.html"):
        assert (html / page).is_file(), page
