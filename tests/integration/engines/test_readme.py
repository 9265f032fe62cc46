"""The README's "Outgrowing one CPU" example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

from .conftest import engine


def test_readme_gpytorch_example_runs(torch) -> None:
    engine("gpytorch")
    text = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    section = text.split("## Outgrowing one CPU", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102
    pred = namespace["pred"]
    assert pred.mean.shape == (1, 3) and torch.isfinite(pred.mean).all()
