"""The examples run and answer the seed question sensibly (truth 2 pi cos(2 pi x) is independent)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _load(name: str):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_sklearn_derivative_example() -> None:
    result = _load("sklearn_derivative").main(n=200, seed=0)
    assert result["rmse"] < 0.5  # the derivative's amplitude is 2 pi ~ 6.3
    assert result["coverage"] >= 0.8


def test_custom_kernel_example(capsys) -> None:  # type: ignore[no-untyped-def]
    _load("custom_kernel").main()
    out = capsys.readouterr().out
    assert "=> PASS" in out and "fitted:" in out
