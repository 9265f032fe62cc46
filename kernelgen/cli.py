"""The ``kernelgen`` command: every sub-command (demo, generate, show, verify) is built here.

Heavy parts (scikit-learn for ``verify``, the GP for ``demo``) are imported when their command
runs, so ``kernelgen --help`` stays quick.

Errors: every failure of a command prints one line, ``kernelgen <command>: error: <message>``, on
stderr and exits with status 2 (argparse's own usage errors look and exit the same); an interrupt
prints ``kernelgen <command>: interrupted`` and exits with 130. ``kernelgen --debug <command>``
shows the traceback instead.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import inspect
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .symbolic.errors import InvalidKernelError, KernelParseError, NotDifferentiableError
from .symbolic.library import LIBRARY, from_name_or_text
from .symbolic.request import requests_up_to

__all__ = ["EXIT_ERROR", "EXIT_INTERRUPTED", "USER_ERRORS", "build_parser", "main"]

#: Exit status of a command that failed (as argparse's usage errors), and of an interrupted one.
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130

#: Errors whose message is meant for the user as it stands; any other exception is reported as
#: ``<type>: <message>`` (still one line: no traceback without ``--debug``).
USER_ERRORS = (KernelParseError, InvalidKernelError, NotDifferentiableError, ValueError, TypeError, ImportError,
               AttributeError, KeyError, OSError)
_INPUT = re.compile(r"^[xy]\d+$")


def _kernel(text: str, dim: int, what: str = "EXPR") -> Any:
    """A library kernel or an expression; a bare unknown name is an error, not a constant kernel."""
    name = text.strip()
    if name not in LIBRARY and name.isidentifier() and not _INPUT.match(name):
        close = difflib.get_close_matches(name.lower(), list(LIBRARY), n=3, cutoff=0.5)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        raise ValueError(f"{what} {text!r} is not a library kernel ({', '.join(LIBRARY)}) nor an expression in the "
                         f"inputs x0.., y0..{hint}")
    return from_name_or_text(text, dim)


# ---------------------------------------------------------------------- commands
def _cmd_generate(args: argparse.Namespace) -> int:
    from .codegen import builtins
    from .codegen.ir import BatchSpec
    from .codegen.store import ensure_source

    out = Path(args.out) if args.out else None
    if out is not None and out.exists() and not out.is_dir():
        raise ValueError(f"--out {args.out!r} is an existing file; give a directory for the generated modules")
    if args.builtins:
        paths = builtins.update(out)
        print(f"{len(paths)} modules in {paths[0].parent if paths else out}")
        return 0
    if args.expr is None or args.dim is None:
        raise ValueError("generate needs EXPR and --dim (or --builtins)")
    if args.max_order < 0:
        raise ValueError(f"--max-order must be a non-negative integer, got {args.max_order}")
    kernel = _kernel(args.expr, args.dim)
    requests = requests_up_to(kernel.dim, args.max_order, kernel.smoothness // 2)
    spec = BatchSpec.make(kernel, requests, gradient=not args.no_gradient)
    print(ensure_source(spec, out))
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    import sympy as sp

    kernel = _kernel(args.expr, args.dim)
    expr = kernel.derivative_expr(tuple(args.dx), tuple(args.dy), wrt=args.wrt)
    print(sp.latex(expr) if args.latex else sp.pretty(expr, use_unicode=False) if args.pretty else str(expr))
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    run_demo(out_dir=args.out, n=args.n, seed=args.seed, plot=not args.no_plot)
    return 0


def _load(spec: str) -> Any:
    """``module:attribute`` from the current directory or the path."""
    if ":" not in spec:
        raise ValueError(f"expected module:attribute, got {spec!r}")
    module, attr = spec.split(":", 1)
    # The absolute current directory: a relative "." would reuse a finder cached for another directory.
    sys.path.insert(0, str(Path.cwd()))
    importlib.invalidate_caches()
    try:
        obj: Any = importlib.import_module(module)
    finally:
        sys.path.pop(0)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def _instantiate(obj: Any) -> Any:
    """An instance from an object, a class (default constructor) or a zero-argument factory."""
    from sklearn.gaussian_process.kernels import Kernel as SkKernel

    from .symbolic.kernel import Kernel

    if isinstance(obj, (SkKernel, Kernel)):
        return obj
    if inspect.isclass(obj) or callable(obj):
        return obj()
    raise TypeError(f"{obj!r} is not a kernel, kernel class or factory")


def _takes_two_points(obj: Any) -> bool:
    """A plain kernel function k(X, Y, ...): two required positional arguments."""
    if inspect.isclass(obj) or not callable(obj):
        return False
    try:
        params = list(inspect.signature(obj).parameters.values())
    except (TypeError, ValueError):
        return False
    required = [p for p in params if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(required) == 2


def _reference(spec: str, dim: int) -> Any:
    """A ``module:attribute`` kernel or function k(X, Y), a library name or an expression string."""
    if ":" not in spec:
        return _kernel(spec, dim, "--reference")
    obj = _load(spec)
    return obj if _takes_two_points(obj) else _instantiate(obj)


def _values(pairs: list[str] | None) -> dict[str, float]:
    """``--value l=0.3 --value s=2`` as ``{"l": 0.3, "s": 2.0}``."""
    out: dict[str, float] = {}
    for pair in pairs or []:
        name, sep, text = pair.partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError
            out[name.strip()] = float(text)
        except ValueError:
            raise ValueError(f"--value expects NAME=NUMBER, got {pair!r}") from None
    return out


def _cmd_verify(args: argparse.Namespace) -> int:
    """0 when everything checked passes, 1 on a mismatch, 2 on errors."""
    from . import verify

    args.tol = verify.DEFAULT_TOL if args.tol is None else args.tol
    values = _values(args.value)
    if args.sklearn:
        if values:
            raise ValueError("--value applies to --kernel and --function, not to --sklearn (random values are drawn)")
        reports = [(label, verify.sklearn_kernel(k, dim=args.dim or 2, tol=args.tol, seed=args.seed))
                   for label, k in verify.sklearn_kernels(args.dim or 2).items()]
    elif args.kernel:
        k = _instantiate(_load(args.kernel))
        if values:
            k = k.set_params(**values)
        reports = [(args.kernel, verify.sklearn_kernel(k, dim=args.dim, tol=args.tol, seed=args.seed,
                                                       randomize=not values))]
    else:
        if not args.reference:
            args.parser.error("--function needs --reference")
        func = _load(args.function)
        ref = _reference(args.reference, args.dim or 1)
        common = {"dim": args.dim, "tol": args.tol, "seed": args.seed, "values": values, "randomize": True}
        if args.param:
            rep = verify.hyperparameter_derivative(ref, func, args.param, log=not args.linear, **common)
        else:
            dx = tuple(args.dx if args.dx is not None else [0])
            rep = verify.input_derivative(ref, func, dx, tuple(args.dy), **common)
        reports = [(args.function, rep)]
    if args.quiet or args.sklearn:
        print(verify.summary(reports, args.tol))
    else:
        for _, rep in reports:
            print(rep.table())
    return 0 if all(rep.passed for _, rep in reports) else 1


# ---------------------------------------------------------------------- parser
def _add_demo(sub: Any) -> None:
    demo = sub.add_parser("demo", help="the seed example: derivative of a GP fit of sin(2 pi x) with error bars")
    demo.add_argument("--out", default=".", help="directory for the PNG plot (default: .)")
    demo.add_argument("--n", type=int, default=200, help="number of noisy samples (default: 200)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    demo.add_argument("--no-plot", action="store_true", help="skip the PNG plot")
    demo.set_defaults(run=_cmd_demo)


def _add_generate(sub: Any) -> None:
    gen = sub.add_parser("generate", help="write the generated module for a kernel and print its path")
    gen.add_argument("expr", nargs="?", help="kernel expression in x0.., y0.. and hyperparameters, or a library "
                     f"name ({', '.join(LIBRARY)})")
    gen.add_argument("--dim", type=_positive_int, help="input dimension d")
    gen.add_argument("--max-order", type=int, default=2,
                     help="all (dx, dy) pairs of total order <= N the kernel supports (default: 2)")
    gen.add_argument("--no-gradient", action="store_true", help="leave out log-hyperparameter gradients")
    gen.add_argument("--out", default=None, help="directory (default: the kernelgen cache directory; with "
                     "--builtins the package's generated/)")
    gen.add_argument("--builtins", action="store_true",
                     help="rewrite the committed modules of the built-in kernels (generated/) instead")
    gen.set_defaults(run=_cmd_generate)


def _add_show(sub: Any) -> None:
    show = sub.add_parser("show", help="print the formula of a derivative, to compare with a hand derivation")
    show.add_argument("expr", help="kernel expression or library name")
    show.add_argument("--dim", type=_positive_int, required=True, help="input dimension d")
    show.add_argument("--dx", type=int, nargs="*", default=[], help="indices differentiated on the first input")
    show.add_argument("--dy", type=int, nargs="*", default=[], help="indices differentiated on the second input")
    show.add_argument("--wrt", default=None, help="also apply theta * d/dtheta for this hyperparameter")
    fmt = show.add_mutually_exclusive_group()
    fmt.add_argument("--latex", action="store_true", help="print LaTeX")
    fmt.add_argument("--pretty", action="store_true", help="print 2-D ASCII art")
    show.set_defaults(run=_cmd_show)


def _add_verify(sub: Any) -> None:
    verify = sub.add_parser(
        "verify", help="check hand-derived kernel gradients against kernelgen's symbolic derivatives",
        description="Check hand-derived kernel gradients against kernelgen's symbolic derivatives. Gradients "
                    "follow scikit-learn's eval_gradient: dK/dlog(theta), in kernel.theta order.")
    what = verify.add_mutually_exclusive_group(required=True)
    what.add_argument("--sklearn", action="store_true", help="check every convertible scikit-learn kernel")
    what.add_argument("--kernel", metavar="MODULE:ATTR",
                      help="a scikit-learn kernel instance, class or zero-argument factory (e.g. a subclass with a "
                           "hand-written gradient)")
    what.add_argument("--function", metavar="MODULE:ATTR",
                      help="a callable f(X, Y) -> (n, m) claimed to be a derivative of --reference")
    verify.add_argument("--reference", metavar="KERNEL",
                        help="for --function: MODULE:ATTR (a kernelgen or scikit-learn kernel, or a plain function "
                             "k(X, Y, name=default, ...) differentiated numerically), a library name or an "
                             "expression string")
    verify.add_argument("--dx", type=int, nargs="*", default=None, help="for --function: input indices, 1st argument")
    verify.add_argument("--dy", type=int, nargs="*", default=[], help="for --function: input indices, 2nd argument")
    verify.add_argument("--param", help="for --function: hyperparameter name (claimed dk/dlog(param))")
    verify.add_argument("--linear", action="store_true", help="with --param: the claim is dk/dparam instead")
    verify.add_argument("--value", action="append", metavar="NAME=VALUE",
                        help="hyperparameter value to check at (repeatable). For --function the others are drawn at "
                             "random away from 1 (3 draws), so the function must take them as keyword arguments; "
                             "for --kernel, sets the kernel's parameters instead of random draws")
    verify.add_argument("--dim", type=_positive_int, default=None, help="input dimension (default 2 for --sklearn)")
    verify.add_argument("--seed", type=int, default=0)
    verify.add_argument("--tol", type=float, default=None, help="relative tolerance (default: verify.DEFAULT_TOL)")
    verify.add_argument("--quiet", action="store_true", help="summary lines only")
    verify.set_defaults(run=_cmd_verify, parser=verify)


def _positive_int(text: str) -> int:
    """argparse type: a positive integer (argparse reports the ValueError as a usage error)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kernelgen",
        description="Symbolic GP kernels, generated numba derivative code, GP derivative predictions.",
    )
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True)
    builders: tuple[Callable[[Any], None], ...] = (_add_demo, _add_generate, _add_show, _add_verify)
    for add in builders:
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; every failure is one line on stderr (exit 2), an interrupt exits 130."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        if args.debug:
            raise
        print(f"kernelgen {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of our output went away (``kernelgen show ... | head``): nothing to report.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR
    except Exception as exc:  # a command-line tool reports, it does not crash
        if args.debug:
            raise
        print(f"kernelgen {args.command}: error: {_message(exc)}", file=sys.stderr)
        return EXIT_ERROR


def _message(exc: BaseException) -> str:
    """One line for ``exc``: its own message for user errors, prefixed by its type otherwise."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, RecursionError | MemoryError):
        return (f"{type(exc).__name__}: the kernel is too large for kernelgen's symbolic passes "
                "(see kernelgen.symbolic.limits)")
    if isinstance(exc, KeyError) and exc.args:
        text = str(exc.args[0])
    if isinstance(exc, USER_ERRORS):
        return text
    return f"{type(exc).__name__}: {text}"


if __name__ == "__main__":
    raise SystemExit(main())
