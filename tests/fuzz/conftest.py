"""Session settings and the end-of-session summary of the fuzz test."""

from __future__ import annotations

import os

import pytest

from .harness import SUMMARY


def fuzz_count() -> int:
    """``KERNELGEN_FUZZ=N``: run N expressions of the wide profile (0: the CI sample)."""
    return int(os.environ.get("KERNELGEN_FUZZ", "0") or 0)


def pytest_configure(config: pytest.Config) -> None:
    seconds = os.environ.get("KERNELGEN_FUZZ_SHRINK")
    if seconds:
        SUMMARY.shrink_left = float(seconds)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SUMMARY.outcomes:
        terminalreporter.write_sep("-", "kernelgen differential fuzz")
        terminalreporter.write_line(SUMMARY.render())
