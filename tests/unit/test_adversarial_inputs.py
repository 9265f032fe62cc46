"""Adversarial inputs that need no compilation: kernel text, names, hyperparameter values.

Each case has one correct outcome (a value checked against an independent reference, or a named
error); the classification and the counts are in ``tests/support/adversarial.py``. The cases that
compile (values, GP, cache, bridge evaluation, command line) are in
``tests/integration/test_adversarial.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from kernelgen import Kernel, KernelParseError, kernels
from kernelgen.symbolic.errors import InvalidKernelError
from tests.support.adversarial import Case, Raises, Value, classify, record


def _parse(text: str, dim: int = 1) -> Case:
    return lambda _: Kernel.from_string(text, dim=dim).expr  # type: ignore[return-value]


def _refused(case_id: str, text: str, fragment: str, dim: int = 1, error: type = KernelParseError) -> Case:
    return Case(case_id, "parsing", lambda _: Kernel.from_string(text, dim=dim), Raises(error, fragment))


def _sum_value(text: str, expected: str, point: tuple[float, float]) -> Case:
    """A string inside the limits: its value at a point, against SymPy's own parse of the text."""
    reference = sp.sympify(expected.replace("^", "**"), rational=True)

    def run(_: Path) -> float:
        k = Kernel.from_string(text, dim=1)
        return float(k.expr.subs({sp.Symbol("x0"): point[0], sp.Symbol("y0"): point[1]}).evalf(30))

    value = float(reference.subs({sp.Symbol("x0"): point[0], sp.Symbol("y0"): point[1]}).evalf(30))
    return Case(f"inside limits: {text[:30]}", "parsing", run, Value(lambda: value, rtol=1e-15))


PARSING = [
    _refused("9**9**9 (ran forever)", "9**9**9*x0*y0", "MAX_EXPONENT = 100"),
    _refused("(x0*y0+1)**9999999999 (MemoryError)", "(x0*y0+1)**9999999999", "MAX_EXPONENT = 100"),
    _refused("(x0-y0)**2**100 (MemoryError)", "(x0-y0)**2**100", "MAX_EXPONENT = 100"),
    _refused("1500-term sum (RecursionError)", "+".join(["x0*y0"] * 1500), "MAX_NODES = 2000"),
    _refused("1e309 (TypeError about inf)", "1e309*x0*y0", "MAX_MAGNITUDE"),
    _refused("1e-400 underflows", "1e-400*x0*y0", "underflows to 0"),
    _refused("3300-term chain (parser recursion)", "x0+" * 3300 + "y0", "MAX_NODES = 2000"),
    _refused("3000 nested powers (parser stack)", "x0**" * 1500 + "y0", "MAX_NODES = 2000"),
    _refused("deep unary chain", "-" * 60 + "x0*y0", "MAX_DEPTH = 50"),
    _refused("exponent tower 2**2**2**2**5", "2**(2**(2**(2**5)))*x0*y0", "MAX_EXPONENT = 100"),
    _refused("exp(1000) overflows", "exp(1000)*x0*y0", "MAX_MAGNITUDE"),
    _refused("400-digit literal", "1" * 400 + "*x0*y0", "MAX_MAGNITUDE"),
    _refused("multinomial blow-up", "(x0+y0+x1+y1+1)**60", "MAX_EXPANDED_TERMS", dim=2),
    _refused("11 000 characters", "x0*y0+" * 1833 + "1", "MAX_TEXT_LENGTH"),
    _refused("code injection", "__import__('os').system('true')", "calling anything but a plain function name"),
    _refused("attribute access", "x0.real*y0", "attribute access"),
    _refused("fi and the ligature", "fi*exp(-(x0-y0)**2/\ufb01**2)", "'fi' and 'ﬁ'", error=InvalidKernelError),
    _refused("l and script l", "l*exp(-(x0-y0)**2/\u2113**2)", "'l' and 'ℓ'", error=InvalidKernelError),
    _refused("micro sign and mu", "\u00b5*exp(-(x0-y0)**2/\u03bc**2)", "'µ' and 'μ'", error=InvalidKernelError),
    _sum_value("+".join(f"{i + 1}*x0*y0" for i in range(300)), "45150*x0*y0", (0.3, -0.7)),
    _sum_value("x0*y0/2/3*12 - 2*x0*y0 + (x0*y0+1)^2", "(x0*y0+1)**2", (0.3, 0.9)),
    _sum_value("(x0*y0 + 1)**100 / 2**100", "((x0*y0 + 1)/2)**100", (0.9, 0.95)),
]


def _sympy_kernel(a: str, b: str) -> Case:
    def run(_: Path) -> Kernel:
        x, y = sp.symbols("x y")
        return Kernel(sp.Symbol(a) * sp.exp(-(x - y) ** 2 / sp.Symbol(b) ** 2), x=[x], y=[y],
                      hyperparameters={a: 2.0, b: 0.5})
    return Case(f"SymPy symbols {a!r} and {b!r}", "names", run, Raises(InvalidKernelError, f"{a!r} and {b!r}"))


