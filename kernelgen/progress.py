"""Progress of slow work (generating and compiling code) on stderr.

Work that finishes within :data:`DELAY` seconds shows nothing. Past that, a task is reported on
stderr: as a one-line progress bar redrawn in place when stderr is a terminal, otherwise as
records of the ``kernelgen`` logger (level INFO; one when the task has run for :data:`DELAY`
seconds, one every :data:`HEARTBEAT` seconds after that, one when it ends, each with the elapsed
time). ``KERNELGEN_PROGRESS=0`` in the environment silences both.

Records go wherever the application's logging sends them. When nothing is configured (the
``kernelgen`` logger and the root logger have no handlers), a handler writing ``kernelgen: ...``
lines to stderr is attached on the first record, so a plain script still sees them.

Nothing here imports the rest of kernelgen: the code generator (:func:`kernelgen.codegen.store.source_text`)
and the runtime (numba compilations of generated modules) call :func:`task`.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

__all__ = ["DELAY", "HEARTBEAT", "LOGGER", "Task", "enabled", "plural", "render_bar", "task"]

#: Seconds a task runs before it is reported (shorter work stays silent).
DELAY = 1.0
#: Seconds between two "still running" records when stderr is not a terminal.
HEARTBEAT = 15.0
#: Seconds between two redraws of the bar on a terminal.
REFRESH = 0.1
#: The logger that carries the records (``logging.getLogger("kernelgen")``).
LOGGER = logging.getLogger("kernelgen")

_BAR_WIDTH = 24
_local = threading.local()
_handler_lock = threading.Lock()


def plural(count: int, noun: str) -> str:
    """``"1 output"``, ``"3 outputs"``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def enabled() -> bool:
    """False when ``KERNELGEN_PROGRESS=0`` (also ``false``, ``no``, ``off``) is set."""
    return os.environ.get("KERNELGEN_PROGRESS", "1").strip().lower() not in ("0", "false", "no", "off")


def render_bar(label: str, elapsed: float, done: int = 0, total: int | None = None, tick: int = 0) -> str:
    """One line: ``label [=====>      ] 3/7  12.3 s`` (a bouncing block when ``total`` is unknown)."""
    if total:
        filled = min(_BAR_WIDTH, int(_BAR_WIDTH * done / total))
        bar = "=" * filled + (">" if filled < _BAR_WIDTH else "") + " " * max(0, _BAR_WIDTH - filled - 1)
        count = f" {done}/{total}"
    else:
        block, span = 6, _BAR_WIDTH - 6
        pos = tick % (2 * span) if span else 0
        pos = pos if pos <= span else 2 * span - pos
        bar = " " * pos + "=" * block + " " * (span - pos)
        count = ""
    return f"{label} [{bar}]{count} {elapsed:6.1f} s"


class Task:
    """A running piece of work: its label, how much of ``total`` is done, when it started."""

    def __init__(self, label: str, total: int | None = None) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.started = time.perf_counter()
        self.shown = False
        self._finished = threading.Event()
        self._watcher: threading.Thread | None = None

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def advance(self, steps: int = 1) -> None:
        """Count ``steps`` more units of ``total`` as done."""
        self.done += steps


def _stack() -> list[Task]:
    if not hasattr(_local, "stack"):
        _local.stack = []
    return _local.stack  # type: ignore[no-any-return]


def _stream() -> TextIO:
    return sys.stderr


def _on_terminal() -> bool:
    try:
        return bool(_stream().isatty())
    except (AttributeError, ValueError):
        return False


def _ensure_handler() -> None:
    """A stderr handler for the ``kernelgen`` logger when the application configured none."""
    with _handler_lock:
        if LOGGER.hasHandlers():
            return
        handler = logging.StreamHandler()  # the current sys.stderr at each record
        handler.setFormatter(logging.Formatter("kernelgen: %(message)s"))
        LOGGER.addHandler(handler)
        if LOGGER.level == logging.NOTSET:
            LOGGER.setLevel(logging.INFO)


def _log(message: str) -> None:
    _ensure_handler()
    LOGGER.info(message)


def _watch_log(t: Task) -> None:
    """Non-terminal: a record after DELAY, then every HEARTBEAT seconds while the task runs."""
    if t._finished.wait(DELAY):
        return
    t.shown = True
    _log(f"{t.label}: {_amount(t)}running for {t.elapsed:.1f} s")
    while not t._finished.wait(HEARTBEAT):
        _log(f"{t.label}: {_amount(t)}still running after {t.elapsed:.1f} s")


def _watch_terminal(t: Task, stack: list[Task]) -> None:
    """Terminal: redraw one line for the outermost task, naming the innermost one running."""
    if t._finished.wait(DELAY):
        return
    t.shown = True
    tick = 0
    while True:
        inner = stack[-1] if stack and stack[-1] is not t else None
        label = t.label if inner is None else f"{t.label} | {inner.label}"
        _stream().write("\r\x1b[2K" + render_bar(label, t.elapsed, t.done, t.total, tick))
        _stream().flush()
        tick += 1
        if t._finished.wait(REFRESH):
            return


def _amount(t: Task) -> str:
    return f"{t.done}/{t.total} done, " if t.total else ""


@contextmanager
def task(label: str, total: int | None = None) -> Iterator[Task]:
    """Report ``label`` on stderr if the block runs longer than :data:`DELAY` seconds.

    Parameters
    ----------
    label : str
        What is being done, e.g. ``"generating rbf_ard_0f3c...: 140 outputs"``.
    total : int, optional
        Units of work; :meth:`Task.advance` counts them (the bar then shows a fraction).

    Yields
    ------
    Task
    """
    t = Task(label, total)
    if not enabled():
        yield t
        return
    stack = _stack()
    outermost = not stack
    stack.append(t)
    terminal = _on_terminal()
    watcher = None
    if not terminal:
        watcher = threading.Thread(target=_watch_log, args=(t,), daemon=True, name="kernelgen-progress")
    elif outermost:
        watcher = threading.Thread(target=_watch_terminal, args=(t, stack), daemon=True, name="kernelgen-progress")
    if watcher is not None:
        watcher.start()
    try:
        yield t
    finally:
        t._finished.set()
        if watcher is not None:
            watcher.join()
        stack.pop()
        _finish(t, terminal, outermost)


def _finish(t: Task, terminal: bool, outermost: bool) -> None:
    if terminal and outermost and t.shown:
        _stream().write("\r\x1b[2K" + f"{t.label}: done in {t.elapsed:.1f} s\n")
        _stream().flush()
    elif not terminal and t.shown:
        _log(f"{t.label}: done in {t.elapsed:.1f} s")
