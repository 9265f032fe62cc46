"""Adversarial inputs end to end: numeric inputs, GP, cache, bridge and command line (issue 7).

Every case has one correct outcome: a value, compared with an independent reference (closed forms
evaluated in mpmath, where float64 would itself overflow; a NumPy GP; scikit-learn), or a named
error (type and message; on the command line status 2 and one ``kernelgen <command>: error:``
line without a traceback). ``tests/support/adversarial.py`` classifies what happens;
``tests/conftest.py`` prints the counts of a run: silently wrong results, silent NaN from finite
inputs and CLI tracebacks must all be 0. The cases that compile nothing are in
``tests/unit/test_adversarial_inputs.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

import mpmath
import numpy as np
import pytest
import sympy as sp

from kernelgen import GaussianProcess, Kernel, kernels
from kernelgen.codegen.ir import BatchSpec
from kernelgen.codegen.store import CacheError, ensure_source
from tests.support.adversarial import REPO, Case, Cli, Raises, Value, classify, record, run_cli
from tests.support.filesystem import read_only_directory

FAR = np.array([[0.0], [1e200]])  # |x - y| = 1e200: every polynomial factor overflows
EXTREME = np.array([[1e308], [-1e308]])  # x - y overflows to -inf itself
CLOSE = np.array([[0.0], [0.3]])


# ---------------------------------------------------------------------- references (mpmath, hand-derived)
def _mp_matrix(X: np.ndarray, f: Callable[[mpmath.mpf], mpmath.mpf]) -> np.ndarray:
    """[f(d_ij)] with d = x_i - x_j in mpmath (no overflow), rounded to float64."""
    with mpmath.workdps(30):
        return np.array([[float(f(mpmath.mpf(a) - mpmath.mpf(b))) for b in X[:, 0]] for a in X[:, 0]])


def _rbf(order: tuple[int, int] = (0, 0), s: float = 1.0, ell: float = 1.0) -> Callable[[mpmath.mpf], mpmath.mpf]:
    """RBF s exp(-d^2 / 2l^2) and its (dx, dy) derivatives up to (2, 2), by hand."""
    def f(d: mpmath.mpf) -> mpmath.mpf:
        L, e = mpmath.mpf(ell), mpmath.exp(-d * d / (2 * mpmath.mpf(ell) ** 2))
        u = d / L**2
        forms = {
            (0, 0): 1, (1, 0): -u, (1, 1): 1 / L**2 - u * u,
            (2, 2): 3 / L**4 - 6 * d**2 / L**6 + d**4 / L**8,
        }
        return s * forms[order] * e
    return f


def _rbf_dlog_l(s: float = 1.0, ell: float = 1.0) -> Callable[[mpmath.mpf], mpmath.mpf]:
    return lambda d: s * d * d / mpmath.mpf(ell) ** 2 * mpmath.exp(-d * d / (2 * mpmath.mpf(ell) ** 2))


def _matern52_dxdy(s: float = 1.0, ell: float = 1.0) -> Callable[[mpmath.mpf], mpmath.mpf]:
    """(s a^2 / 3l^2) exp(-a r) (1 + a r - a^2 r^2), a = sqrt(5), r = |d| / l."""
    def f(d: mpmath.mpf) -> mpmath.mpf:
        a, r = mpmath.sqrt(5), abs(d) / ell
        return s * a**2 / (3 * ell**2) * mpmath.exp(-a * r) * (1 + a * r - a**2 * r**2)
    return f


def _matern32(s: float = 1.0, ell: float = 1.0) -> Callable[[mpmath.mpf], mpmath.mpf]:
    def f(d: mpmath.mpf) -> mpmath.mpf:
        a, r = mpmath.sqrt(3), abs(d) / ell
        return s * (1 + a * r) * mpmath.exp(-a * r)
    return f


# ---------------------------------------------------------------------- numeric inputs
def _eval(kernel: Kernel, X: np.ndarray, dx: tuple[int, ...] = (), dy: tuple[int, ...] = (),
          column: int | None = None) -> Callable[[Path], np.ndarray]:
    def run(_: Path) -> np.ndarray:
        if column is None:
            return kernel(X, dx=dx, dy=dy)
        return kernel(X, eval_gradient=True)[1][:, :, column]
    return run


def _names_sum(_: Path) -> np.ndarray:
    """fi * x0 y0 + exp(-(x0 - y0)^2 / ﬁ): two hyperparameters Python reads as one identifier."""
    x, y = sp.symbols("x y")
    left = Kernel.from_string("fi * x0 * y0", dim=1, fi=2.0)
    right = Kernel(sp.exp(-(x - y) ** 2 / sp.Symbol("\ufb01")), x=[x], y=[y], hyperparameters={"\ufb01": 3.0})
    k = left + right
    K, G = k(CLOSE + 0.5, eval_gradient=True)
    return np.stack([K, G[:, :, 0], G[:, :, 1]])


def _names_sum_reference() -> np.ndarray:
    X = (CLOSE + 0.5)[:, 0]
    xy, d2 = np.outer(X, X), np.subtract.outer(X, X) ** 2
    return np.stack([2 * xy + np.exp(-d2 / 3), 2 * xy, np.exp(-d2 / 3) * d2 / 3])


def _micro_mu(_: Path) -> np.ndarray:
    x, y = sp.symbols("x y")
    left = Kernel(sp.Symbol("\u00b5") * x * y, x=[x], y=[y], hyperparameters={"\u00b5": 2.0})
    right = Kernel.from_string("\u03bc * exp(-(x0 - y0)**2)", dim=1, **{"\u03bc": 5.0})
    K, G = (left + right)(CLOSE, eval_gradient=True)
    return np.stack([K, G[:, :, 0], G[:, :, 1]])


def _micro_mu_reference() -> np.ndarray:
    X = CLOSE[:, 0]
    xy, e = np.outer(X, X), np.exp(-np.subtract.outer(X, X) ** 2)
    return np.stack([2 * xy + 5 * e, 2 * xy, 5 * e])


RBF = kernels.rbf(1)
TINY = kernels.rbf(1, length_scale=1e-160)
NUMERIC = [
    Case("RBF k at |x-y|=1e200", "numeric", _eval(RBF, FAR), Value(lambda: _mp_matrix(FAR, _rbf()))),
    Case("RBF dk/dx at 1e200", "numeric", _eval(RBF, FAR, (0,)), Value(lambda: _mp_matrix(FAR, _rbf((1, 0))))),
    Case("RBF d2k/dxdy at 1e200", "numeric", _eval(RBF, FAR, (0,), (0,)),
         Value(lambda: _mp_matrix(FAR, _rbf((1, 1))))),
    Case("RBF d4k/dx2dy2 at 1e200", "numeric", _eval(RBF, FAR, (0, 0), (0, 0)),
         Value(lambda: _mp_matrix(FAR, _rbf((2, 2))), rtol=1e-12)),
    Case("RBF dk/dlog l at 1e200", "numeric", _eval(RBF, FAR, column=1), Value(lambda: _mp_matrix(FAR, _rbf_dlog_l()))),
    Case("RBF k at x-y overflowing (1e308, -1e308)", "numeric", _eval(RBF, EXTREME),
         Value(lambda: np.eye(2))),
    Case("RBF d2k/dxdy at x-y overflowing", "numeric", _eval(RBF, EXTREME, (0,), (0,)), Value(lambda: np.eye(2))),
    Case("Matern 5/2 d2k/dxdy at 1e200", "numeric", _eval(kernels.matern(1, 2.5), FAR, (0,), (0,)),
         Value(lambda: _mp_matrix(FAR, _matern52_dxdy()))),
    Case("Matern 3/2 k at 1e200", "numeric", _eval(kernels.matern(1, 1.5), FAR),
         Value(lambda: _mp_matrix(FAR, _matern32()))),
    Case("RBF length_scale=1e-160: k", "numeric", _eval(TINY, CLOSE),
         Value(lambda: _mp_matrix(CLOSE, _rbf(ell=1e-160)))),
    Case("RBF length_scale=1e-160: dk/dlog l", "numeric", _eval(TINY, CLOSE, column=1),
         Value(lambda: _mp_matrix(CLOSE, _rbf_dlog_l(ell=1e-160)))),
    # The exact d2k/dx dy at x = y is 1 / l^2 = 1e320: beyond float64, so an error, never inf or NaN.
    Case("RBF length_scale=1e-160: d2k/dxdy overflows", "numeric", _eval(TINY, CLOSE, (0,), (0,)),
         Raises(FloatingPointError, "d/dx0 d/dy0 k")),
    Case("RQ d2k/dxdy at 1e200 (not stabilised)", "numeric",
         _eval(kernels.rational_quadratic(1), FAR, (0,), (0,)), Raises(FloatingPointError, "kernel 'rq'")),
    Case("periodic length_scale=1e-160 (0 * inf at x = y)", "numeric",
         _eval(kernels.periodic(1, length_scale=1e-160), CLOSE), Raises(FloatingPointError, "kernel 'periodic'")),
    Case("NaN input", "numeric", _eval(RBF, np.array([[0.0], [np.nan]])), Raises(ValueError, "NaN or inf")),
    Case("inf input", "numeric", _eval(RBF, np.array([[np.inf], [0.0]])), Raises(ValueError, "NaN or inf")),
    Case("names fi/ﬁ through the algebra", "names", _names_sum, Value(_names_sum_reference)),
    Case("names µ/μ through the algebra", "names", _micro_mu, Value(_micro_mu_reference)),
]


# ---------------------------------------------------------------------- GP
_XT = np.linspace(0.0, 1.0, 8)[:, None]
_YT = np.sin(3.0 * _XT[:, 0])
_XS = np.array([[0.15], [0.55], [0.9]])
_NOISE, _ELL, _S = 1e-3, 0.4, 1.3


def _gp() -> GaussianProcess:
    k = kernels.rbf(1, length_scale=_ELL, variance=_S).fix("length_scale", "variance")
    return GaussianProcess(k, noise=_NOISE, noise_bounds="fixed", optimizer=None).fit(_XT, _YT)


def _numpy_posterior(Xs: np.ndarray) -> np.ndarray:
    """Mean and variance of f and df/dx from NumPy and the RBF closed forms (independent of kernelgen)."""
    x, xs = _XT[:, 0], Xs[:, 0]

    def k(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return _S * np.exp(-np.subtract.outer(a, b) ** 2 / (2 * _ELL**2))

    L = np.linalg.cholesky(k(x, x) + _NOISE * np.eye(x.size))
    alpha = np.linalg.solve(L.T, np.linalg.solve(L, _YT))
    k0 = k(xs, x)  # (m, n)
    k1 = -np.subtract.outer(xs, x) / _ELL**2 * k0  # d/dx* k(x*, x)
    rows = []
    for cross, prior in ((k0, _S), (k1, _S / _ELL**2)):
        v = np.linalg.solve(L, cross.T)
        rows += [cross @ alpha, prior - (v * v).sum(axis=0)]
    return np.array(rows)


def _joint(chunk_size: object) -> Callable[[Path], np.ndarray]:
    def run(_: Path) -> np.ndarray:
        mean, var = _gp().predict_joint(_XS, [(), (0,)], cov="diag", chunk_size=chunk_size)  # type: ignore[arg-type]
        return np.array([mean[:, 0], var[:, 0], mean[:, 1], var[:, 1]])
    return run


def _far_prediction(_: Path) -> np.ndarray:
    mean, var = _gp().predict_joint(np.array([[1e200]]), [(), (0,)], cov="diag")
    return np.concatenate([mean[0], var[0]])


def _fit_with(X: np.ndarray, y: np.ndarray) -> Callable[[Path], np.ndarray]:
    return lambda _: GaussianProcess(kernels.rbf(1), optimizer=None).fit(X, y).predict(X)


def _memory_budget(_: Path) -> object:
    from kernelgen.posterior import predict_derivatives

    return predict_derivatives(_gp()._state, _XS, [(0,)], cov="diag", memory_budget=0)


GP = [
    Case("predict_joint chunk_size=-1 (prior variances, garbage means)", "gp", _joint(-1),
         Raises(ValueError, "chunk_size must be a positive integer")),
    Case("predict_joint chunk_size=0", "gp", _joint(0), Raises(ValueError, "chunk_size")),
    Case("predict_joint chunk_size=2.5", "gp", _joint(2.5), Raises(ValueError, "chunk_size")),
    Case("predict_joint chunk_size=True", "gp", _joint(True), Raises(ValueError, "chunk_size")),
    Case("predict_joint chunk_size=1 against NumPy", "gp", _joint(1), Value(lambda: _numpy_posterior(_XS), rtol=1e-7,
                                                                            atol=1e-9)),
    Case("predict_joint chunk_size=np.int64(2)", "gp", _joint(np.int64(2)),
         Value(lambda: _numpy_posterior(_XS), rtol=1e-7, atol=1e-9)),
    Case("memory_budget=0", "gp", _memory_budget, Raises(ValueError, "memory_budget")),
    Case("prediction at x = 1e200 is the prior", "gp", _far_prediction,
         Value(lambda: np.array([0.0, 0.0, _S, _S / _ELL**2]), rtol=1e-12)),
    Case("fit with NaN in y", "gp", _fit_with(_XT, np.where(_XT[:, 0] > 0.5, np.nan, 1.0)),
         Raises(ValueError, "NaN")),
    Case("fit with inf in X", "gp", _fit_with(np.vstack([_XT[:-1], [[np.inf]]]), _YT), Raises(ValueError, "infinity")),
]


# ---------------------------------------------------------------------- cache
def _unique_kernel(tag: str) -> Kernel:
    """A kernel with no committed module and a name of its own (nothing loaded earlier is reused)."""
    salt = sum(map(ord, tag)) % 97 + 2
    return Kernel.from_string(f"exp(-(x0 - y0)**2 / (2 * l**2)) * (1 + x0 * y0 / {salt})", dim=1, name=f"adv{salt}",
                              l=0.7)


def _unique_reference(tag: str, X: np.ndarray) -> np.ndarray:
    salt = sum(map(ord, tag)) % 97 + 2
    x = X[:, 0]
    return np.exp(-np.subtract.outer(x, x) ** 2 / (2 * 0.49)) * (1 + np.outer(x, x) / salt)


@contextmanager
def _cache_at(directory: Path) -> Iterator[None]:
    """KERNELGEN_CACHE_DIR pointed at ``directory`` for one case (restored after)."""
    old = os.environ.get("KERNELGEN_CACHE_DIR")
    os.environ["KERNELGEN_CACHE_DIR"] = str(directory)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("KERNELGEN_CACHE_DIR", None)
        else:
            os.environ["KERNELGEN_CACHE_DIR"] = old


def _impostor(tmp: Path) -> np.ndarray:
    """A valid module of another kernel copied under this kernel's file name (reproducer 7)."""
    with _cache_at(tmp / "cache"):
        wanted = _unique_kernel("impostor")
        other = Kernel.from_string("exp(-abs(x0 - y0) / l)", dim=1, name="adv_other", l=0.7)
        path = ensure_source(BatchSpec.make(wanted, [((), ())]))
        shutil.copy(ensure_source(BatchSpec.make(other, [((), ())])), path)
        return wanted(CLOSE)


