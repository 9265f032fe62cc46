"""Parse kernel expression strings into SymPy without executing any Python.

The text is parsed by :mod:`ast` and a whitelist walker builds the SymPy tree itself, so
attribute access, lambdas, subscripts, keyword arguments, comprehensions and unknown functions
are refused before anything is evaluated.
"""

from __future__ import annotations

import ast
import re

import sympy as sp

from .errors import KernelParseError

__all__ = ["CONSTANTS", "FUNCTIONS", "KernelParseError", "parse_kernel_string"]

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
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if not isinstance(dim, int) or dim < 1:
        raise ValueError(f"dim must be a positive integer, got {dim!r}")
    try:
        # '^' means power; replaced in the text because Python's XOR binds looser than '-' and '/'.
        tree = ast.parse(text.strip().replace("^", "**"), mode="eval")
    except SyntaxError as exc:
        raise KernelParseError(f"cannot parse kernel string {text!r}: {exc.msg}") from None
    builder = _Builder(dim, text)
    expr = builder.visit(tree.body)
    if not isinstance(expr, sp.Expr):
        raise KernelParseError(f"kernel string {text!r} does not describe an expression")
    x = tuple(sp.Symbol(f"x{i}") for i in range(dim))
    y = tuple(sp.Symbol(f"y{i}") for i in range(dim))
    return expr, x, y, builder.hyperparameters


class _Builder:
    def __init__(self, dim: int, text: str) -> None:
        self.dim = dim
        self.text = text
        self.hyperparameters: list[str] = []

    def refuse(self, what: str) -> KernelParseError:
        return KernelParseError(f"kernel string {self.text!r}: {what} is not allowed")

    def visit(self, node: ast.AST) -> sp.Expr:
        if isinstance(node, ast.BinOp):
            left, right = self.visit(node.left), self.visit(node.right)
            op = type(node.op)
            if op is ast.Add:
                return left + right
            if op is ast.Sub:
                return left - right
            if op is ast.Mult:
                return left * right
            if op is ast.Div:
                return left / right
            if op is ast.Pow:
                return left**right
            raise self.refuse(f"operator {op.__name__}")
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
                    f"kernel string {self.text!r}: unknown function {name!r} (allowed: {allowed})"
                )
            if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
                raise self.refuse("keyword or starred arguments")
            if len(node.args) != 1:
                raise KernelParseError(f"kernel string {self.text!r}: {name}() takes exactly one argument")
            return FUNCTIONS[name](self.visit(node.args[0]))  # type: ignore[operator]
        if isinstance(node, ast.Attribute):
            raise self.refuse("attribute access")
        if isinstance(node, ast.Lambda):
            raise self.refuse("lambda")
        raise self.refuse(f"syntax {type(node).__name__}")

    def name(self, name: str) -> sp.Expr:
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in FUNCTIONS:
            raise KernelParseError(f"kernel string {self.text!r}: function {name!r} used without a call")
        match = _INPUT_NAME.match(name)
        if match:
            index = int(match.group(2))
            if index >= self.dim:
                raise KernelParseError(
                    f"kernel string {self.text!r}: {name!r} refers to input dimension {index}, "
                    f"but dim={self.dim} allows {match.group(1)}0..{match.group(1)}{self.dim - 1}"
                )
            return sp.Symbol(name)
        if name.startswith("_") or name.startswith("__"):
            raise self.refuse(f"name {name!r}")
        if name not in self.hyperparameters:
            self.hyperparameters.append(name)
        return sp.Symbol(name, positive=True)
