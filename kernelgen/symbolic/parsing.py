"""Parse kernel expression strings into SymPy without executing any Python.

The text is parsed by :mod:`ast` and a whitelist walker builds the SymPy tree itself, so
attribute access, lambdas, subscripts, keyword arguments, comprehensions and unknown functions
are refused before anything is evaluated. Before SymPy sees anything, the text and its syntax
tree are measured against the resource limits of :mod:`kernelgen.symbolic.limits` (length,
number of nodes, nesting depth, magnitude of numbers and exponents), so a short string cannot
exhaust memory, time or the stack. Names are read as Python reads identifiers (Unicode NFKC);
two different spellings of one name (``ﬁ`` and ``fi``) are refused.
"""

from __future__ import annotations

import ast
import re

import sympy as sp

from .errors import KernelParseError
from .limits import (
    MAX_DEPTH,
    MAX_EXPANDED_TERMS,
    MAX_EXPONENT,
    MAX_MAGNITUDE,
    MAX_NODES,
    MAX_TEXT_LENGTH,
    Source,
    chain_family,
    check_syntax_tree,
    check_text,
    check_tokens,
)
from .names import check_spellings

__all__ = [
    "CONSTANTS", "FUNCTIONS", "MAX_DEPTH", "MAX_EXPANDED_TERMS", "MAX_EXPONENT", "MAX_MAGNITUDE", "MAX_NODES",
    "MAX_TEXT_LENGTH", "KernelParseError", "parse_kernel_string",
]

#: Functions a kernel string may call, by the name written in the string.
FUNCTIONS: dict[str, object] = {
    "exp": sp.exp,
    "log": sp.log,
    "sqrt": sp.sqrt,
    "sin": sp.sin,
    "cos": sp.cos,
    "tan": sp.tan,
    "sinh": sp.sinh,
    "cosh": sp.cosh,
    "tanh": sp.tanh,
    "atan": sp.atan,
    "abs": sp.Abs,
    "Abs": sp.Abs,
}
CONSTANTS: dict[str, sp.Expr] = {"pi": sp.pi, "E": sp.E}
_INPUT_NAME = re.compile(r"^([xy])(\d+)$")