def _in_fresh_process(code: str, env: dict[str, str]) -> np.ndarray:
    """The JSON array ``code`` prints last, run in a fresh interpreter (nothing loaded before)."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ, **env),
                         cwd=REPO, timeout=300)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip().splitlines()[-1])
    return np.array(json.loads(out.stdout.strip().splitlines()[-1]))


_COMMITTED = textwrap.dedent("""
    import json, numpy as np
    from kernelgen import kernels
    print(json.dumps(kernels.rbf(1, length_scale=0.5)(np.array([[0.0], [0.3]]), dx=(0,), dy=(0,)).tolist()))
""")


def _committed_with_file_as_cache(tmp: Path) -> np.ndarray:
    (tmp / "file").write_text("")
    return _in_fresh_process(_COMMITTED, {"KERNELGEN_CACHE_DIR": str(tmp / "file")})


def _committed_reference() -> np.ndarray:
    d = np.subtract.outer([0.0, 0.3], [0.0, 0.3])
    return np.exp(-(d**2) / 0.5) * (1 / 0.25 - d**2 / 0.0625)


def _custom_with_file_as_cache(tmp: Path) -> np.ndarray:
    (tmp / "file").write_text("")
    with _cache_at(tmp / "file"):
        return _unique_kernel("file cache")(CLOSE)


def _custom_read_only(tmp: Path) -> np.ndarray:
    with read_only_directory(tmp / "ro") as directory, _cache_at(directory):
        return _unique_kernel("read-only")(CLOSE)


def _read_only_with_module(tmp: Path) -> np.ndarray:
    directory = tmp / "shared"
    spec = BatchSpec.make(_unique_kernel("shared read-only"), [((), ())])
    ensure_source(spec, directory)
    with read_only_directory(directory):
        code = textwrap.dedent("""
            import json, numpy as np
            from tests.integration.test_adversarial import _unique_kernel
            print(json.dumps(_unique_kernel("shared read-only")(np.array([[0.0], [0.3]])).tolist()))
        """)
        return _in_fresh_process(code, {"KERNELGEN_CACHE_DIR": str(directory)})


def _files_left(tmp: Path) -> list[int]:
    """After a generation with a stale lock file present: (lock files, temporary files) left."""
    cache = tmp / "cache"
    cache.mkdir()
    spec = BatchSpec.make(_unique_kernel("locks"), [((), ())])
    from kernelgen.codegen.store import module_name

    (cache / f".{module_name(spec)}.lock").write_text("")
    ensure_source(spec, cache)
    return [len(list(cache.glob("*.lock"))), len(list(cache.glob("*.tmp")))]


def _mode_under_umask(tmp: Path) -> list[int]:
    old = os.umask(0o002)
    try:
        path = ensure_source(BatchSpec.make(_unique_kernel("umask"), [((), ())]), tmp / "group")
    finally:
        os.umask(old)
    return [stat.S_IMODE(path.stat().st_mode)]


def _truncated(tmp: Path) -> np.ndarray:
    with _cache_at(tmp / "cache"):
        k = _unique_kernel("truncated")
        path = ensure_source(BatchSpec.make(k, [((), ())]))
        path.write_text(path.read_text()[:500])
        return k(CLOSE)


CACHE = [
    Case("valid module of another kernel under this name", "cache", _impostor,
         Value(lambda: _unique_reference("impostor", CLOSE))),
    Case("KERNELGEN_CACHE_DIR is a file: committed kernel", "cache", _committed_with_file_as_cache,
         Value(_committed_reference)),
    Case("KERNELGEN_CACHE_DIR is a file: new kernel", "cache", _custom_with_file_as_cache,
         Raises(CacheError, "is not a directory")),
    Case("read-only cache: new kernel", "cache", _custom_read_only,
         Raises(CacheError, "cannot write a generated module")),
    Case("read-only cache: module already there", "cache", _read_only_with_module,
         Value(lambda: _unique_reference("shared read-only", CLOSE))),
    Case("stale lock file", "cache", _files_left, Value(lambda: [0, 0])),
    Case("umask 002 gives group-readable modules", "cache", _mode_under_umask, Value(lambda: [0o664])),
    Case("truncated module", "cache", _truncated, Value(lambda: _unique_reference("truncated", CLOSE))),
]


# ---------------------------------------------------------------------- bridge
def _symbolic_far(_: Path) -> np.ndarray:
    from kernelgen.sklearn import SymbolicKernel

    K, G = SymbolicKernel(kernels.rbf(1), length_scale=0.5, noise_level=0.1)(FAR, eval_gradient=True)
    return np.concatenate([K[None], np.moveaxis(G, 2, 0)])


def _symbolic_far_reference() -> np.ndarray:
    K = _mp_matrix(FAR, _rbf(ell=0.5)) + 0.1 * np.eye(2)
    return np.stack([K, _mp_matrix(FAR, _rbf(ell=0.5)), _mp_matrix(FAR, _rbf_dlog_l(ell=0.5)), 0.1 * np.eye(2)])


def _gpr_far(_: Path) -> np.ndarray:
    from sklearn.gaussian_process import GaussianProcessRegressor

    from kernelgen.sklearn import SymbolicKernel, predict_derivative

    gpr = GaussianProcessRegressor(SymbolicKernel(kernels.rbf(1), length_scale=_ELL, variance=_S),
                                   alpha=_NOISE, optimizer=None).fit(_XT, _YT)
    mean, std = predict_derivative(gpr, np.array([[1e200]]), deriv=(0,), return_std=True)
    return np.array([mean[0], std[0]])


def _gpr_nan_theta(_: Path) -> object:
    from sklearn.gaussian_process import GaussianProcessRegressor

    from kernelgen.sklearn import SymbolicKernel

    gpr = GaussianProcessRegressor(SymbolicKernel(kernels.rbf(1)), optimizer=None).fit(_XT, _YT)
    return gpr.log_marginal_likelihood(np.array([0.0, np.nan]))


BRIDGE = [
    Case("SymbolicKernel K and gradient at 1e200", "bridge", _symbolic_far, Value(_symbolic_far_reference)),
    Case("predict_derivative far from the data", "bridge", _gpr_far,
         Value(lambda: np.array([0.0, np.sqrt(_S) / _ELL]), rtol=1e-12)),
    Case("log_marginal_likelihood at a NaN theta", "bridge", _gpr_nan_theta, Raises(ValueError, "'length_scale'")),
]


# ---------------------------------------------------------------------- command line
Setup = Callable[[Path], AbstractContextManager[object]]


def _cli(args: list[str], env: dict[str, str] | None = None, setup: Setup | None = None,
         cwd: bool = False) -> Callable[[Path], subprocess.CompletedProcess[str]]:
    """Run ``kernelgen ARGS`` ('{tmp}' is the case's directory) inside ``setup(tmp)``."""
    def run(tmp: Path) -> subprocess.CompletedProcess[str]:
        extra = {k: v.format(tmp=tmp) for k, v in (env or {}).items()}
        with setup(tmp) if setup is not None else nullcontext():
            return run_cli([a.format(tmp=tmp) for a in args], env=extra, cwd=tmp if cwd else None)
    return run


@contextmanager
def _file(tmp: Path) -> Iterator[None]:
    (tmp / "file").write_text("")
    yield


def _read_only(tmp: Path) -> AbstractContextManager[Path]:
    return read_only_directory(tmp / "ro")


@contextmanager
def _modules(tmp: Path) -> Iterator[None]:
    (tmp / "raising.py").write_text("def f(X, Y, length_scale, variance):\n    return 1 / 0\n")
    (tmp / "interrupting.py").write_text(textwrap.dedent("""
        import os, signal, time
        def f(X, Y, length_scale, variance):
            # A process started in the background inherits SIGINT ignored: restore Ctrl-C first.
            signal.signal(signal.SIGINT, signal.default_int_handler)
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(30)
    """))
    yield


_NEW = "exp(-(x0-y0)**2/(2*l**2))*(1 + x0*y0/7)"
CLI = [
    Case("show 9**9**9*x0*y0", "cli", _cli(["show", "9**9**9*x0*y0", "--dim", "1"]), Cli("MAX_EXPONENT")),
    Case("generate (x0*y0+1)**9999999999", "cli", _cli(["generate", "(x0*y0+1)**9999999999", "--dim", "1"]),
         Cli("MAX_EXPONENT")),
    Case("show (x0-y0)**2**100", "cli", _cli(["show", "(x0-y0)**2**100", "--dim", "1"]), Cli("MAX_EXPONENT")),
    Case("show 1500-term sum", "cli", _cli(["show", "+".join(["x0*y0"] * 1500), "--dim", "1"]), Cli("MAX_NODES")),
    Case("show 1e309*x0*y0", "cli", _cli(["show", "1e309*x0*y0", "--dim", "1"]), Cli("MAX_MAGNITUDE")),
    Case("generate with KERNELGEN_CACHE_DIR a file", "cli",
         _cli(["generate", _NEW, "--dim", "1"], {"KERNELGEN_CACHE_DIR": "{tmp}/file"}, _file),
         Cli("is not a directory")),
    Case("generate into a read-only cache", "cli",
         _cli(["generate", _NEW, "--dim", "1"], {"KERNELGEN_CACHE_DIR": "{tmp}/ro"}, _read_only),
         Cli("cannot write a generated module")),
    Case("generate --out an existing file", "cli", _cli(["generate", "rbf", "--dim", "1", "--out", "{tmp}/file"],
                                                       setup=_file), Cli("is an existing file")),
    Case("unknown library name", "cli", _cli(["show", "rbff", "--dim", "1"]), Cli("did you mean rbf")),
    Case("--dim 0", "cli", _cli(["show", "rbf", "--dim", "0"]), Cli("must be a positive integer")),
    Case("--dim abc", "cli", _cli(["generate", "rbf", "--dim", "abc"]), Cli("must be a positive integer")),
    Case("--max-order -1", "cli", _cli(["generate", "rbf", "--dim", "1", "--max-order", "-1"]), Cli("--max-order")),
    Case("--dx out of range", "cli", _cli(["show", "rbf", "--dim", "1", "--dx", "3"]), Cli("dx")),
    Case("--wrt unknown hyperparameter", "cli", _cli(["show", "rbf", "--dim", "1", "--wrt", "nope"]), Cli("nope")),
    Case("not differentiable", "cli", _cli(["show", "matern12", "--dim", "1", "--dx", "0", "--dy", "0"]),
         Cli("not differentiable")),
    Case("verify: missing module", "cli", _cli(["verify", "--function", "nomodule:f", "--reference", "rbf"]),
         Cli("No module named 'nomodule'")),
    Case("verify: the function raises", "cli",
         _cli(["verify", "--function", "raising:f", "--reference", "rbf", "--dim", "1"], setup=_modules, cwd=True),
         Cli("ZeroDivisionError")),
    Case("KeyboardInterrupt", "cli",
         _cli(["verify", "--function", "interrupting:f", "--reference", "rbf", "--dim", "1"], setup=_modules,
              cwd=True), Cli("", status=130, line="interrupted")),
]

CASES = NUMERIC + GP + CACHE + BRIDGE + CLI


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_adversarial_input(case: Case, tmp_path: Path, record_property: object) -> None:
    outcome = classify(case, tmp_path)
    record(record_property, case, outcome)  # type: ignore[arg-type]
    wanted = "correct" if isinstance(case.expect, Value) else "named error"
    assert outcome.kind == wanted, f"{outcome.kind}: {outcome.detail}"


def test_debug_shows_the_traceback() -> None:
    """Control for the CLI cases: with --debug the same failure does print a traceback."""
    result = run_cli(["--debug", "show", "rbff", "--dim", "1"])
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_cache_errors_are_os_errors(tmp_path: Path) -> None:
    """CacheError is an OSError: callers catching OSError (disk full, permissions) keep working."""
    (tmp_path / "file").write_text("")
    with pytest.raises(OSError, match="exists and is not a directory"):
        ensure_source(BatchSpec.make(_unique_kernel("oserror"), [((), ())]), tmp_path / "file")
