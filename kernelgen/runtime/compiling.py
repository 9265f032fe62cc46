"""Progress reports for numba compilations of generated modules.

numba compiles a jitted function on its first call with new argument types (a disk-cache hit is
not a compilation). A listener on numba's ``numba:compile`` event turns the outermost compilation
of a function from a generated module into a :func:`kernelgen.progress.task`, so a compile that
takes more than about a second says what it compiles and how many outputs that module has.
"""

from __future__ import annotations

import sys
import threading
from contextlib import ExitStack
from typing import Any

from numba.core import event

from ..progress import plural, task

__all__ = ["CompileListener", "install"]

#: Module name prefixes of generated code (committed modules and the user cache).
GENERATED_PREFIXES = ("kernelgen.generated.", "kernelgen_cache.")


class CompileListener(event.Listener):
    """Opens a progress task at the start of an outermost compilation and closes it at the end."""

    def __init__(self) -> None:
        self._local = threading.local()

    def _open(self) -> list[ExitStack | None]:
        if not hasattr(self._local, "open"):
            self._local.open = []
        return self._local.open  # type: ignore[no-any-return]

    def on_start(self, ev: event.Event) -> None:
        opened = self._open()
        label = _label(ev.data) if not opened else None  # nested compilations belong to the outer one
        if label is None:
            opened.append(None)
            return
        stack = ExitStack()
        stack.enter_context(task(label))
        opened.append(stack)

    def on_end(self, ev: event.Event) -> None:
        opened = self._open()
        stack = opened.pop() if opened else None
        if stack is not None:
            stack.close()


def _label(data: Any) -> str | None:
    """``"compiling rbf_0123abcd.fill_symmetric (6 outputs)"`` for generated code, else None."""
    dispatcher = data.get("dispatcher") if isinstance(data, dict) else None
    func = getattr(dispatcher, "py_func", None)
    module_name = getattr(func, "__module__", "") or ""
    if not module_name.startswith(GENERATED_PREFIXES):
        return None
    module = sys.modules.get(module_name)
    outputs = len(getattr(module, "OUTPUTS", ()))
    return f"compiling {module_name.rsplit('.', 1)[-1]}.{func.__name__} ({plural(outputs, 'output')})"


_installed: list[CompileListener] = []


def install() -> None:
    """Register the listener once per process."""
    if not _installed:
        listener = CompileListener()
        event.register("numba:compile", listener)
        _installed.append(listener)
