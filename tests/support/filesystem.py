"""File-system situations for tests: a directory nobody can write to, even when the tests run as root."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def read_only_directory(path: Path) -> Iterator[Path]:
    """``path`` (created) made unwritable for the duration: mode 0o555, and immutable for root.

    Root ignores permission bits, so there the directory is also marked immutable with
    ``chattr +i``; where that is unavailable the test is skipped (it cannot be arranged).
    """
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o555)
    immutable = False
    try:
        if os.access(path, os.W_OK):
            chattr = shutil.which("chattr")
            if chattr is None or subprocess.run([chattr, "+i", str(path)], capture_output=True).returncode != 0:
                pytest.skip("cannot make a directory read-only for root here (no chattr +i)")
            immutable = True
        yield path
    finally:
        if immutable:
            subprocess.run([shutil.which("chattr") or "chattr", "-i", str(path)], check=True)
        path.chmod(0o755)
