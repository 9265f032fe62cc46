"""Backends share the IR and the store's discipline: one file per backend, hashed, checksummed, deterministic."""

from __future__ import annotations

import ast
import re

import pytest

from kernelgen import kernels
from kernelgen.codegen.backends import BACKENDS, backend
from kernelgen.codegen.ir import BatchSpec
from kernelgen.codegen.render import checksum_ok, versions_text
from kernelgen.codegen.store import ensure_source, module_name, source_text
from kernelgen.symbolic.request import Request


def _spec() -> BatchSpec:
    return BatchSpec.make(kernels.matern(2, nu=2.5), [Request(), Request((0,), (1,))], gradient=True)


def test_every_backend_names_and_checksums_its_own_file() -> None:
    spec = _spec()
    names = {b: module_name(spec, b) for b in BACKENDS}
    assert re.fullmatch(r"matern52_[0-9a-f]{16}", names["numba"])  # the committed naming is unchanged
    for b in ("torch", "jax", "keops"):
        assert re.fullmatch(rf"matern52_{b}_[0-9a-f]{{16}}", names[b])
        assert f"backend={b}" in versions_text(b)
    assert len(set(names.values())) == 4
    for b in BACKENDS:
        text = source_text(spec, b)
        assert checksum_ok(text) and text == source_text(spec, b)
        ast.parse(text)  # valid Python
        assert f"templates/{backend(b).template}" in text.splitlines()[0]


def test_engine_modules_use_where_not_python_branches() -> None:
    text = source_text(_spec(), "torch")
    body = text.split("def outputs", 1)[1]
    assert "if " not in body.replace("_select(", "")  # branches are selections, so autograd and jit work
    assert "torch.where(_at0, 1.0, _quad0)" in body  # safe radius where it vanishes
    assert "math." not in body


def test_unknown_backend_is_an_error() -> None:
    with pytest.raises(ValueError, match="backend must be one of"):
        module_name(_spec(), "cuda")


def test_engine_file_written_atomically_in_cache(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("KERNELGEN_CACHE_DIR", str(tmp_path))
    path = ensure_source(_spec(), target="jax")
    assert path.parent == tmp_path and path.name == module_name(_spec(), "jax") + ".py"
    assert checksum_ok(path.read_text()) and not list(tmp_path.glob("*.tmp"))