def parse_kernel_string(
    text: str, dim: int
) -> tuple[sp.Expr, tuple[sp.Symbol, ...], tuple[sp.Symbol, ...], list[str]]:
    """Parse ``text`` into ``(expr, x_symbols, y_symbols, hyperparameter_names)``.

    ``x0..x{dim-1}`` are the first input, ``y0..y{dim-1}`` the second; every other name is a
    positive hyperparameter, listed in order of first appearance. ``^`` is read as a power.

    Raises
    ------
    KernelParseError
        For anything but arithmetic of the allowed form, and for text beyond a resource limit
        (:mod:`kernelgen.symbolic.limits`; the message names the limit and its value).
    InvalidKernelError
        For two spellings of one name after NFKC normalisation.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if not isinstance(dim, int) or isinstance(dim, bool) or dim < 1:
        raise ValueError(f"dim must be a positive integer, got {dim!r}")
    check_text(text)
    # '^' means power; replaced in the text because Python's XOR binds looser than '-' and '/'.
    source = text.strip().replace("^", "**")
    check_tokens(source)
    tree = _syntax_tree(source, text)
    spelled = Source(source)
    check_syntax_tree(tree, spelled)
    check_spellings(spelled.segment(n) for n in ast.walk(tree) if isinstance(n, ast.Name))
    builder = _Builder(dim, text)
    try:
        expr = builder.visit(tree.body)
    except RecursionError:  # MAX_DEPTH keeps the builder's recursion short; SymPy's own may still be deep
        raise KernelParseError(f"kernel string {_short(text)} is nested too deeply for SymPy: more than "
                               f"MAX_DEPTH = {MAX_DEPTH} (kernelgen.symbolic.limits)") from None
    if not isinstance(expr, sp.Expr):
        raise KernelParseError(f"kernel string {_short(text)} does not describe an expression")
    x = tuple(sp.Symbol(f"x{i}") for i in range(dim))
    y = tuple(sp.Symbol(f"y{i}") for i in range(dim))
    return expr, x, y, builder.hyperparameters


def _syntax_tree(source: str, text: str) -> ast.Expression:
    try:
        return ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise KernelParseError(f"cannot parse kernel string {_short(text)}: {exc.msg}") from None
    except (RecursionError, MemoryError):
        # Python's own parser gives up on very deep nesting (its stack, not the machine's memory).
        raise KernelParseError(
            f"kernel string {_short(text)} nests too deeply for Python's parser: more than MAX_DEPTH = "
            f"{MAX_DEPTH} (kernelgen.symbolic.limits)") from None


def _short(text: str) -> str:
    """``repr`` of a kernel string, shortened for error messages (limits allow 10 000 characters)."""
    return repr(text) if len(text) <= 80 else repr(text[:77] + "...")


class _Builder:
    def __init__(self, dim: int, text: str) -> None:
        self.dim = dim
        self.text = text
        self.hyperparameters: list[str] = []

    def refuse(self, what: str) -> KernelParseError:
        return KernelParseError(f"kernel string {_short(self.text)}: {what} is not allowed")

    def visit(self, node: ast.AST) -> sp.Expr:
        if chain_family(node) is not None:
            return self.chain(node)  # type: ignore[arg-type]
        if isinstance(node, ast.BinOp):
            if not isinstance(node.op, ast.Pow):
                raise self.refuse(f"operator {type(node.op).__name__}")
            return self.visit(node.left) ** self.visit(node.right)
        if isinstance(node, ast.UnaryOp):
            operand = self.visit(node.operand)
            if isinstance(node.op, ast.USub):
                return -operand
            if isinstance(node.op, ast.UAdd):
                return operand
            raise self.refuse(f"operator {type(node.op).__name__}")
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise self.refuse(f"constant {value!r}")
            # Decimal text becomes an exact rational so generated code does not depend on float repr.
            return sp.Integer(value) if isinstance(value, int) else sp.Rational(repr(value))
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                raise self.refuse("calling anything but a plain function name")
            name = node.func.id
            if name not in FUNCTIONS:
                allowed = ", ".join(sorted(FUNCTIONS))
                raise KernelParseError(
                    f"kernel string {_short(self.text)}: unknown function {name!r} (allowed: {allowed})"
                )
            if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
                raise self.refuse("keyword or starred arguments")
            if len(node.args) != 1:
                raise KernelParseError(f"kernel string {_short(self.text)}: {name}() takes exactly one argument")
            return FUNCTIONS[name](self.visit(node.args[0]))  # type: ignore[operator]
        if isinstance(node, ast.Attribute):
            raise self.refuse("attribute access")
        if isinstance(node, ast.Lambda):
            raise self.refuse("lambda")
        raise self.refuse(f"syntax {type(node).__name__}")

    def chain(self, node: ast.BinOp) -> sp.Expr:
        """``a + b - c ...`` or ``a * b / c ...`` as one SymPy Add or Mul (no recursion down the chain).

        The chain's left spine is walked in a loop, so a long sum costs no stack; the result is the
        same expression as repeated ``+`` / ``*`` (SymPy flattens those into one Add or Mul).
        """
        family = chain_family(node)
        operands: list[tuple[bool, ast.AST]] = []  # (inverted, operand): subtracted or divided
        current: ast.AST = node
        while chain_family(current) == family:
            assert isinstance(current, ast.BinOp)
            operands.append((isinstance(current.op, (ast.Sub, ast.Div)), current.right))
            current = current.left
        operands.append((False, current))
        operands.reverse()
        if family == (ast.Add, ast.Sub):
            return sp.Add(*(-self.visit(o) if inverted else self.visit(o) for inverted, o in operands))
        return sp.Mul(*(1 / self.visit(o) if inverted else self.visit(o) for inverted, o in operands))

    def name(self, name: str) -> sp.Expr:
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in FUNCTIONS:
            raise KernelParseError(f"kernel string {_short(self.text)}: function {name!r} used without a call")
        match = _INPUT_NAME.match(name)
        if match:
            index = int(match.group(2))
            if index >= self.dim:
                raise KernelParseError(
                    f"kernel string {_short(self.text)}: {name!r} refers to input dimension {index}, "
                    f"but dim={self.dim} allows {match.group(1)}0..{match.group(1)}{self.dim - 1}"
                )
            return sp.Symbol(name)
        if name.startswith("_") or name.startswith("__"):
            raise self.refuse(f"name {name!r}")
        if name not in self.hyperparameters:
            self.hyperparameters.append(name)
        return sp.Symbol(name, positive=True)
