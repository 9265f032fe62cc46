"""The gradient verifier: passes correct scikit-learn kernels, catches hand-derived mistakes."""

from __future__ import annotations

import textwrap

import numpy as np
from scipy.spatial.distance import cdist
from sklearn.gaussian_process.kernels import RBF

from kernelgen import kernels
from kernelgen.cli import main
from kernelgen.verify import hyperparameter_derivative, input_derivative, sklearn_kernel


def main_verify(argv: list[str]) -> int:
    """``kernelgen verify ARGV`` (the sub-command is built by the one CLI module)."""
    return main(["verify", *argv])


class CubedRBF(RBF):
    """scikit-learn PR 11116's change: the log-space length-scale gradient divided by l**3."""

    def __call__(self, X, Y=None, eval_gradient=False):
        K = super().__call__(X, Y)
        if not eval_gradient:
            return K
        return K, (K * cdist(X, X, "sqeuclidean") / self.length_scale**3)[:, :, None]


def test_cli_sklearn_passes_all(capsys):
    assert main_verify(["--sklearn"]) == 0
    out = capsys.readouterr().out
    assert "dK/dlog(theta) = theta * dK/dtheta" in out
    assert "Matern nu=2.5" in out and "FAIL" not in out


def test_correct_rbf_passes_and_cubed_gradient_caught():
    assert sklearn_kernel(RBF(1.0), dim=2).passed
    report = sklearn_kernel(CubedRBF(1.0), dim=2)
    assert not report.passed
    bad = report.check("dK/dlog length_scale")
    assert not bad.passed and bad.max_rel_error > 0.1
    assert "linear space" in bad.diagnosis
    assert report.check("K(X)").passed
    assert "FAIL" in str(report)


def test_cli_kernel_module(tmp_path, monkeypatch, capsys):
    (tmp_path / "userkern.py").write_text(textwrap.dedent("""
        from scipy.spatial.distance import cdist
        from sklearn.gaussian_process.kernels import RBF

        class Cubed(RBF):
            def __call__(self, X, Y=None, eval_gradient=False):
                K = super().__call__(X, Y)
                if not eval_gradient:
                    return K
                return K, (K * cdist(X, X, "sqeuclidean") / self.length_scale**3)[:, :, None]
        """))
    monkeypatch.chdir(tmp_path)
    assert main_verify(["--kernel", "userkern:Cubed", "--dim", "2"]) == 1
    assert "FAIL" in capsys.readouterr().out
    assert main_verify(["--kernel", "userkern:Nope"]) == 2


L = 0.5


def dk_dx0(X, Y):
    K = np.exp(-cdist(X, Y, "sqeuclidean") / (2 * L**2))
    return -K * (X[:, None, 0] - Y[None, :, 0]) / L**2


def dk_dx0_wrong_factor(X, Y):
    return dk_dx0(X, Y) * L  # divides by l instead of l**2


def test_input_derivative_checks():
    k = kernels.rbf(2, L, None)
    assert input_derivative(k, dk_dx0, (0,)).passed
    rep = input_derivative(k, lambda X, Y: -dk_dx0(X, Y), (0,))
    assert not rep.passed and "d/dy0 k" in rep.checks[0].diagnosis and "sign is wrong" in rep.checks[0].diagnosis
    rep = input_derivative(k, dk_dx0_wrong_factor, (0,))
    assert not rep.passed and "constant factor" in rep.checks[0].diagnosis
    rep = input_derivative(k, lambda X, Y: dk_dx0(X, Y) + 0.01 * X[:, None, 1], (0,))
    assert "match neither" in rep.checks[0].diagnosis
    # works on scikit-learn kernels too
    assert input_derivative(RBF(L), dk_dx0, (0,), dim=2).passed


