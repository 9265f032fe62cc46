"""Every Python block of README.md runs as written, in order, from a fresh directory.

The blocks are executed one after the other in one namespace (as a reader pastes them into one
session), in a subprocess whose working directory is a temporary copy holding only ``examples/``
(the module the verify block imports, shipped in the repository). The README's ``kernelgen
verify --function`` commands run there too, with the exit codes the README states.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"

RUNNER = textwrap.dedent("""
    import json, sys, traceback
    blocks = json.load(open("blocks.json"))
    namespace = {"__name__": "__main__"}
    for number, (line, code) in enumerate(blocks, 1):
        try:
            exec(compile(code, f"README.md block {number} (line {line})", "exec"), namespace)
        except BaseException:
            traceback.print_exc()
            print(f"README block {number} (line {line}) failed", file=sys.stderr)
            raise SystemExit(1)
        print(f"block {number} ok", flush=True)
""")


def python_blocks(text: str) -> list[tuple[int, str]]:
    """``(line number, code)`` of every ```python block."""
    out = []
    for match in re.finditer(r"^```python\n(.*?)^```", text, flags=re.S | re.M):
        out.append((text.count("\n", 0, match.start()) + 2, match.group(1)))
    return out


def _fresh_dir(tmp_path: Path) -> Path:
    work = tmp_path / "reader"
    work.mkdir()
    shutil.copytree(REPO / "examples", work / "examples")
    return work


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "MPLBACKEND": "Agg", "KERNELGEN_PROGRESS": "0",
            "PYTHONPATH": ""}  # the package as installed, not the checkout


def test_readme_python_blocks_run_in_order(tmp_path: Path) -> None:
    blocks = python_blocks(README.read_text(encoding="utf-8"))
    assert len(blocks) >= 8
    work = _fresh_dir(tmp_path)
    (work / "blocks.json").write_text(json.dumps(blocks))
    (work / "run_readme.py").write_text(RUNNER)
    result = subprocess.run([sys.executable, "run_readme.py"], cwd=work, capture_output=True, text=True,
                            env=_env(tmp_path), timeout=1200)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert re.findall(r"^block (\d+) ok$", result.stdout, flags=re.M) == [str(i) for i in range(1, len(blocks) + 1)]


def test_readme_verify_commands(tmp_path: Path) -> None:
    text = README.read_text(encoding="utf-8")
    commands = re.findall(r"^\$ (kernelgen verify --function .*?)(?:\s+#.*)?$", text, flags=re.M)
    assert len(commands) == 2
    work = _fresh_dir(tmp_path)
    codes = [subprocess.run(shlex.split(c), cwd=work, capture_output=True, text=True, env=_env(tmp_path),
                            timeout=600) for c in commands]
    assert codes[0].returncode == 1 and "The values are dk/dl, the derivative in linear space" in codes[0].stdout
    assert codes[1].returncode == 0, codes[1].stdout + codes[1].stderr
