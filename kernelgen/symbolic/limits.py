"""Resource limits for kernel expressions, checked before SymPy does any work on them.

A short string can exhaust a machine: ``9**9**9`` asks SymPy for a 370-million-digit integer,
``(x0 - y0)**2**100`` for an expansion with 2**100 terms, a sum of 1500 terms nests the syntax
tree 1500 deep. Text from a user is therefore measured on its syntax tree first
(:func:`check_text`, :func:`check_syntax_tree`), and a SymPy expression handed to ``Kernel`` is
measured cheaply on its own tree (:func:`check_expression`). Every violation is a
:class:`~kernelgen.KernelParseError` that names the limit and its value.

The limits (module constants; every one is far above what a covariance function needs):

* :data:`MAX_TEXT_LENGTH` -- characters of a kernel string.
* :data:`MAX_NODES` -- expression nodes (names, numbers, operators, calls) of a kernel string.
* :data:`MAX_DEPTH` -- nesting depth of a kernel string; a chain ``a + b - c + ...`` or
  ``a * b / c * ...`` is one level; each operand, call argument, power or sign one more
  (redundant parentheses are not nodes: Python's parser allows 200 of them).
* :data:`MAX_MAGNITUDE` -- absolute value of every number literal and of every constant
  sub-expression (``2**300``, ``exp(1000)``); generated code works in float64.
* :data:`MAX_EXPONENT` -- absolute value of every constant exponent ``p`` in ``a ** p``; this also
  bounds exponent towers (``9**9**9``: the outer exponent is 387420489).
* :data:`MAX_EXPANDED_TERMS` -- terms of the expansion of products and integer powers of sums,
  which kernelgen's symbolic passes expand (``(x0 + y0 + x1 + y1 + 1)**60`` has 635376).
* :data:`MAX_TREE_NODES`, :data:`MAX_TREE_DEPTH` -- distinct nodes and depth of a SymPy
  expression given to ``Kernel`` directly.
"""

from __future__ import annotations

import ast
import io
import math
import tokenize
from collections.abc import Callable, Iterator

import sympy as sp

from .errors import KernelParseError

__all__ = [
    "MAX_DEPTH", "MAX_EXPANDED_TERMS", "MAX_EXPONENT", "MAX_MAGNITUDE", "MAX_NODES", "MAX_TEXT_LENGTH",
    "MAX_TREE_DEPTH", "MAX_TREE_NODES", "Source", "check_expression", "check_syntax_tree", "check_text",
]

MAX_TEXT_LENGTH = 10_000
MAX_NODES = 2_000
MAX_DEPTH = 50
MAX_MAGNITUDE = 1e100
MAX_EXPONENT = 100
MAX_EXPANDED_TERMS = 20_000
MAX_TREE_NODES = 20_000
MAX_TREE_DEPTH = 200
_MAX_MAGNITUDE_INT = int(MAX_MAGNITUDE)

#: Float versions of the functions a kernel string may call, for constant arguments.
_MATH: dict[str, Callable[[float], float]] = {
    "exp": math.exp, "log": math.log, "sqrt": math.sqrt, "sin": math.sin, "cos": math.cos, "tan": math.tan,
    "sinh": math.sinh, "cosh": math.cosh, "tanh": math.tanh, "atan": math.atan, "abs": abs, "Abs": abs,
}
_CONSTANTS = {"pi": math.pi, "E": math.e}
#: Operators that chain without nesting: ``a + b - c`` is one level, as is ``a * b / c``.
_CHAINS = ((ast.Add, ast.Sub), (ast.Mult, ast.Div))


def _exceeds(what: str, limit_name: str, limit: object) -> KernelParseError:
    return KernelParseError(f"{what}: more than {limit_name} = {limit} (kernelgen.symbolic.limits)")


def check_text(text: str) -> None:
    """Refuse a kernel string longer than :data:`MAX_TEXT_LENGTH` before it is parsed."""
    if len(text) > MAX_TEXT_LENGTH:
        raise _exceeds(f"kernel string of {len(text)} characters", "MAX_TEXT_LENGTH", MAX_TEXT_LENGTH)


def check_tokens(source: str) -> None:
    """Refuse more than :data:`MAX_NODES` names, numbers and operators before Python parses them.

    Python's own parser recurses once per operator of a chain (``x0 + x0 + ...`` 3000 times
    exhausts it), so the size is counted on the tokens first; brackets and commas are not nodes.
    """
    count = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type in (tokenize.NAME, tokenize.NUMBER, tokenize.STRING) or (
                    token.type == tokenize.OP and token.string not in "(),"):
                count += 1
                if count > MAX_NODES:
                    raise _exceeds("kernel string has too many terms", "MAX_NODES", MAX_NODES)
    except (tokenize.TokenError, SyntaxError):
        return  # not valid Python: ast.parse reports it with its own message


