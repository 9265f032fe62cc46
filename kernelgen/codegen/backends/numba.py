"""The numba backend: scalar ``@njit`` code, the format of the committed ``generated/`` modules."""

from __future__ import annotations

from ..printing import print_expr
from .config import BackendConfig

NUMBA = BackendConfig(
    name="numba",
    template="module.py.jinja",
    template_files=("module.py.jinja", "fills.py.jinja"),
    printer=print_expr,
)
