"""Generated modules for the array engines (torch, jax, keops): loaded lazily, read by their constants.

A module for these backends exposes ``outputs(x, y, p)`` returning every output of its batch for
broadcast pairs (see ``templates/array.py.jinja`` and ``keops.py.jinja``). This module only finds
the module and maps typed outputs to positions; arranging the outputs into matrices is the
bridges' job (``kernelgen.gpytorch``, ``kernelgen.jax``), which know their engine's arrays.
Nothing here imports torch or jax: the generated module does, when it is loaded.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from types import ModuleType

from ..codegen.backends import backend
from ..codegen.ir import BatchSpec
from ..codegen.store import module_name
from ..symbolic.kernel import Kernel
from ..symbolic.request import Output, Request
from .loading import checked_info, load

__all__ = ["EngineModule", "engine_module", "joint_requests"]

_modules: dict[tuple[str, str], EngineModule] = {}
_lock = threading.Lock()


class EngineModule:
    """One generated engine module for a :class:`BatchSpec` (outputs from the module's own constants)."""

    def __init__(self, spec: BatchSpec, module: ModuleType, target: str) -> None:
        info = checked_info(spec, module)
        self.spec = spec
        self.module = module
        self.backend = target
        self.outputs: tuple[Output, ...] = info.outputs
        self.parameters = info.parameters
        self._index = {o: k for k, o in enumerate(self.outputs)}

    def position(self, output: Output) -> int:
        try:
            return self._index[output]
        except KeyError:
            raise KeyError(f"output {output.request}, param={output.param} is not in this module") from None

    def table(self, rows: Sequence[tuple[int, ...]], cols: Sequence[tuple[int, ...]],
              param: str | None = None) -> list[list[int]]:
        """``[a][b]`` = position of ``(dx=rows[a], dy=cols[b])`` in the tuple ``outputs`` returns."""
        return [[self.position(Output(Request(a, b), param)) for b in cols] for a in rows]

    def __call__(self, x: object, y: object, p: Sequence[object]) -> tuple[object, ...]:
        """Every output for broadcast pairs ``(x, y)`` and parameter values ``p`` (kernel order)."""
        return self.module.outputs(x, y, p)


def joint_requests(rows: Sequence[tuple[int, ...]], cols: Sequence[tuple[int, ...]]) -> list[Request]:
    """The requests of a joint covariance: ``(dx=a, dy=b)`` for every row and column derivative."""
    return [Request(a, b) for a in rows for b in cols]


def engine_module(kernel: Kernel, requests: Sequence[Request], gradient: bool = False,
                  target: str = "torch") -> EngineModule:
    """The ``target`` backend's module for ``kernel`` and typed ``requests`` (generated on first use)."""
    config = backend(target)
    if config.name == "numba":
        raise ValueError("engine_module serves torch, jax and keops; numba batches come from runtime.compiled")
    spec = BatchSpec.make(kernel, requests, gradient)
    key = (config.name, module_name(spec, config))
    with _lock:
        found = _modules.get(key)
    if found is None:
        found = EngineModule(spec, load(spec, config.name), config.name)
        with _lock:
            found = _modules.setdefault(key, found)
    return found
