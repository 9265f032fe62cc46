"""Adversarial-input cases: each is an input and its one correct outcome, and a classifier.

A case expects either a **value** (compared with an independent reference: a closed form,
mpmath, NumPy, scikit-learn) or a **named error** (an exception type and a message fragment; for
the command line: status 2, one ``kernelgen <command>: error:`` line, no traceback). Whatever
happens is classified:

* ``correct`` -- the value matches the reference;
* ``named error`` -- the expected exception (or CLI error line) with the expected fragment;
* ``silently wrong`` -- a finite value that differs from the reference, or a value where an
  error was expected;
* ``silent NaN`` -- a NaN or inf returned for finite inputs;
* ``CLI traceback`` -- a traceback on the command line's stderr;
* ``other failure`` -- a different exception or message.

Tests record the class as the user property ``adversarial``; ``tests/conftest.py`` adds up the
classes of a run and prints them (the counts the issue asks for).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "BAD", "Case", "Cli", "Outcome", "Raises", "Value", "classify", "record", "run_cli",
]

#: Classes that must never occur.
BAD = ("silently wrong", "silent NaN", "CLI traceback", "other failure")
REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Value:
    """The case returns ``reference()`` (an array or number), within ``rtol`` / ``atol``."""

    reference: Callable[[], Any]
    rtol: float = 1e-12
    atol: float = 0.0


@dataclass(frozen=True)
class Raises:
    """The case raises ``error`` with ``fragment`` in its message."""

    error: type[BaseException]
    fragment: str


@dataclass(frozen=True)
class Cli:
    """The case runs the command line: status ``status``, one error line containing ``fragment``."""

    fragment: str
    status: int = 2
    line: str = "error"  # 'error' or 'interrupted'


@dataclass(frozen=True)
class Case:
    """One adversarial input: ``run(tmp_path)`` and what must come of it."""

    id: str
    area: str
    run: Callable[[Path], Any]
    expect: Value | Raises | Cli


@dataclass
class Outcome:
    kind: str
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def bad(self) -> bool:
        return self.kind in BAD


def classify(case: Case, tmp_path: Path) -> Outcome:
    """Run ``case`` and say what happened (see the module notes)."""
    expect = case.expect
    try:
        result = case.run(tmp_path)
    except Exception as exc:  # the classification is the point: every exception is inspected
        if isinstance(expect, Raises) and isinstance(exc, expect.error) and expect.fragment in str(exc):
            return Outcome("named error", f"{type(exc).__name__}: {exc}")
        return Outcome("other failure", f"{type(exc).__name__}: {exc}")
    if isinstance(expect, Cli):
        return _classify_cli(expect, result)
    values = np.asarray(result, dtype=np.float64) if result is not None else np.array([])
    if values.size and not np.isfinite(values).all():
        return Outcome("silent NaN", f"returned {values!r}")
    if isinstance(expect, Raises):
        return Outcome("silently wrong", f"expected {expect.error.__name__} ({expect.fragment!r}), got {result!r}")
    reference = np.asarray(expect.reference(), dtype=np.float64)
    if values.shape != reference.shape or not np.allclose(values, reference, rtol=expect.rtol, atol=expect.atol):
        return Outcome("silently wrong", f"got {values!r}, reference {reference!r}")
    return Outcome("correct")


def _classify_cli(expect: Cli, result: subprocess.CompletedProcess[str]) -> Outcome:
    stderr = result.stderr
    if "Traceback" in stderr:
        return Outcome("CLI traceback", stderr[-2000:])
    lines = [line for line in stderr.splitlines() if line.strip() and not _is_warning(line)]
    pattern = rf"^kernelgen [a-z]+: {expect.line}\b"
    ours = [line for line in lines if re.match(pattern, line)]
    if result.returncode != expect.status or len(ours) != 1 or expect.fragment not in ours[0]:
        return Outcome("other failure", f"status {result.returncode}, stderr {stderr!r}")
    if lines[-1] != ours[0]:
        return Outcome("other failure", f"the error is not the last line of stderr: {stderr!r}")
    return Outcome("named error", ours[0])


def _is_warning(line: str) -> bool:
    """Warnings Python or numba print on stderr are not our error line (nor a traceback)."""
    return "Warning" in line or line.startswith(" ")


def run_cli(args: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``kernelgen ARGS`` in a fresh interpreter (the installed entry point's ``main``)."""
    code = "import sys; from kernelgen.cli import main; sys.exit(main(sys.argv[1:]))"
    environment = dict(os.environ, **(env or {}))
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), environment.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=environment,
                          cwd=cwd or REPO, timeout=timeout)


def record(record_property: Callable[[str, object], None], case: Case, outcome: Outcome) -> None:
    """Attach the outcome to the test report (``tests/conftest.py`` counts them)."""
    record_property("adversarial", {"area": case.area, "kind": outcome.kind, "case": case.id})
