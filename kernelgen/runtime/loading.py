"""Import generated modules (once per process) and read what they are from their own constants.

Nothing here does SymPy work: a committed or cached module is found by its name (a hash of the
kernel's text and the requests), and its outputs, parameter order and symmetry are the module's
``OUTPUTS``, ``PARAMETERS`` and ``SYMMETRIC`` / ``SYMMETRIC_KERNEL``.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from dataclasses import dataclass
from types import ModuleType

from ..codegen.ir import BatchSpec
from ..codegen.store import builtin_dir, ensure_source, module_name
from ..symbolic.request import Output, Request

__all__ = ["ModuleInfo", "load", "module_info"]

_loaded: dict[str, ModuleType] = {}
_thread_lock = threading.Lock()


@dataclass(frozen=True)
class ModuleInfo:
    """What a generated module says about itself."""

    dim: int
    parameters: tuple[str, ...]
    outputs: tuple[Output, ...]
    symmetric: bool
    symmetric_kernel: bool


def module_info(module: ModuleType) -> ModuleInfo:
    """The module's constants as typed values."""
    outputs = tuple(Output(Request(tuple(dx), tuple(dy)), param) for dx, dy, param in module.OUTPUTS)
    return ModuleInfo(int(module.DIM), tuple(module.PARAMETERS), outputs, bool(module.SYMMETRIC),
                      bool(module.SYMMETRIC_KERNEL))


def load(spec: BatchSpec, target: str = "numba") -> ModuleType:
    """Import (once per process) the generated module for ``spec``, generating it if needed.

    ``target`` is the backend (``"numba"``, ``"torch"``, ``"jax"``, ``"keops"``); importing a
    torch, jax or keops module imports that engine, so only its users pay for it.
    """
    name = module_name(spec, target)
    with _thread_lock:
        module = _loaded.get(name)
        if module is not None:
            return module
        path = ensure_source(spec, target=target)
        qualified = (
            f"kernelgen.generated.{name}" if path.parent == builtin_dir() else f"kernelgen_cache.{name}"
        )
        module = sys.modules.get(qualified)
        if module is None:
            module_spec = importlib.util.spec_from_file_location(qualified, path)
            assert module_spec is not None and module_spec.loader is not None
            module = importlib.util.module_from_spec(module_spec)
            # Registered before exec and never evicted: numba's cache refers to it by name.
            sys.modules[qualified] = module
            module_spec.loader.exec_module(module)
        _loaded[name] = module
        return module
