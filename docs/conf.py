"""Sphinx configuration: numpydoc API pages for every public name, a sphinx-gallery of examples.

Build (from the repository root): ``pip install -e ".[docs]" && sphinx-build -W -b html docs docs/_build/html``.
The API pages are generated here from the ``__all__`` of each public module, so a new public name
is documented (and its docstring checked by ``-W``) without editing any page.
"""

from __future__ import annotations

import importlib
import os
import types
from pathlib import Path

import kernelgen

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("KERNELGEN_PROGRESS", "0")  # no progress records in the gallery's captured output

project = "kernelgen"
author = "kernelgen developers"
release = version = kernelgen.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

exclude_patterns = ["_build", "gallery/README.txt"]
templates_path = ["_templates"]
html_theme = "alabaster"
html_static_path: list[str] = []

autosummary_generate = True
autodoc_default_options = {"members": False}
autodoc_typehints = "none"  # numpydoc sections carry the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

sphinx_gallery_conf = {
    "examples_dirs": "gallery",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",
    "abort_on_example_error": True,
    "download_all_examples": False,
    "remove_config_comments": True,
    "min_reported_time": 1,
}

#: module -> page title; every name in the module's ``__all__`` gets an API page.
PUBLIC_MODULES = {
    "kernelgen": "Top level",
    "kernelgen.kernels": "Built-in kernels",
    "kernelgen.gp": "Gaussian process",
    "kernelgen.posterior": "Posterior (without the estimator)",
    "kernelgen.sklearn": "scikit-learn bridge",
    "kernelgen.verify": "Verifier",
    "kernelgen.runtime": "Compiled code",
    "kernelgen.progress": "Progress reports",
    "kernelgen.symbolic.request": "Derivative requests",
    "kernelgen.demo": "Demo",
    "kernelgen.cli": "Command line",
}


def _is_alias(value: object) -> bool:
    """A type alias such as ``tuple[int, ...]`` or ``Literal[...]`` (autodoc cannot import these as objects)."""
    return isinstance(value, types.GenericAlias) or type(value).__module__ == "typing"


def public_names(module_name: str) -> tuple[list[str], list[tuple[str, object]]]:
    """A module's ``__all__`` (dunders and submodules left out): (documented objects, type aliases)."""
    module = importlib.import_module(module_name)
    names, aliases = [], []
    for name in module.__all__:
        value = getattr(module, name)
        if name.startswith("__") or isinstance(value, types.ModuleType):
            continue
        if _is_alias(value):
            aliases.append((name, value))
        else:
            names.append(name)
    return names, aliases


def write_api_pages(root: Path) -> None:
    """``api/<module>.rst`` with an autosummary table of the module's public names."""
    api = root / "api"
    api.mkdir(exist_ok=True)
    for module_name, title in PUBLIC_MODULES.items():
        names, aliases = public_names(module_name)
        heading = f"``{module_name}``: {title}"
        lines = [heading, "=" * len(heading), "", f".. automodule:: {module_name}", "   :no-members:", "",
                 f".. currentmodule:: {module_name}", "", ".. autosummary::", "   :toctree: generated/",
                 "   :nosignatures:", ""]
        lines += [f"   {name}" for name in names]
        if aliases:
            lines += ["", "Type aliases", "------------", ""]
            for name, value in aliases:
                shown = repr(value).replace("typing.", "")
                lines += [f".. py:data:: {name}", "", f"   Type alias: ``{shown}``.", ""]
        text = "\n".join(lines) + "\n"
        path = api / f"{module_name}.rst"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")


write_api_pages(Path(__file__).resolve().parent)