def chain_family(node: ast.AST) -> tuple[type, ...] | None:
    """The operator family of a chainable binary operation (``+ -`` or ``* /``), else None."""
    if isinstance(node, ast.BinOp):
        for family in _CHAINS:
            if isinstance(node.op, family):
                return family
    return None


def _children(node: ast.AST, depth: int) -> Iterator[tuple[ast.AST, int]]:
    """Expression children with their depth; the left operand of a chain stays on its level."""
    if isinstance(node, ast.BinOp):
        family = chain_family(node)
        same = family is not None and chain_family(node.left) == family
        yield node.left, depth if same else depth + 1
        yield node.right, depth + 1
    elif isinstance(node, ast.UnaryOp):
        yield node.operand, depth + 1
    elif isinstance(node, ast.Call):
        for arg in node.args:
            yield arg, depth + 1
    # Anything else is a leaf here; the parser refuses unsupported syntax when it builds.


def check_syntax_tree(tree: ast.Expression, source: Source) -> None:
    """Measure a parsed kernel string (iteratively: no recursion on its depth) against the limits.

    Checks :data:`MAX_NODES` and :data:`MAX_DEPTH`, then number literals, constant exponents and
    constant sub-expressions (:data:`MAX_MAGNITUDE`, :data:`MAX_EXPONENT`) by evaluating every
    constant sub-tree in floating point, bottom-up, before anything is built.
    """
    order: list[ast.AST] = []
    stack: list[tuple[ast.AST, int]] = [(tree.body, 1)]
    while stack:
        node, depth = stack.pop()
        order.append(node)
        if len(order) > MAX_NODES:
            raise _exceeds("kernel string has too many terms", "MAX_NODES", MAX_NODES)
        if depth > MAX_DEPTH:
            raise _exceeds("kernel string nests too deeply", "MAX_DEPTH", MAX_DEPTH)
        stack.extend(_children(node, depth))
    values: dict[int, float | None] = {}
    for node in reversed(order):  # children before parents
        values[id(node)] = _constant_value(node, values, source)


class Source:
    """The text a syntax tree was parsed from, for the exact spelling of a node.

    ``ast`` positions are UTF-8 byte offsets per line; they are resolved here in constant time
    per node (``ast.get_source_segment`` re-splits the whole text on every call).
    """

    def __init__(self, text: str) -> None:
        self.lines = [line.encode("utf-8") for line in text.splitlines(keepends=True)] or [b""]

    def segment(self, node: ast.AST) -> str:
        """The source text of ``node`` as written (before Python's NFKC normalisation of names)."""
        first, last = node.lineno - 1, node.end_lineno - 1  # type: ignore[attr-defined,operator]
        start, end = node.col_offset, node.end_col_offset  # type: ignore[attr-defined]
        if first == last:
            return self.lines[first][start:end].decode("utf-8")
        parts = [self.lines[first][start:], *self.lines[first + 1:last], self.lines[last][:end]]
        return b"".join(parts).decode("utf-8")


def _segment(source: Source, node: ast.AST) -> str:
    return source.segment(node)


def _constant_value(node: ast.AST, values: dict[int, float | None], source: Source) -> float | None:
    """The float value of a constant sub-tree (None if it depends on a name), within the limits."""
    if isinstance(node, ast.Constant):
        value = _literal(node, source)
    elif isinstance(node, ast.Name):
        value = _CONSTANTS.get(node.id)
    elif isinstance(node, ast.UnaryOp):
        inner = values.get(id(node.operand))
        value = None if inner is None else (-inner if isinstance(node.op, ast.USub) else inner)
    elif isinstance(node, ast.BinOp):
        value = _binary(node, values.get(id(node.left)), values.get(id(node.right)), source)
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and len(node.args) == 1:
        value = _call(node, values.get(id(node.args[0])), source)
    else:
        value = None
    if value is not None and not abs(value) <= MAX_MAGNITUDE:
        raise _exceeds(f"constant {_segment(source, node)!r} has magnitude {abs(value):.3g}", "MAX_MAGNITUDE",
                       MAX_MAGNITUDE)
    return value


def _literal(node: ast.Constant, source: Source) -> float | None:
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None  # refused by the parser with its own message
    text = _segment(source, node)
    if isinstance(value, int):
        if value.bit_length() > 400:  # float() of it would overflow; far above the limit anyway
            raise _exceeds(f"number literal of {len(str(abs(value)))} digits", "MAX_MAGNITUDE", MAX_MAGNITUDE)
        return float(value)
    if not math.isfinite(value):
        raise _exceeds(f"number literal {text} is beyond float64", "MAX_MAGNITUDE", MAX_MAGNITUDE)
    if value == 0.0 and any(c in "123456789" for c in text.lower().split("e")[0]):
        raise KernelParseError(f"number literal {text} underflows to 0 in float64")
    return value


