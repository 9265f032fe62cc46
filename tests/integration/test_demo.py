"""The demo: ``python -m kernelgen demo`` says what it did, and its plot is readable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402

from kernelgen.demo import run_demo  # noqa: E402


def test_python_m_kernelgen_runs_the_demo(tmp_path: Path) -> None:
    env = {**os.environ, "MPLBACKEND": "Agg", "KERNELGEN_PROGRESS": "0"}
    out = subprocess.run([sys.executable, "-m", "kernelgen", "demo", "--n", "50", "--out", str(tmp_path)],
                         capture_output=True, text=True, env=env, check=True, timeout=600).stdout
    header = out.splitlines()[0]
    assert "50 noisy samples" in header and "200" not in header
    assert (tmp_path / "kernelgen_demo.png").stat().st_size > 10_000


def test_demo_figure_is_labelled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    saved: list[Figure] = []
    original = Figure.savefig

    def keep(self: Figure, *args: object, **kwargs: object) -> None:
        saved.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", keep)
    result = run_demo(out_dir=str(tmp_path), n=40, verbose=False)
    assert result["plot"] and Path(result["plot"]).is_file()
    (fig,) = saved
    ax0, ax1 = fig.axes
    assert ax0.get_title() and "40" in ax0.get_title()
    assert ax0.get_ylabel() and ax1.get_ylabel() and ax1.get_xlabel() == "x"
    texts = [t.get_text() for ax in (ax0, ax1) for t in ax.get_legend().get_texts()]
    assert sum("± 2 sd" in t for t in texts) == 2          # both bands are in the legends
    assert any("π" in t for t in texts) and not any(" pi" in t for t in texts)
    fig.canvas.draw()
    for ax in (ax0, ax1):  # the legend sits beside the axes, so it covers no band
        assert ax.get_legend().get_window_extent().x0 >= ax.get_window_extent().x1
    assert np.isfinite(result["rmse"])
