"""Import generated modules (once per process) and read what they are from their own constants.

Nothing here does SymPy work: a committed or cached module is found by its name (a hash of the
kernel's text and the requests), and its outputs, parameter order and symmetry are the module's
``OUTPUTS``, ``PARAMETERS`` and ``SYMMETRIC`` / ``SYMMETRIC_KERNEL``.

Identity: the store accepts a file only if the identity in its header is the one asked for
(:func:`kernelgen.codegen.store.identity`, a hash computed from the spec's text); after import the
module's ``IDENTITY`` constant is compared again, so a file replaced between the check and the
import is regenerated rather than used.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from ..codegen.ir import BatchSpec
from ..codegen.store import builtin_dir, ensure_source, identity, module_name
from ..symbolic.request import Output, Request

__all__ = ["ModuleInfo", "checked_info", "load", "module_info"]

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


def checked_info(spec: BatchSpec, module: ModuleType) -> ModuleInfo:
    """The module's constants, after checking they are for ``spec``'s kernel (dimension, parameters)."""
    info = module_info(module)
    if info.dim != spec.kernel.dim or info.parameters != spec.kernel.all_hyperparameter_names:
        raise RuntimeError(
            f"generated module {module.__name__} is for dim={info.dim}, parameters {info.parameters}; "
            f"the kernel has dim={spec.kernel.dim}, parameters {spec.kernel.all_hyperparameter_names}")
    return info


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
        expected = identity(spec, target)
        module = _import(name, ensure_source(spec, target=target))
        if getattr(module, "IDENTITY", None) != expected:
            # The file changed after the store checked it: regenerate, import under a fresh name.
            module = _import(name, ensure_source(spec, target=target, force=True), fresh=True)
            if getattr(module, "IDENTITY", None) != expected:
                raise RuntimeError(f"generated module {module.__file__} does not record the identity of "
                                   f"{spec.kernel.name}: {spec.describe()} even after regeneration")
        _loaded[name] = module
        return module


def _import(name: str, path: Path, fresh: bool = False) -> ModuleType:
    """Import the module file ``path`` as ``kernelgen.generated.<name>`` or ``kernelgen_cache.<name>``."""
    package = "kernelgen.generated" if path.parent == builtin_dir() else "kernelgen_cache"
    qualified = f"{package}.{name}"
    if fresh:  # a module already imported under this name is never evicted (numba refers to it)
        suffix = 2
        while f"{qualified}_{suffix}" in sys.modules:
            suffix += 1
        qualified = f"{qualified}_{suffix}"
    module = sys.modules.get(qualified)
    if module is None:
        module_spec = importlib.util.spec_from_file_location(qualified, path)
        assert module_spec is not None and module_spec.loader is not None
        module = importlib.util.module_from_spec(module_spec)
        # Registered before exec and never evicted: numba's cache refers to it by name.
        sys.modules[qualified] = module
        module_spec.loader.exec_module(module)
    return module
