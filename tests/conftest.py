"""Shared pytest configuration (helpers are the package ``tests.support``; see pyproject's ``pythonpath``).

The adversarial-input tests (``tests/unit/test_adversarial_inputs.py``,
``tests/integration/test_adversarial.py``) record each outcome as the user property
``adversarial``; the summary below adds them up for the run (also under xdist, where the
properties travel with the reports) and keeps the counts in pytest's cache
(``kernelgen/adversarial``).
"""

from __future__ import annotations

from collections import Counter
from typing import Any


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    outcomes = [
        value
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", None) == "call"
        for name, value in getattr(report, "user_properties", ())
        if name == "adversarial"
    ]
    if not outcomes:
        return
    kinds = Counter(o["kind"] for o in outcomes)
    areas = Counter(o["area"] for o in outcomes)
    counts = {
        "cases": len(outcomes),
        "correct values": kinds["correct"],
        "named errors": kinds["named error"],
        "silently wrong": kinds["silently wrong"],
        "silent NaN from finite inputs": kinds["silent NaN"],
        "CLI tracebacks": kinds["CLI traceback"],
        "other failures": kinds["other failure"],
        "by area": dict(sorted(areas.items())),
    }
    terminalreporter.section("adversarial inputs")
    for key, value in counts.items():
        terminalreporter.write_line(f"{key}: {value}")
    if config.cache is not None:
        config.cache.set("kernelgen/adversarial", counts)
