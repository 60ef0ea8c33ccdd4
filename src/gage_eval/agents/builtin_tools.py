"""Built-in Python tools (registry kind `tools`): small, safe, and examples for user tools."""
from __future__ import annotations

import ast
import operator
from typing import Annotated, Any

from pydantic import Field

from gage_eval.registry import registry

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}


def _eval(node: ast.AST) -> float | int:
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > 1000:
            raise ValueError("exponent too large")
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_eval(node.operand))
    raise ValueError(f"unsupported expression element: {type(node).__name__}")


@registry.asset("tools", "calculator", desc="evaluate an arithmetic expression (+ - * / // % ** and parentheses)")
def calculator(expression: Annotated[str, Field(description="e.g. (2 + 3) * 4")]) -> str:
    """Evaluate an arithmetic expression and return the number."""
    value = _eval(ast.parse(expression, mode="eval"))
    return str(int(value) if isinstance(value, float) and value.is_integer() else value)


@registry.asset("tools", "notes_write", desc="store a note under a key (kept for the rest of the sample)")
def notes_write(key: str, text: str, state: dict[str, Any]) -> str:
    """Store a note under a key; it stays readable for the rest of this task."""
    state.setdefault("notes", {})[key] = text
    return f"saved note '{key}'"


@registry.asset("tools", "notes_read", desc="read a note stored with notes_write")
def notes_read(key: str, state: dict[str, Any]) -> str:
    """Read a note stored earlier with notes_write."""
    notes = state.get("notes", {})
    if key not in notes:
        raise KeyError(f"no note '{key}'; stored notes: {', '.join(notes) or 'none'}")
    return notes[key]
