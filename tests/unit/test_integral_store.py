"""Integral modules go through the store's discipline: identity in the file, checked before use.

No numba compilation: only the module text is generated and inspected.
"""

from __future__ import annotations

from pathlib import Path

from kernelgen import kernels
from kernelgen.codegen.integral_ir import IntegralSpec
from kernelgen.codegen.store import ensure_source, file_identity, identity, module_name
from kernelgen.symbolic.request import Functional, Request

BOX = Functional((), (1,))


def _spec(length_scale: float) -> IntegralSpec:
    kernel = kernels.rbf(1, length_scale=length_scale)
    return IntegralSpec.make(kernel, [Request.between(BOX, Functional(()))])


def test_an_integral_module_records_its_identity(tmp_path: Path) -> None:
    spec = _spec(0.5)
    path = ensure_source(spec, tmp_path)
    text = path.read_text(encoding="utf-8")
    assert path.name == f"{module_name(spec)}.py"
    assert file_identity(text) == identity(spec)
    assert f"IDENTITY = {identity(spec)!r}" in text


def test_another_valid_module_under_its_name_is_regenerated(tmp_path: Path) -> None:
    spec = _spec(0.5)
    other = IntegralSpec.make(kernels.matern(1, 1.5), [Request.between(BOX, BOX)])
    path = ensure_source(spec, tmp_path)
    impostor = ensure_source(other, tmp_path).read_text(encoding="utf-8")  # valid checksum, wrong identity
    path.write_text(impostor, encoding="utf-8")
    again = ensure_source(spec, tmp_path)
    assert again == path
    assert file_identity(path.read_text(encoding="utf-8")) == identity(spec)


def test_a_truncated_module_is_regenerated(tmp_path: Path) -> None:
    spec = _spec(0.5)
    path = ensure_source(spec, tmp_path)
    full = path.read_text(encoding="utf-8")
    path.write_text(full[: len(full) // 2], encoding="utf-8")
    ensure_source(spec, tmp_path)
    assert path.read_text(encoding="utf-8") == full
