"""Engine tests (torch, gpytorch, keops, jax, tinygp): required in CI, skippable elsewhere.

``.ci/run`` installs the engines and sets ``KERNELGEN_REQUIRE_ENGINES=1``: a missing engine then
fails the test run instead of skipping it. Without the variable (a contributor without the extras)
the tests skip with the import error as the reason.
"""

from __future__ import annotations

import importlib
import os
import tempfile
from types import ModuleType

import pytest

# KeOps compiles a formula into its cache folder; two xdist workers building the same formula
# there at once can import a half-written library. One folder per worker (set before pykeops loads).
if os.environ.get("PYTEST_XDIST_WORKER"):
    _base = os.environ.get("KEOPS_CACHE_FOLDER") or os.path.join(tempfile.gettempdir(), "kernelgen-keops")
    os.environ["KEOPS_CACHE_FOLDER"] = os.path.join(_base, os.environ["PYTEST_XDIST_WORKER"])


def engine(name: str) -> ModuleType:
    """Import an engine module; skip only when engines are not required."""
    if os.environ.get("KERNELGEN_REQUIRE_ENGINES") == "1":
        return importlib.import_module(name)
    return pytest.importorskip(name)


@pytest.fixture(scope="session")
def torch() -> ModuleType:
    torch = engine("torch")
    torch.set_default_dtype(torch.float64)
    return torch


@pytest.fixture(scope="session")
def jax() -> ModuleType:
    jax = engine("jax")
    jax.config.update("jax_enable_x64", True)
    return jax
