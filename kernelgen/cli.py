"""The ``kernelgen`` command: demo, generate, show, verify."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import sympy as sp

from .builtin import LIBRARY
from .symbolic.kernel import Kernel
from .symbolic.parsing import KernelParseError
from .symbolic.prepared import NotDifferentiableError


def _kernel(text: str, dim: int) -> Kernel:
    """A library name (``rbf``, ``matern52``, ...) or an expression string."""
    if text in LIBRARY:
        return LIBRARY[text](dim)
    return Kernel.from_string(text, dim)


def _all_requests(kernel: Kernel, max_order: int) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Every (dx, dy) of total order <= max_order the kernel supports, sorted multisets."""
    from itertools import combinations_with_replacement

    per_argument = kernel.smoothness // 2
    out = []
    for nx in range(max_order + 1):
        for ny in range(max_order + 1 - nx):
            if max(nx, ny) > per_argument:
                continue
            for dx in combinations_with_replacement(range(kernel.dim), nx):
                for dy in combinations_with_replacement(range(kernel.dim), ny):
                    out.append((dx, dy))
    return out


def _cmd_generate(args: argparse.Namespace) -> int:
    from .codegen.cache import ensure_source
    from .codegen.ir import BatchSpec

    kernel = _kernel(args.expr, args.dim)
    requests = _all_requests(kernel, args.max_order)
    spec = BatchSpec.make(kernel, requests, gradient=not args.no_gradient)
    path = ensure_source(spec, Path(args.out) if args.out else None)
    print(path)
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    kernel = _kernel(args.expr, args.dim)
    expr = kernel.derivative_expr(tuple(args.dx), tuple(args.dy), wrt=args.wrt)
    print(sp.latex(expr) if args.latex else sp.pretty(expr, use_unicode=False) if args.pretty else str(expr))
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    run_demo(out_dir=args.out, n=args.n, seed=args.seed, plot=not args.no_plot)
    return 0


def _cmd_verify(args: argparse.Namespace, rest: list[str]) -> int:
    from .verify import main_verify

    return main_verify(rest)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kernelgen",
        description="Symbolic GP kernels, generated numba derivative code, GP derivative predictions.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="the seed example: derivative of a GP fit of sin(2 pi x) with error bars")
    demo.add_argument("--out", default=".", help="directory for the PNG plot (default: .)")
    demo.add_argument("--n", type=int, default=200, help="number of noisy samples (default: 200)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    demo.add_argument("--no-plot", action="store_true", help="skip the PNG plot")

    gen = sub.add_parser("generate", help="write the generated module for a kernel and print its path")
    gen.add_argument("expr", help="kernel expression in x0.., y0.. and hyperparameters, or a library name "
                     f"({', '.join(LIBRARY)})")
    gen.add_argument("--dim", type=int, required=True, help="input dimension d")
    gen.add_argument("--max-order", type=int, default=2,
                     help="all (dx, dy) pairs of total order <= N the kernel supports (default: 2)")
    gen.add_argument("--no-gradient", action="store_true", help="leave out log-hyperparameter gradients")
    gen.add_argument("--out", default=None, help="directory (default: the kernelgen cache directory)")

    show = sub.add_parser("show", help="print the formula of a derivative, to compare with a hand derivation")
    show.add_argument("expr", help="kernel expression or library name")
    show.add_argument("--dim", type=int, required=True, help="input dimension d")
    show.add_argument("--dx", type=int, nargs="*", default=[], help="indices differentiated on the first input")
    show.add_argument("--dy", type=int, nargs="*", default=[], help="indices differentiated on the second input")
    show.add_argument("--wrt", default=None, help="also apply theta * d/dtheta for this hyperparameter")
    fmt = show.add_mutually_exclusive_group()
    fmt.add_argument("--latex", action="store_true", help="print LaTeX")
    fmt.add_argument("--pretty", action="store_true", help="print 2-D ASCII art")

    sub.add_parser("verify", help="check hand-derived kernel gradients (see 'kernelgen verify --help')",
                   add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["verify"]:
        return _cmd_verify(argparse.Namespace(), argv[1:])
    args = build_parser().parse_args(argv)
    handlers = {"demo": _cmd_demo, "generate": _cmd_generate, "show": _cmd_show}
    try:
        return handlers[args.command](args)
    except (KernelParseError, NotDifferentiableError, ValueError) as exc:
        print(f"kernelgen {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
