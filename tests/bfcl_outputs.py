"""Model outputs for BFCL entries, generated from their possible answers: right ones and the usual mistakes
(wrong type, missing required / optional parameter, extra parameter, wrong value, wrong name, extra or missing
call, reversed parallel order, text instead of a call, malformed output), each in both reply forms: OpenAI tool
calls (function calling) and the Python call text of bfcl-eval's prompting mode."""
from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

Call = tuple[str, dict[str, Any]]


def _first(allowed: list[Any], k: int = 0) -> Any:
    values = [v for v in allowed if v != ""]
    return values[k % len(values)] if values else None


def right_calls(truth: list[dict[str, Any]], k: int = 0) -> list[Call]:
    calls = []
    for item in truth:
        name, params = next(iter(item.items()))
        args = {}
        for param, allowed in params.items():
            if "" in allowed and k % 2 == 1:
                continue  # optional: leave it out
            value = _first(allowed, k)
            if value is not None:
                args[param] = copy.deepcopy(value)
        calls.append((name, args))
    return calls


def _mutate_type(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(value)
    if isinstance(value, str):
        return 12345
    if isinstance(value, list):
        return json.dumps(value)
    if isinstance(value, dict):
        return [value]
    return "x"


def _mutate_value(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 7
    if isinstance(value, str):
        return value + " other"
    if isinstance(value, list):
        return [*value, value[0]] if value else ["extra"]
    if isinstance(value, dict):
        return {**value, "extra_key": "x"}
    return value


def _variant(value: Any) -> Any:
    if isinstance(value, str):
        return value.upper().replace(" ", "  ").replace(",", ", ")
    return value


def perturbations(functions: list[dict[str, Any]], truth: list[dict[str, Any]]) -> Iterator[tuple[str, Any]]:
    """(kind, calls or a raw reply) pairs; calls are [(name, args)]."""
    base = right_calls(truth)
    yield "right", base
    yield "right_alt", right_calls(truth, 1)
    docs = {f["name"]: f for f in functions}
    name, args = base[0]
    doc = docs.get(name, {"parameters": {"properties": {}, "required": []}})
    required = doc["parameters"].get("required", [])
    params = list(args)
    if params:
        p = params[0]
        yield "wrong_type", [(name, {**args, p: _mutate_type(args[p])}), *base[1:]]
        yield "wrong_value", [(name, {**args, p: _mutate_value(args[p])}), *base[1:]]
        yield "string_variant", [(name, {k: _variant(v) for k, v in args.items()}), *base[1:]]
    floats = [p for p in params if doc["parameters"]["properties"].get(p, {}).get("type") == "float"
              and isinstance(args[p], float)]
    if floats:
        yield "int_for_float", [(name, {**args, floats[0]: int(args[floats[0]])}), *base[1:]]
    req = [p for p in params if p in required]
    if req:
        yield "missing_required", [(name, {k: v for k, v in args.items() if k != req[0]}), *base[1:]]
    truth_params = next(iter(truth[0].values()))
    optional = [p for p in params if p not in required]
    if optional:
        kind = "missing_optional_allowed" if "" in truth_params[optional[0]] else "missing_optional_not_allowed"
        yield kind, [(name, {k: v for k, v in args.items() if k != optional[0]}), *base[1:]]
    yield "extra_param", [(name, {**args, "unexpected_param": 1}), *base[1:]]
    yield "wrong_name", [(name + "_v2", args), *base[1:]]
    yield "extra_call", [*base, base[-1]]
    if len(base) > 1:
        yield "missing_call", base[:-1]
        yield "reversed_order", list(reversed(base))
        first_args, last_args = base[0][1], base[-1][1]
        if base[0][0] == base[-1][0] and first_args != last_args:
            yield "swapped_arguments", [(base[0][0], last_args), *base[1:-1], (base[-1][0], first_args)]
    yield "malformed", base
    yield "text_refusal", "I cannot answer that with the functions given."
    yield "empty", []


def relevance_outputs(functions: list[dict[str, Any]]) -> Iterator[tuple[str, Any]]:
    doc = functions[0]
    dummy = {"string": "x", "integer": 1, "float": 1.0, "boolean": True, "array": [], "dict": {}, "tuple": [],
             "any": "x"}
    args = {p: dummy.get(doc["parameters"]["properties"].get(p, {}).get("type"), "x")
            for p in doc["parameters"].get("required", [])}
    yield "call", [(doc["name"], args)]
    yield "malformed", [(doc["name"], args)]
    yield "text_refusal", "None of the functions can answer this."
    yield "empty", []


def fc_reply(kind: str, calls: Any) -> tuple[list[dict[str, Any]] | None, str, list[dict[str, str]] | str]:
    """(our tool_calls, our text, bfcl-eval's model result) for one output in function-calling form."""
    if isinstance(calls, str):
        return None, calls, calls
    tool_calls = [{"id": f"call_{i}", "name": n.replace(".", "_"), "arguments": a, "raw_arguments": json.dumps(a),
                   "error": None} for i, (n, a) in enumerate(calls)]
    if kind == "malformed" and tool_calls:
        tool_calls[0]["raw_arguments"] = tool_calls[0]["raw_arguments"][:-1]
    if not tool_calls:
        return None, "", ""
    return tool_calls, "", [{c["name"]: c["raw_arguments"]} for c in tool_calls]


def prompt_reply(kind: str, calls: Any) -> str:
    if isinstance(calls, str):
        return calls
    text = "[" + ", ".join(f"{n}(" + ", ".join(f"{k}={v!r}" for k, v in a.items()) + ")" for n, a in calls) + "]"
    if kind == "malformed":
        return text[:-2]
    if kind == "right_alt":
        return "```\n" + text[1:-1] + "\n```"  # fenced and without brackets: bfcl-eval strips and re-wraps it
    return text


# -- multi-turn trajectories ------------------------------------------------------------------------------------

def signatures(classes: list[str]) -> dict[str, list[str]]:
    """Parameter names of the API methods of these bfcl-eval classes (to name positional arguments)."""
    import inspect

    from gage_eval.benchmarks.bfcl.multi_turn import api_class

    out: dict[str, list[str]] = {}
    for name in classes:
        for method, fn in inspect.getmembers(api_class(name), predicate=inspect.isfunction):
            if not method.startswith("_"):
                out[method] = [p for p in inspect.signature(fn).parameters if p != "self"]
    return out


def parse_call(source: str, signatures: dict[str, list[str]]) -> Call:
    """A ground-truth call string -> (name, kwargs); positional arguments named by the method's signature."""
    import ast

    node = ast.parse(source, mode="eval").body
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name), source
    name = node.func.id
    args = {signatures[name][i]: ast.literal_eval(a) for i, a in enumerate(node.args)}
    args.update({kw.arg: ast.literal_eval(kw.value) for kw in node.keywords})
    return name, args


def _fc_step(calls: list[Call]) -> list[dict[str, str]]:
    return [{n: json.dumps(a)} for n, a in calls]


def _prompt_step(calls: list[Call]) -> str:
    return "[" + ", ".join(f"{n}(" + ", ".join(f"{k}={v!r}" for k, v in a.items()) + ")" for n, a in calls) + "]"


def trajectories(truth: list[list[str]], signatures: dict[str, list[str]]) -> Iterator[tuple[str, list[list[list[Call] | str]]]]:
    """(kind, turns): each turn a list of steps, a step a list of calls or a text reply."""
    turns = [[parse_call(c, signatures) for c in turn] for turn in truth]
    yield "one_step_per_turn", [[calls] if calls else [] for calls in turns]
    yield "step_per_call_then_text", [[[c] for c in calls] + ["Done."] for calls in turns]
    if turns[0]:
        yield "drop_last_call_turn0", [[turns[0][:-1]] if turns[0][:-1] else [], *[[t] for t in turns[1:]]]
        yield "duplicate_first_call", [[[turns[0][0]] + turns[0]], *[[t] for t in turns[1:]]]
        yield "reversed_turn0", [[list(reversed(turns[0]))], *[[t] for t in turns[1:]]]
        yield "unknown_function_too", [[turns[0] + [("not_an_api_method", {"x": 1})]], *[[t] for t in turns[1:]]]
    last = turns[-1]
    strings = [(i, k) for i, (_, a) in enumerate(last) for k, v in a.items() if isinstance(v, str)]
    if strings:
        i, k = strings[0]
        changed = [(n, {**a, k: a[k] + "_x"}) if j == i else (n, a) for j, (n, a) in enumerate(last)]
        yield "wrong_argument_last_turn", [*[[t] for t in turns[:-1]], [changed]]
    yield "empty_last_turn", [*[[t] for t in turns[:-1]], []]
    yield "force_terminated", [[t] for t in turns[:-1]]


def render_turns(turns: list[list[Any]], mode: str) -> list[list[Any]]:
    """Steps as the replies bfcl-eval records: [{name: json}] / text (function calling), text (prompting)."""
    out = []
    for steps in turns:
        rendered = []
        for step in steps:
            if isinstance(step, str):
                rendered.append(step)
            else:
                rendered.append(_fc_step(step) if mode == "fc" else _prompt_step(step))
        out.append(rendered)
    return out
