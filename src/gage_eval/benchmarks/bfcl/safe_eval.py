"""Evaluate the small expressions BFCL `eval`s, without `eval`: literals, containers, arithmetic on numbers and
strings, and calls of the API methods a multi-turn entry exposes. Anything else (names of other things, attribute
access, comprehensions, lambdas) raises, so a model's output can never run code of its own."""
from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import Any

_BINOPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_, ast.Invert: operator.invert}
_MAX_POWER = 10_000  # 10 ** 10_000 is fine; 10 ** 10 ** 9 would hang the scorer


class _Evaluator:
    def __init__(self, call: Callable[[str, list[Any], dict[str, Any]], Any] | None = None) -> None:
        self.call = call

    def __call__(self, node: ast.AST) -> Any:  # noqa: PLR0911, PLR0912 - one branch per node type
        if isinstance(node, ast.Expression):
            return self(node.body)
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.List):
            return [self(e) for e in node.elts]
        if isinstance(node, ast.Tuple):
            return tuple(self(e) for e in node.elts)
        if isinstance(node, ast.Set):
            return {self(e) for e in node.elts}
        if isinstance(node, ast.Dict):
            if any(k is None for k in node.keys):
                raise ValueError("dict unpacking is not evaluated")
            return {self(k): self(v) for k, v in zip(node.keys, node.values)}  # type: ignore[arg-type]
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return _UNARY[type(node.op)](self(node.operand))
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            left, right = self(node.left), self(node.right)
            if isinstance(node.op, ast.Pow) and isinstance(right, (int, float)) and abs(right) > _MAX_POWER:
                raise ValueError("exponent too large")
            if isinstance(node.op, ast.Mult) and any(isinstance(v, (str, list, tuple)) for v in (left, right)) \
                    and any(isinstance(v, int) and v > 100_000 for v in (left, right)):
                raise ValueError("repetition too large")
            return _BINOPS[type(node.op)](left, right)
        if isinstance(node, ast.Call) and self.call is not None:
            if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
                raise ValueError("argument unpacking is not evaluated")
            args = [self(a) for a in node.args]
            kwargs = {k.arg: self(k.value) for k in node.keywords}
            return self.call(_dotted(node.func), args, kwargs)
        if isinstance(node, ast.Name):
            raise NameError(f"name '{node.id}' is not defined")
        raise ValueError(f"{type(node).__name__} expressions are not evaluated")


def _dotted(func: ast.expr) -> str:
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name):
        raise ValueError("only named functions are called")
    parts.append(func.id)
    return ".".join(reversed(parts))


def literal_arithmetic(node: ast.expr) -> Any:
    """What bfcl-eval's ``eval(ast.unparse(node))`` gives for arithmetic on literals; ValueError otherwise."""
    try:
        return _Evaluator()(node)
    except (ArithmeticError, TypeError, NameError) as exc:
        raise ValueError(str(exc)) from None


def evaluate_call(source: str, call: Callable[[str, list[Any], dict[str, Any]], Any]) -> Any:
    """Evaluate one call string (``name(a=1, b=[2])``, nested calls included) with `call` doing the calls."""
    tree = ast.parse(source, filename="<string>", mode="eval")
    return _Evaluator(call)(tree)