def _binary(node: ast.BinOp, left: float | None, right: float | None, source: Source) -> float | None:
    if isinstance(node.op, ast.Pow) and right is not None and abs(right) > MAX_EXPONENT:
        raise _exceeds(f"exponent {_segment(source, node.right)!r} = {right:.6g} in {_segment(source, node)!r}",
                       "MAX_EXPONENT", MAX_EXPONENT)
    if left is None or right is None:
        return None
    try:
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        if isinstance(node.op, ast.Div):
            return left / right
        if isinstance(node.op, ast.Pow):
            result = left**right
            return None if isinstance(result, complex) else float(result)
    except ZeroDivisionError:
        return None  # SymPy makes it zoo, which Kernel refuses as not finite
    except OverflowError:
        return math.inf  # reported as above MAX_MAGNITUDE by the caller
    return None


def _call(node: ast.Call, arg: float | None, source: Source) -> float | None:
    func = _MATH.get(node.func.id)  # type: ignore[attr-defined]
    if func is None or arg is None:
        return None
    try:
        return float(func(arg))
    except OverflowError:
        return math.inf
    except ValueError:
        return None  # outside the real domain: SymPy's value is not real, which Kernel refuses


# ---------------------------------------------------------------------- SymPy objects
def check_expression(expr: sp.Basic) -> None:
    """Cheap measurements of a SymPy kernel expression (distinct nodes, depth, numbers, expansion).

    Runs in time linear in the number of distinct sub-expressions, without recursion.
    """
    order = _distinct_postorder(expr)
    depth: dict[sp.Basic, int] = {}
    terms: dict[sp.Basic, int] = {}
    work = 0
    for node in order:
        depth[node] = 1 + max((depth[a] for a in node.args), default=0)
        if depth[node] > MAX_TREE_DEPTH:
            raise _exceeds("kernel expression nests too deeply", "MAX_TREE_DEPTH", MAX_TREE_DEPTH)
        _check_number(node)
        terms[node], opaque = _expanded_terms(node, terms)
        work += opaque
        if terms[node] + work > MAX_EXPANDED_TERMS:
            raise _exceeds(f"expanding {_short(node)} needs at least {terms[node] + work} terms",
                           "MAX_EXPANDED_TERMS", MAX_EXPANDED_TERMS)


def _distinct_postorder(expr: sp.Basic) -> list[sp.Basic]:
    seen: set[sp.Basic] = set()
    order: list[sp.Basic] = []
    stack: list[tuple[sp.Basic, bool]] = [(expr, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in seen:
            continue
        seen.add(node)
        if len(seen) > MAX_TREE_NODES:
            raise _exceeds("kernel expression has too many distinct sub-expressions", "MAX_TREE_NODES",
                           MAX_TREE_NODES)
        stack.append((node, True))
        stack.extend((a, False) for a in node.args if a not in seen)
    return order


def _check_number(node: sp.Basic) -> None:
    if isinstance(node, sp.Rational):
        if abs(int(node.p)) > _MAX_MAGNITUDE_INT * int(node.q):  # exact: no float of a huge integer
            raise _exceeds(f"number {_short(node)} in the kernel expression", "MAX_MAGNITUDE", MAX_MAGNITUDE)
    elif isinstance(node, sp.Float) and not abs(float(node)) <= MAX_MAGNITUDE:
        raise _exceeds(f"number {_short(node)} in the kernel expression", "MAX_MAGNITUDE", MAX_MAGNITUDE)
    elif isinstance(node, sp.Pow) and node.exp.is_Number and abs(node.exp) > MAX_EXPONENT:
        raise _exceeds(f"exponent {_short(node.exp)} in {_short(node)}", "MAX_EXPONENT", MAX_EXPONENT)


def _expanded_terms(node: sp.Basic, terms: dict[sp.Basic, int]) -> tuple[int, int]:
    """(terms of ``node`` once products and positive integer powers are expanded, inner work).

    Inner work counts the expansions inside a function or a non-integer power, which SymPy's
    ``expand(deep=True)`` also performs but which stay one term outside.
    """
    cap = MAX_EXPANDED_TERMS + 1
    if isinstance(node, sp.Add):
        return min(cap, sum(terms[a] for a in node.args)), 0
    if isinstance(node, sp.Mul):
        product = 1
        for a in node.args:
            product = min(cap, product * terms[a])
        return product, 0
    if isinstance(node, sp.Pow):
        base = terms[node.base]
        if node.exp.is_Integer and int(node.exp) > 0:
            return min(cap, math.comb(base + int(node.exp) - 1, int(node.exp))), 0
        return 1, base
    if node.args:
        return 1, sum(terms[a] for a in node.args)
    return 1, 0


def _short(node: sp.Basic) -> str:
    text = str(node)
    return text if len(text) <= 60 else text[:57] + "..."
