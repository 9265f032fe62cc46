"""Generated files: golden copies of the built-ins, determinism, concurrency, corruption recovery."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from kernelgen import kernels
from kernelgen.codegen.builtins import expected_files
from kernelgen.codegen.ir import BatchSpec
from kernelgen.codegen.render import checksum_ok
from kernelgen.codegen.store import builtin_dir, ensure_source, module_name, source_text
from tests.support.kernels import concurrency_kernel

REPO = Path(__file__).resolve().parents[2]


def test_golden_generated_directory() -> None:
    """Regenerating every committed built-in module gives byte-identical files, and nothing stale."""
    expected = expected_files()
    committed = {
        p.name: p.read_text(encoding="utf-8") for p in builtin_dir().glob("*.py") if p.name != "__init__.py"
    }
    stale = sorted(set(committed) - set(expected))
    missing = sorted(set(expected) - set(committed))
    assert not stale and not missing, f"run `kernelgen generate --builtins` (stale {stale}, missing {missing})"
    changed = [name for name, text in expected.items() if committed[name] != text]
    assert not changed, f"generated/ differs from the generator for {changed}; run kernelgen generate --builtins"


def test_generation_is_deterministic_across_processes(tmp_path: Path) -> None:
    code = textwrap.dedent("""
        import sys
        from kernelgen import Kernel
        from kernelgen.codegen.ir import BatchSpec
        from kernelgen.codegen.store import source_text
        r = "sqrt((x0-y0)**2/l**2 + (x1-y1)**2/m**2)"
        k = Kernel.from_string(f"a*(1 + {r})*exp(-{r}) * (1 + x0*y0)", dim=2)
        sys.stdout.write(source_text(BatchSpec.make(k, [((), ()), ((0,), (1,))], gradient=True)))
    """)
    env = dict(os.environ, PYTHONHASHSEED="random")
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
            for _ in range(2)]
    assert runs[0] == runs[1]
    assert checksum_ok(runs[0])


def test_header_names_source_request_and_versions() -> None:
    spec = BatchSpec.make(kernels.rbf(1), [((0,), ())], gradient=True)
    text = source_text(spec)
    head = text.splitlines()[:5]
    assert "Do not edit" in head[0]
    assert head[1].startswith("# kernel: variance*exp(")
    assert "(dx=(0,), dy=())" in head[2] and "gradients" in head[2]
    assert "sympy=" in head[3] and "kernelgen=" in head[3] and "templates=" in head[3]


def test_file_name_carries_content_hash() -> None:
    a = BatchSpec.make(kernels.rbf(1, length_scale=0.3), [((), ())])
    b = BatchSpec.make(kernels.rbf(1, length_scale=9.0), [((), ())])  # values are runtime inputs
    c = BatchSpec.make(kernels.rbf(1), [((0,), ())])
    assert module_name(a) == module_name(b) != module_name(c)


_kernel = concurrency_kernel


def test_truncated_module_is_regenerated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KERNELGEN_CACHE_DIR", str(tmp_path))
    spec = BatchSpec.make(_kernel(), [((), ())])
    path = ensure_source(spec)
    good = path.read_text()
    path.write_text(good[: len(good) // 2])  # an interrupted writer without atomic rename
    assert not checksum_ok(path.read_text())
    assert ensure_source(spec) == path
    assert path.read_text() == good
    path.write_text(good.replace("math.exp", "math.cos", 1))  # edited by hand
    ensure_source(spec)
    assert path.read_text() == good


def test_no_temporary_files_left(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KERNELGEN_CACHE_DIR", str(tmp_path))
    ensure_source(BatchSpec.make(_kernel(), [((), ())]))
    assert not list(tmp_path.glob("*.tmp"))


_WORKER = textwrap.dedent("""
    import sys, numpy as np
    sys.path.insert(0, {repo!r})
    from tests.support.kernels import concurrency_kernel as _kernel
    import kernelgen.runtime as rt
    k = _kernel()
    X = np.linspace(0, 1, 14).reshape(7, 2)
    batch = rt.compiled(k, [((), ()), ((1,), (0,))], gradient=True)
    out = batch.fill(X, None, k.parameter_vector)
    np.save(sys.argv[1], out)
""")


def test_concurrent_processes_generate_one_valid_module(tmp_path: Path) -> None:
    """Four processes ask for the same new kernel at once: all succeed and agree, one module is written."""
    cache = tmp_path / "cache"
    env = dict(os.environ, KERNELGEN_CACHE_DIR=str(cache), NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    code = _WORKER.format(repo=str(REPO))
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path / f"out{i}.npy")], env=env,
                              stderr=subprocess.PIPE, text=True) for i in range(4)]
    errors = [p.communicate(timeout=300)[1] for p in procs]
    assert all(p.returncode == 0 for p in procs), errors
    modules = [p for p in cache.glob("*.py")]
    assert len(modules) == 1 and checksum_ok(modules[0].read_text())
    assert not list(cache.glob("*.tmp"))
    outs = [np.load(tmp_path / f"out{i}.npy") for i in range(4)]
    for other in outs[1:]:
        np.testing.assert_array_equal(outs[0], other)


def test_cache_dir_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KERNELGEN_CACHE_DIR", str(tmp_path / "here"))
    path = ensure_source(BatchSpec.make(_kernel(), [((0,), ())]))
    assert path.parent == tmp_path / "here"


def test_generated_code_is_numba_friendly() -> None:
    spec = BatchSpec.make(kernels.matern(2, 2.5, ard=True), [((0,), (1,)), ((0, 0), ())], gradient=True)
    body = source_text(spec).split("def pair", 1)[1].split("@njit", 1)[0]
    assert "**2" not in body and "**3" not in body  # small integer powers are multiplications
    assert "DiracDelta" not in body and "sqrt(5)" not in body
    assert "2.23606797749979" in body  # constants are float literals
