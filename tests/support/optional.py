"""Optional libraries in tests (engines, comparison libraries): required in CI, skippable elsewhere.

``.ci/run`` installs every extra and sets ``KERNELGEN_REQUIRE_ENGINES=1``: a missing library then
fails the test run instead of skipping it. Without the variable (a contributor without the extras)
the tests skip with the import error as the reason.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest


def optional_import(name: str) -> ModuleType:
    """Import ``name``; skip the calling test module or fixture only when extras are not required."""
    if os.environ.get("KERNELGEN_REQUIRE_ENGINES") == "1":
        return importlib.import_module(name)
    return pytest.importorskip(name)
