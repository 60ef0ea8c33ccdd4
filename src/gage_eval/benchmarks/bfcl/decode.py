"""Model output -> BFCL's decoded calls, as bfcl-eval's OpenAI handlers decode them.

- `decode_ast` gives ``[{name: {param: value}}]`` for the AST checker: function calling parses each tool call's
  raw arguments with ``json.loads``; prompting parses the text as a Python list of calls
  (`default_decode_ast_prompting`: strip backticks/newlines/spaces, wrap in ``[...]``, ``ast.parse``).
- `decode_execute` gives the call strings the multi-turn checker executes (``name(k=repr(v), ...)``).

A decoding failure raises `DecodeError`; BFCL counts it as "no function call" (wrong for AST categories, right for
irrelevance). One deliberate difference: bfcl-eval `eval`s arithmetic it finds in arguments (``x=2*3``); here only
numeric literal arithmetic is computed (see safe_eval), never arbitrary code.
"""
from __future__ import annotations

import ast
import json
from typing import Any

from gage_eval.benchmarks.bfcl.safe_eval import literal_arithmetic


class DecodeError(ValueError):
    pass


FcResponse = list[dict[str, str]] | str | None  # [{name: raw_arguments}] when the model called tools, else its text


def fc_response(tool_calls: list[dict[str, Any]] | None, text: str | None) -> FcResponse:
    """What bfcl-eval's OpenAI FC handler keeps of one reply: the calls with their raw JSON, else the content."""
    if tool_calls:
        return [{c.get("name") or "": c.get("raw_arguments") or ""} for c in tool_calls]
    return text


def decode_ast_fc(response: FcResponse) -> list[dict[str, Any]]:
    if not isinstance(response, list):
        # bfcl-eval iterates the content string: "" decodes to [], anything else fails
        if response == "":
            return []
        raise DecodeError("the model answered with text, not tool calls")
    out = []
    for call in response:
        name = next(iter(call))
        try:
            out.append({name: json.loads(call[name])})
        except json.JSONDecodeError as exc:
            raise DecodeError(f"arguments of {name!r} are not JSON: {exc}") from None
    return out


def decode_ast_prompt(text: Any) -> list[dict[str, Any]]:
    if not isinstance(text, str):
        raise DecodeError("no text to decode")
    text = text.strip("`\n ")
    if not text.startswith("["):
        text = "[" + text
    if not text.endswith("]"):
        text = text + "]"
    cleaned = text.strip().strip("'")
    try:
        parsed = ast.parse(cleaned, mode="eval")
    except SyntaxError as exc:
        raise DecodeError(f"not Python call syntax: {exc}") from None
    body = parsed.body
    if isinstance(body, ast.Call):
        return [_call(body)]
    elts = getattr(body, "elts", None)
    if elts is None:
        raise DecodeError(f"not a list of calls: {type(body).__name__}")
    calls = []
    for elem in elts:
        if not isinstance(elem, ast.Call):
            raise DecodeError("a list element is not a function call")
        calls.append(_call(elem))
    return calls


def decode_ast(response: Any, mode: str) -> list[dict[str, Any]]:
    return decode_ast_fc(response) if mode == "fc" else decode_ast_prompt(response)


def _call(node: ast.Call) -> dict[str, Any]:
    """resolve_ast_call: a dotted name and its keyword arguments (positional ones are dropped, as in bfcl-eval)."""
    parts = []
    func: ast.expr = node.func
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    return {".".join(reversed(parts)): {kw.arg: _value(kw.value) for kw in node.keywords}}


def _value(node: ast.expr) -> Any:  # noqa: PLR0911 - one branch per node type, as resolve_ast_by_type
    if isinstance(node, ast.Constant):
        return "..." if node.value is Ellipsis else node.value
    if isinstance(node, ast.UnaryOp):
        operand = getattr(node.operand, "value", None)
        if operand is None:
            raise DecodeError("unary operator on a non-constant")
        try:
            return -operand  # bfcl-eval negates whatever the operator (also for `+x` and `not x`)
        except TypeError as exc:
            raise DecodeError(str(exc)) from None
    if isinstance(node, ast.List):
        return [_value(v) for v in node.elts]
    if isinstance(node, ast.Dict):
        return {_value(k): _value(v) for k, v in zip(node.keys, node.values)}  # type: ignore[arg-type]
    if isinstance(node, ast.BinOp):
        try:
            return literal_arithmetic(node)
        except ValueError as exc:
            raise DecodeError(str(exc)) from None
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call):
        return ast.unparse(node) if not node.keywords else _call(node)
    if isinstance(node, ast.Tuple):
        return tuple(_value(v) for v in node.elts)
    if isinstance(node, ast.Subscript):
        return ast.unparse(node.value) + "[" + ast.unparse(node.slice) + "]"
    raise DecodeError(f"unsupported AST type: {type(node)}")


# -- execution strings (multi-turn) -----------------------------------------------------------------------------

def _nested(value: Any) -> str:
    """parse_nested_value: a dict whose values are all dicts is a nested call; other values are repr'd."""
    if isinstance(value, dict):
        if all(isinstance(v, dict) for v in value.values()):
            name = next(iter(value))
            return f"{name}(" + ", ".join(f"{k}={_nested(v)}" for k, v in value[name].items()) + ")"
        return "{" + ", ".join(f"'{k}': {_nested(v)}" for k, v in value.items()) + "}"
    return repr(value)


def decode_execute_prompt(text: Any) -> list[str]:
    return [f"{name}(" + ", ".join(f"{k}={_nested(v)}" for k, v in args.items()) + ")"
            for call in decode_ast_prompt(text) for name, args in call.items()]


def decode_execute_fc(response: FcResponse) -> list[str]:
    """convert_to_function_call: ``name(k=repr(v),...)`` from each call's JSON arguments."""
    if isinstance(response, str) or response is None:
        if response == "":
            return []
        raise DecodeError("the model answered with text, not tool calls")
    out = []
    for call in response:
        for name, raw in call.items():
            try:
                args = json.loads(raw) if isinstance(raw, str) else raw
            except json.JSONDecodeError as exc:
                raise DecodeError(f"arguments of {name!r} are not JSON: {exc}") from None
            if not isinstance(args, dict):
                raise DecodeError(f"arguments of {name!r} are not an object")
            out.append(f"{name}(" + ",".join(f"{k}={v!r}" for k, v in args.items()) + ")")
    return out


def decode_execute(response: Any, mode: str) -> list[str]:
    return decode_execute_fc(response) if mode == "fc" else decode_execute_prompt(response)


def is_empty_execute(calls: list[Any]) -> bool:
    return len(calls) == 0 or (len(calls) == 1 and len(calls[0]) == 0)
