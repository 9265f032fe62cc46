"""The configuration that makes a backend: name, templates, printer, template context."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

__all__ = ["BackendConfig"]


@dataclass(frozen=True)
class BackendConfig:
    """How one engine's modules are printed, laid out and named.

    Parameters
    ----------
    name : str
        Engine name; part of the module name and of the cache key (except for numba, whose names
        predate backends and stay as they are).
    template : str
        The entry template rendered for a module.
    template_files : tuple of str
        Every template the entry template uses: their bytes are hashed into the key and header.
    printer : callable
        ``printer(expr, names, growth=None) -> str`` for one expression (``growth``: damped products, numba only).
    context : mapping
        Extra template variables (module prefixes and the like).
    """

    name: str
    template: str
    template_files: tuple[str, ...]
    printer: Callable[..., str]
    context: Mapping[str, str] = field(default_factory=dict)

    @property
    def tagged(self) -> bool:
        """Whether module names and keys carry the backend name (every backend but numba)."""
        return self.name != "numba"
