"""Progress reporting without compiling anything: the bar, the records, the off switch."""

from __future__ import annotations

import io
import logging
import time

import pytest

from kernelgen import progress


def test_bar_shows_fraction_or_a_moving_block() -> None:
    line = progress.render_bar("generating x", 3.25, done=3, total=6)
    assert line.startswith("generating x [") and "3/6" in line and line.endswith("3.2 s")
    assert line.count("=") == 12
    a = progress.render_bar("compiling y", 1.0, tick=0)
    b = progress.render_bar("compiling y", 1.1, tick=3)
    assert "======" in a and a != b and "/" not in a


def test_slow_task_gives_records_of_the_kernelgen_logger(monkeypatch: pytest.MonkeyPatch,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(progress, "DELAY", 0.01)
    caplog.set_level(logging.INFO, logger="kernelgen")
    with progress.task("generating demo_0123: 7 outputs", total=2) as t:
        time.sleep(0.2)
        t.advance(2)
    messages = [r.getMessage() for r in caplog.records if r.name == "kernelgen"]
    assert messages[0].startswith("generating demo_0123: 7 outputs: 0/2 done, running for")
    assert messages[-1].startswith("generating demo_0123: 7 outputs: done in")


def test_quick_task_and_switch_off_are_silent(monkeypatch: pytest.MonkeyPatch,
                                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="kernelgen")
    with progress.task("quick"):
        pass
    monkeypatch.setattr(progress, "DELAY", 0.0)
    monkeypatch.setenv("KERNELGEN_PROGRESS", "0")
    assert not progress.enabled()
    with progress.task("silenced"):
        time.sleep(0.05)
    assert not [r for r in caplog.records if r.name == "kernelgen"]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_gets_a_bar_redrawn_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    screen = _Terminal()
    monkeypatch.setattr(progress, "_stream", lambda: screen)
    monkeypatch.setattr(progress, "DELAY", 0.0)
    monkeypatch.setattr(progress, "REFRESH", 0.01)
    with progress.task("generating the built-in modules", total=4) as outer:
        with progress.task("generating rbf_1234: 2 outputs"):
            time.sleep(0.1)
        outer.advance(4)
    text = screen.getvalue()
    assert "\r" in text and "[" in text and "| generating rbf_1234: 2 outputs" in text
    assert text.endswith("generating the built-in modules: done in " + text.rsplit("done in ", 1)[1])
    assert text.endswith(" s\n")