def _algebra_names(_: Path) -> list[float]:
    left = Kernel.from_string("fi * x0 * y0", dim=1, fi=2.0)
    x, y = sp.symbols("x y")
    right = Kernel(sp.Symbol("\ufb01") * sp.exp(-(x - y) ** 2), x=[x], y=[y], hyperparameters={"\ufb01": 3.0})
    k = left * right
    return [k.values[n] for n in ("fi", "fi_2")]


def _huge_sympy_power(_: Path) -> Kernel:
    x, y = sp.symbols("x y")
    return Kernel((x * y + 1) ** 9999999999, x=[x], y=[y])


NAMES = [
    _sympy_kernel("fi", "\ufb01"),
    _sympy_kernel("l", "\u2113"),
    _sympy_kernel("\u00b5", "\u03bc"),
    Case("algebra keeps fi and ﬁ apart", "names", _algebra_names, Value(lambda: [2.0, 3.0])),
    Case("SymPy power 9999999999", "parsing", _huge_sympy_power, Raises(KernelParseError, "MAX_EXPONENT = 100")),
]


def _symbolic(**params: object) -> Case:
    from kernelgen.sklearn import SymbolicKernel

    name = ", ".join(f"{k}={v!r}" for k, v in params.items())
    hp = next(iter(params)).removesuffix("_bounds")
    return Case(f"SymbolicKernel({name})", "bridge", lambda _: SymbolicKernel(kernels.rbf(1), **params),
                Raises(ValueError, repr(hp)))


def _set_params(**params: object) -> Case:
    from kernelgen.sklearn import SymbolicKernel

    name = ", ".join(f"{k}={v!r}" for k, v in params.items())
    hp = next(iter(params)).removesuffix("_bounds")

    def run(_: Path) -> object:
        return SymbolicKernel(kernels.rbf(1), noise_level=0.1).set_params(**params)

    return Case(f"set_params({name})", "bridge", run, Raises(ValueError, repr(hp)))


def _theta(theta: list[float], name: str) -> Case:
    from kernelgen.sklearn import SymbolicKernel

    def run(_: Path) -> object:
        return SymbolicKernel(kernels.rbf(1), noise_level=0.1).clone_with_theta(np.array(theta))

    return Case(f"clone_with_theta({theta})", "bridge", run, Raises(ValueError, repr(name)))


def _theta_setter_is_atomic(_: Path) -> list[float]:
    from kernelgen.sklearn import SymbolicKernel

    k = SymbolicKernel(kernels.rbf(1), length_scale=0.5, noise_level=0.1)
    try:
        k.theta = np.array([0.0, np.log(2.0), np.nan])
    except ValueError:
        pass
    return [k.variance, k.length_scale, k.noise_level]  # nothing was set


def _clone_keeps_values(_: Path) -> list[float]:
    from sklearn.base import clone

    from kernelgen.sklearn import SymbolicKernel

    k = clone(SymbolicKernel(kernels.rbf(1), length_scale=0.25, noise_level=0.5, variance_bounds="fixed"))
    return [k.variance, k.length_scale, k.noise_level, float(np.exp(k.theta[0]))]


BRIDGE = [
    _symbolic(length_scale=-1.0),
    _symbolic(length_scale=0.0),
    _symbolic(length_scale=float("nan")),
    _symbolic(variance=float("inf")),
    _symbolic(noise_level=-0.5),
    _symbolic(length_scale_bounds=(0.0, 1.0)),
    _symbolic(length_scale_bounds=(2.0, 1.0)),
    _symbolic(length_scale_bounds=(1e-5, float("inf"))),
    _set_params(length_scale=float("nan")),
    _set_params(variance=-2.0),
    _set_params(noise_level=0.0),
    _set_params(length_scale_bounds="free"),
    _theta([np.nan, 0.0, 0.0], "variance"),
    _theta([0.0, -np.inf, 0.0], "length_scale"),
    _theta([0.0, 0.0, 800.0], "noise_level"),
    Case("theta setter sets nothing on error", "bridge", _theta_setter_is_atomic, Value(lambda: [1.0, 0.5, 0.1])),
    Case("clone keeps values and bounds", "bridge", _clone_keeps_values, Value(lambda: [1.0, 0.25, 0.5, 0.25])),
]

CASES = PARSING + NAMES + BRIDGE


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_adversarial_input(case: Case, tmp_path: Path, record_property: object) -> None:
    outcome = classify(case, tmp_path)
    record(record_property, case, outcome)  # type: ignore[arg-type]
    assert not outcome.bad and outcome.kind == ("named error" if isinstance(case.expect, Raises) else "correct"), (
        f"{outcome.kind}: {outcome.detail}")
