"""``import kernelgen`` stays light: heavy dependencies and bridges load on first use only."""

from __future__ import annotations

import subprocess
import sys
import textwrap

HEAVY = ("sklearn", "scipy.optimize", "matplotlib", "kernelgen.sklearn", "kernelgen.verify", "kernelgen.gp",
         "kernelgen.posterior", "kernelgen.demo")
#: Engines and their bridges: only ``import kernelgen.gpytorch`` / ``kernelgen.jax`` load them.
ENGINES = ("torch", "jax", "gpytorch", "pykeops", "tinygp", "kernelgen.gpytorch", "kernelgen.jax")


def _modules_after(code: str) -> set[str]:
    script = textwrap.dedent(code) + "\nimport sys\nprint('\\n'.join(sorted(sys.modules)))\n"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def _loaded(modules: set[str], prefix: str) -> bool:
    return any(m == prefix or m.startswith(prefix + ".") for m in modules)


def test_import_kernelgen_loads_nothing_heavy() -> None:
    modules = _modules_after("import kernelgen")
    assert not [h for h in (*HEAVY, *ENGINES) if _loaded(modules, h)]
    assert not _loaded(modules, "sympy") and not _loaded(modules, "numba")


def test_a_kernel_loads_symbolic_parts_only() -> None:
    modules = _modules_after("import kernelgen\nk = kernelgen.kernels.rbf(2)\nassert kernelgen.Kernel")
    assert _loaded(modules, "sympy")
    assert not [h for h in (*HEAVY, "kernelgen.runtime", "numba") if _loaded(modules, h)]


def test_public_names_resolve_lazily() -> None:
    modules = _modules_after("""
        import kernelgen
        assert kernelgen.GaussianProcess.__name__ == "GaussianProcess"
        assert kernelgen.verify.sklearn_kernel and kernelgen.__version__
        from kernelgen import InvalidKernelError, NotPositiveDefiniteWarning, KernelParseError
        assert issubclass(InvalidKernelError, ValueError) and issubclass(NotPositiveDefiniteWarning, UserWarning)
    """)
    assert _loaded(modules, "sklearn") and _loaded(modules, "kernelgen.verify")


def test_demo_is_reachable_after_import_kernelgen() -> None:
    modules = _modules_after("""
        import kernelgen
        assert "demo" in dir(kernelgen)
        assert callable(kernelgen.demo.run_demo) and callable(kernelgen.cli.main)
    """)
    assert _loaded(modules, "kernelgen.demo")


def test_python_m_kernelgen_is_the_cli() -> None:
    out = subprocess.run([sys.executable, "-m", "kernelgen", "--help"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("usage: kernelgen") and "verify" in out.stdout


def test_generating_engine_modules_imports_no_engine() -> None:
    """torch / jax / keops module text is generated without importing the engine (it is only text)."""
    modules = _modules_after("""
        import kernelgen, kernelgen.runtime
        from kernelgen.codegen.ir import BatchSpec
        from kernelgen.codegen.store import source_text
        spec = BatchSpec.make(kernelgen.kernels.rbf(1), [((), ())])
        assert all("def outputs" in source_text(spec, b) for b in ("torch", "jax", "keops"))
    """)
    assert not [e for e in ENGINES if _loaded(modules, e)]
