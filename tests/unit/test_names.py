"""Hyperparameter names: NFKC at every entry, one spelling per name, ASCII generated identifiers.

Issue 7, reproducer 3: ``fi``/``ﬁ``, ``l``/``ℓ`` and ``µ``/``μ`` are one identifier to Python, so
they overwrote each other in generated code (wrong values, identical gradient columns). The
values themselves are checked against closed forms in ``tests/integration/test_adversarial.py``.
"""

from __future__ import annotations

import ast

import pytest
import sympy as sp

from kernelgen import Hyperparameter, Kernel, kernels
from kernelgen.codegen.ir import BatchSpec, build
from kernelgen.codegen.render import render
from kernelgen.symbolic.errors import InvalidKernelError

#: (spelling a, spelling b): different strings, one name after NFKC.
PAIRS = [("fi", "\ufb01"), ("l", "\u2113"), ("\u03bc", "\u00b5")]


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_two_spellings_in_one_sympy_expression_are_refused(a: str, b: str) -> None:
    x, y = sp.symbols("x y")
    sa, sb = sp.Symbol(a), sp.Symbol(b)
    with pytest.raises(InvalidKernelError) as info:
        Kernel(sa * sp.exp(-(x - y) ** 2 / sb**2), x=[x], y=[y], hyperparameters={a: 2.0, b: 0.5})
    assert repr(a) in str(info.value) and repr(b) in str(info.value)


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_two_spellings_in_one_string_are_refused(a: str, b: str) -> None:
    with pytest.raises(InvalidKernelError) as info:
        Kernel.from_string(f"{a} * exp(-(x0 - y0)**2 / {b}**2)", dim=1)
    assert repr(a) in str(info.value) and repr(b) in str(info.value)


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_one_spelling_is_stored_normalised_and_found_by_either(a: str, b: str) -> None:
    k = Kernel.from_string(f"exp(-(x0 - y0)**2 / {b}**2)", dim=1, **{b: 0.5})
    name = a if a.isascii() else "\u03bc"
    assert k.all_hyperparameter_names == (name,)
    assert k.with_values(**{a: 0.25}).values == {name: 0.25}
    assert k.with_values(**{b: 0.125}).values == {name: 0.125}
    assert k.hyperparameter(b).value == 0.5 and k.symbol(a) == sp.Symbol(name, positive=True)
    assert sp.Symbol(name, positive=True) in k.expr.free_symbols


def test_values_under_two_spellings_are_refused() -> None:
    with pytest.raises(InvalidKernelError, match="'l' and 'ℓ'"):
        Kernel.from_string("exp(-(x0 - y0)**2 / l**2)", dim=1, **{"l": 0.5, "\u2113": 0.7})


def test_sympy_symbol_in_other_spelling_matches_listed_name() -> None:
    x, y, ell = sp.Symbol("x"), sp.Symbol("y"), sp.Symbol("\u2113")
    k = Kernel(sp.exp(-(x - y) ** 2 / ell**2), x=[x], y=[y], hyperparameters={"l": 0.3})
    assert k.values == {"l": 0.3}


def test_hyperparameter_name_is_normalised() -> None:
    assert Hyperparameter("\u2113", 2.0).name == "l"
    assert Hyperparameter("\ufb01").renamed("\u00b5").name == "\u03bc"


def test_algebra_renames_a_name_equal_after_normalisation() -> None:
    x, y = sp.symbols("x y")
    left = Kernel.from_string("fi * x0 * y0", dim=1, fi=2.0)
    right = Kernel(sp.Symbol("\ufb01") * sp.exp(-(x - y) ** 2), x=[x], y=[y], hyperparameters={"\ufb01": 3.0})
    k = left * right
    assert k.all_hyperparameter_names == ("fi", "fi_2")
    assert k.values == {"fi": 2.0, "fi_2": 3.0}


def test_rename_to_another_spelling_of_an_existing_name_is_refused() -> None:
    k = kernels.rbf(1).rename(length_scale="l", variance="s")
    with pytest.raises(ValueError, match="share a name"):
        k.rename(s="\u2113")
    assert k.rename(l="\u2113").all_hyperparameter_names == ("s", "l")


def test_generated_identifiers_are_ascii_and_do_not_depend_on_names() -> None:
    """Same kernel under Greek and Latin names: identical code apart from the names' own constants."""
    greek = Kernel.from_string("\u03c3 * exp(-(x0 - y0)**2 / (2 * \u2113**2))", dim=1)
    latin = Kernel.from_string("s * exp(-(x0 - y0)**2 / (2 * m**2))", dim=1)
    module = build(BatchSpec.make(greek, [((0,), (0,))], gradient=True))
    assert all(local.isascii() for local in module.parameter_locals)
    text = render(module)
    identifiers = {n.id for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Name)}
    assert all(i.isascii() for i in identifiers), sorted(i for i in identifiers if not i.isascii())
    latin_module = build(BatchSpec.make(latin, [((0,), (0,))], gradient=True))
    assert module.blocks == latin_module.blocks
    assert module.parameters == ("\u03c3", "l") and latin_module.parameters == ("s", "m")