def test_hyperparameter_derivative_conventions():
    k = kernels.rbf(2, L, None)

    def dlog(X, Y):
        d2 = cdist(X, Y, "sqeuclidean")
        return np.exp(-d2 / (2 * L**2)) * d2 / L**2

    def dlin(X, Y):
        return dlog(X, Y) / L

    assert hyperparameter_derivative(k, dlog, "length_scale", log=True).passed
    assert hyperparameter_derivative(k, dlin, "length_scale", log=False).passed
    rep = hyperparameter_derivative(k, dlin, "length_scale", log=True)
    assert not rep.passed and "linear space" in rep.checks[0].diagnosis
    rep = hyperparameter_derivative(k, dlog, "length_scale", log=False)
    assert not rep.passed and "log space" in rep.checks[0].diagnosis
    # scikit-learn names are accepted for scikit-learn kernels
    assert hyperparameter_derivative(2.0 * RBF(L), dlog, "k2__length_scale", dim=2).passed is False


# ---------------------------------------------------------------------- the command line for functions
def _hand_derived(monkeypatch) -> None:  # noqa: ANN001
    """Run from the repository root, where examples/hand_derived.py is importable as the README says."""
    from pathlib import Path

    monkeypatch.chdir(Path(__file__).resolve().parents[2])


def test_cli_function_draws_values_away_from_one_and_names_the_bug(monkeypatch, capsys):
    _hand_derived(monkeypatch)
    # The lambda^3 bug: dk/dl claimed as dk/dlog l. At l = 1 it would pass; random values catch it.
    args = ["--function", "examples.hand_derived:dk_dlog_l_cubed", "--reference", "examples.hand_derived:kernel",
            "--param", "l"]
    assert main_verify(args) == 1
    out = capsys.readouterr().out
    assert "l drawn at random away from 1" in out
    (diagnosis,) = [line.strip() for line in out.splitlines() if line.strip().startswith("->")]
    # one sentence: it says what the values are and what is missing
    assert diagnosis == ("-> The values are dk/dl, the derivative in linear space (the chain-rule factor l is "
                         "missing), not l*dk/dl = dk/dlog l.")
    assert main_verify([*args, "--value", "l=1"]) == 0          # where the two conventions coincide
    assert main_verify(["--function", "examples.hand_derived:dk_dlog_l", "--reference",
                        "exp(-(x0-y0)**2/(2*l**2))", "--param", "l", "--dim", "1"]) == 0
    assert main_verify(["--function", "examples.hand_derived:dk_dx0", "--reference", "examples.hand_derived:kernel",
                        "--dim", "2", "--dx", "0"]) == 0


def test_cli_value_for_functions_without_hyperparameter_arguments(tmp_path, monkeypatch, capsys):
    (tmp_path / "fixed_l.py").write_text(textwrap.dedent("""
        import numpy as np

        def dk_dx0(X, Y):  # l = 0.3 written into the code
            d = X[:, None, 0] - Y[None, :, 0]
            return -d / 0.09 * np.exp(-d**2 / 0.18)
        """))
    monkeypatch.chdir(tmp_path)
    args = ["--function", "fixed_l:dk_dx0", "--reference", "exp(-(x0-y0)**2/(2*l**2))", "--dim", "1"]
    assert main_verify(args) == 2
    err = capsys.readouterr().err
    assert "--value l=" in err and "does not take the hyperparameters l" in err
    assert main_verify([*args, "--value", "l=0.3"]) == 0
    assert "l = 0.3 (the stated values)" in capsys.readouterr().out
    assert main_verify([*args, "--value", "l=0.5"]) == 1
    assert main_verify([*args, "--value", "l"]) == 2
    assert "NAME=NUMBER" in capsys.readouterr().err


def test_plain_function_reference_is_differentiated_numerically():
    from examples.hand_derived import dk_dlog_l, dk_dx0, kernel  # the repository root is on sys.path

    rep = input_derivative(kernel, dk_dx0, (0,), dim=2, randomize=True)
    assert rep.passed and rep.checks[0].relative_error < 1e-8
    rep = hyperparameter_derivative(kernel, dk_dlog_l, "l", dim=2, randomize=True)
    assert rep.passed and "numerically" in str(rep)
    rep = input_derivative(kernel, lambda X, Y, **v: -dk_dx0(X, Y, **v), (0,), dim=1, randomize=True)
    assert "d/dy0 k" in rep.checks[0].diagnosis
