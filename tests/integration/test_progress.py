"""Progress of generation and compilation, captured from fresh processes with empty caches.

Each run uses its own ``KERNELGEN_CACHE_DIR`` and ``NUMBA_CACHE_DIR``, so the kernel is really
generated and compiled. The report delay is set to 0 in the child (the content of the records is
what is tested; the one-second threshold is tested in-process in tests/unit/test_progress.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

NEW_KERNEL = """
import numpy as np, kernelgen, kernelgen.progress
kernelgen.progress.DELAY = 0.0
k = kernelgen.Kernel.from_string("s * exp(-(x0 - y0)**2 / (2 * lp**2))", dim=1, name="progress_probe")
print(k(np.linspace(0, 1, 4)[:, None], dx=(0,), eval_gradient=True)[1].shape)
"""


def _run(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "KERNELGEN_PROGRESS"}
    environ.update(KERNELGEN_CACHE_DIR=str(tmp_path / "cache"), NUMBA_CACHE_DIR=str(tmp_path / "numba"), **env)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=environ,
                          cwd=REPO, timeout=600, check=True)


def test_first_call_of_a_new_kernel_reports_generation_and_compilation(tmp_path: Path) -> None:
    result = _run(NEW_KERNEL, tmp_path)
    assert result.stdout.strip() == "(4, 4, 2)"
    lines = result.stderr.splitlines()
    generating = [ln for ln in lines if ln.startswith("kernelgen: generating progress_probe_")]
    # what is generated, how many outputs (dk/dx and its two log-gradients), the elapsed time
    assert generating and ": 3 outputs (kernel progress_probe, d=1, 1 derivative request + log-gradients in 2" in \
        generating[0] and "running for" in generating[0]
    assert generating[-1].split(": done in ")[1].endswith(" s")
    compiling = [ln for ln in lines if ln.startswith("kernelgen: compiling progress_probe_")]
    assert any(".fill (3 outputs): done in" in ln for ln in compiling)


def test_records_go_to_the_applications_logging(tmp_path: Path) -> None:
    code = ("import logging, sys\n"
            "logging.basicConfig(level=logging.INFO, stream=sys.stdout, format='%(name)s|%(levelname)s|%(message)s')\n"
            + NEW_KERNEL)
    result = _run(code, tmp_path)
    records = [ln.split("|", 2) for ln in result.stdout.splitlines() if "|" in ln]
    assert records and all(name == "kernelgen" and level == "INFO" for name, level, _ in records)
    assert any(msg.startswith("generating progress_probe_") for _, _, msg in records)
    assert "kernelgen:" not in result.stderr  # no second handler of our own


def test_kernelgen_progress_0_silences_it(tmp_path: Path) -> None:
    result = _run(NEW_KERNEL, tmp_path, KERNELGEN_PROGRESS="0")
    assert result.stdout.strip() == "(4, 4, 2)" and result.stderr == ""


def test_generate_command_reports_progress(tmp_path: Path) -> None:
    code = """
        import kernelgen.progress
        kernelgen.progress.DELAY = 0.0
        from kernelgen.cli import main
        raise SystemExit(main(["generate", "exp(-(x0 - y0)**2 / lg)", "--dim", "1", "--max-order", "1"]))
    """
    result = _run(code, tmp_path)
    assert result.stdout.strip().endswith(".py")
    assert "kernelgen: generating kernel_" in result.stderr and "outputs (kernel kernel, d=1, 3 derivative requests" \
        in result.stderr
