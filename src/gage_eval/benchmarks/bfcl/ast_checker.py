"""BFCL's AST checker for Python calls, rule for rule (bfcl_eval/eval_checker/ast_eval/ast_checker.py).

A decoded model output ``[{name: {param: value}}]`` is checked against the possible answer ``[{name: {param:
[allowed values]}}]`` (an allowed value "" marks an optional parameter that may be left out):

- simple: exactly one call; ``multiple``: one call, of the function the answer names; ``parallel*``: as many calls
  as answers, matched in any order (each answer takes the first unmatched call it accepts — greedy, as BFCL);
- a call: the name (dots as "_" in function-calling mode), every required parameter present, no parameter outside
  the doc or the answer, each value of the doc's type (an int for a float is fine; a value of the answer's type
  counts as a variable name) and among the allowed values — strings compared after removing spaces and ``,./-_*^``,
  lower-cased, with ' as "; lists element-wise the same way; dicts key by key; lists of dicts in order — and every
  answer parameter not marked optional present.

Results are ``{"valid": bool, "error": [...], "error_type": str}`` with BFCL's error types.
"""
from __future__ import annotations

import re
from typing import Any

TYPES = {"string": str, "integer": int, "float": float, "boolean": bool, "array": list, "tuple": list,
         "dict": dict, "any": str}
NESTED = ("array", "tuple")


def _fail(error_type: str, *errors: Any) -> dict[str, Any]:
    return {"valid": False, "error": list(errors), "error_type": error_type}


def check(functions: list[dict[str, Any]], output: list[dict[str, Any]], answer: list[dict[str, Any]],
          category: str, underscore_to_dot: bool) -> dict[str, Any]:
    if "parallel" in category:
        return parallel_no_order(functions, output, answer, underscore_to_dot)
    if "multiple" in category:
        if len(output) != len(answer):
            return _fail("multiple_function_checker:wrong_count", "Wrong number of functions.")
        return simple(_find(functions, next(iter(answer[0]))), output[0], answer[0], underscore_to_dot)
    if len(output) != 1:
        return _fail("simple_function_checker:wrong_count", "Wrong number of functions.")
    return simple(functions[0], output[0], answer[0], underscore_to_dot)


def _find(functions: list[dict[str, Any]] | dict[str, Any], name: str) -> dict[str, Any] | None:
    if isinstance(functions, list):
        return next((f for f in functions if f["name"] == name), None)
    return functions


def _answer_type(allowed: list[Any]) -> type | None:
    return next((type(a) for a in allowed if a != ""), None)


def standardize(text: str) -> str:
    return re.sub(r"[ \,\.\/\-\_\*\^]", "", text).lower().replace("'", '"')


def type_check(param: str, value: Any, allowed: list[Any], type_name: str, expected: type,
               nested: type | None) -> dict[str, Any]:
    answer_type = _answer_type(allowed)
    is_variable = answer_type is not None and answer_type != expected
    result: dict[str, Any] = {"valid": True, "error": [], "is_variable": False, "error_type": "type_error:simple"}
    if type(value) == expected:  # noqa: E721 - exact types, as BFCL: a bool is not an int here
        if nested is None:
            result["is_variable"] = is_variable
            return result
        for item in allowed:
            ok = True
            if type(item) == list:  # noqa: E721
                for element in value:
                    if not type_check(param, element, item, str(nested), nested, None)["valid"]:
                        ok = False
                        break
            if ok:
                return {"valid": True, "error": [], "is_variable": is_variable}
        result["valid"] = False
        result["error"] = [f"Nested type checking failed for parameter {param!r}. Expected outer type {type_name} "
                           f"with inner type {nested}. Parameter value: {value!r}."]
        result["error_type"] = "type_error:nested"
    if answer_type is not None and type(value) == answer_type:  # noqa: E721
        result["is_variable"] = True
        return result
    result["valid"] = False
    result["error"].append(f"Incorrect type for parameter {param!r}. Expected type {type_name}, got "
                           f"{type(value).__name__}. Parameter value: {value!r}.")
    result["error_type"] = "type_error:simple"
    return result


def string_check(param: str, value: str, allowed: list[Any]) -> dict[str, Any]:
    if standardize(value) not in [standardize(a) for a in allowed if type(a) == str]:  # noqa: E721
        return _fail("value_error:string", f"Invalid value for parameter {param!r}: {value!r}. Expected one of "
                     f"{allowed}. Case insensitive.")
    return {"valid": True, "error": []}


def list_check(param: str, value: list[Any], allowed: list[Any]) -> dict[str, Any]:
    mine = [standardize(v) if type(v) == str else v for v in value]  # noqa: E721
    options = [[standardize(x) if type(x) == str else x for x in option] for option in allowed]  # noqa: E721
    if mine not in options:
        return _fail("value_error:list/tuple", f"Invalid value for parameter {param!r}: {value!r}. Expected one of "
                     f"{allowed}.")
    return {"valid": True, "error": []}


def dict_check(param: str, value: dict[Any, Any], allowed: list[Any]) -> dict[str, Any]:
    result = _fail("dict_checker:unclear")
    for option in allowed:
        if option == "":
            continue
        result = _fail("dict_checker:unclear")
        ok = True
        for key, item in value.items():
            if key not in option:
                result = _fail("value_error:dict_key", f"Unexpected dict key parameter: '{key}'.")
                ok = False
                break
            mine = standardize(item) if type(item) == str else item  # noqa: E721
            options = [standardize(x) if type(x) == str else x for x in option[key]]  # noqa: E721
            if mine not in options:
                result = _fail("value_error:dict_value", f"Invalid value for parameter {key!r}: {item!r}. Expected "
                               f"one of {options}.")
                ok = False
                break
        for key, options_for_key in option.items():
            if key not in value and "" not in options_for_key:
                result = _fail("value_error:dict_key", f"Missing dict key parameter: '{key}'.")
                ok = False
                break
        if ok:
            return {"valid": True, "error": []}
    return result


def list_dict_check(param: str, value: list[Any], allowed: list[Any]) -> dict[str, Any]:
    result = _fail("list_dict_checker:unclear")
    for option in allowed:
        if len(value) != len(option):
            result = _fail("value_error:list_dict_count", "Wrong number of dictionaries in the list.")
            continue
        ok = True
        for i, item in enumerate(value):
            result = dict_check(param, item, [option[i]])
            if not result["valid"]:
                ok = False
                break
        if ok:
            return {"valid": True, "error": []}
    return result


def simple(function: dict[str, Any] | None, output: dict[str, Any], answer: dict[str, Any],
           underscore_to_dot: bool) -> dict[str, Any]:
    """simple_function_checker for Python."""
    if function is None:  # BFCL subscripts None here and crashes; an answer naming no listed function
        return _fail("simple_function_checker:wrong_func_name", "The possible answer names no listed function.")
    allowed_by_param = next(iter(answer.values()))
    name = function["name"]
    details = function["parameters"]["properties"]
    if "." in name and underscore_to_dot:
        name = re.sub(r"\.", "_", name)
    if name not in output:
        return _fail("simple_function_checker:wrong_func_name", f"Function name {name!r} not found in model output.")
    params = output[name]
    for param in function["parameters"]["required"]:
        if param not in params:
            return _fail("simple_function_checker:missing_required", f"Missing required parameter: {param!r}.")
    for param, value in params.items():
        if param not in details or param not in allowed_by_param:
            return _fail("simple_function_checker:unexpected_param", f"Unexpected parameter: {param!r}.")
        type_name = details[param]["type"]
        expected = TYPES[type_name]
        nested = TYPES[details[param]["items"]["type"]] if type_name in NESTED else None
        if type_name == "tuple" and type(value) == tuple:  # noqa: E721 - JSON answers hold tuples as lists
            value = list(value)
        if type_name == "float" and type(value) == int:  # noqa: E721
            value = float(value)
        allowed = allowed_by_param[param]
        typed = type_check(param, value, allowed, type_name, expected, nested)
        if not typed["valid"]:
            return typed
        if not typed["is_variable"]:
            if expected == dict:
                result = dict_check(param, value, allowed)
            elif expected == list and nested == dict:
                result = list_dict_check(param, value, allowed)
            elif expected == str:
                result = string_check(param, value, allowed)
            elif expected == list:
                result = list_check(param, value, allowed)
            else:
                result = None
            if result is not None:
                if not result["valid"]:
                    return result
                continue
        if value not in allowed:
            return _fail("value_error:others", f"Invalid value for parameter {param!r}: {value!r}. Expected one of "
                         f"{allowed}.")
    for param, allowed in allowed_by_param.items():
        if param not in params and "" not in allowed:
            return _fail("simple_function_checker:missing_optional",
                         f"Optional parameter {param!r} not provided and not marked as optional.")
    return {"valid": True, "error": [], "error_type": "simple_function_checker:unclear"}


def parallel_no_order(functions: list[dict[str, Any]], output: list[dict[str, Any]], answers: list[dict[str, Any]],
                      underscore_to_dot: bool) -> dict[str, Any]:
    if len(output) != len(answers):
        return _fail("parallel_function_checker_no_order:wrong_count", "Wrong number of functions.")
    matched: list[int] = []
    for i, answer in enumerate(answers):
        function = _find(functions, next(iter(answer)))
        result: dict[str, Any] = {"valid": False}
        errors: list[Any] = []
        for index, call in enumerate(output):
            if index in matched:
                continue
            result = simple(function, call, answer, underscore_to_dot)
            if result["valid"]:
                matched.append(index)
                break
            errors.append({f"Model Result Index {index}": {"sub_error": result["error"],
                                                           "sub_error_type": result["error_type"]}})
        if not result["valid"]:
            left = [j for j in range(len(output)) if j not in matched]
            return _fail("parallel_function_checker_no_order:cannot_find_match",
                         f"Could not find a matching function among index {left} of model output for index {i} of "
                         "possible answers.", *errors)
    return {"valid": True, "error": []}


def is_call_format(decoded: Any) -> bool:
    """bfcl_eval.utils.is_function_calling_format_output: a list of {name: {params}} (the empty list too)."""
    if type(decoded) != list:  # noqa: E721
        return False
    return all(type(item) == dict and len(item) == 1 and type(next(iter(item.values()))) == dict  # noqa: E721
               for item in decoded)


def is_empty_output(decoded: Any) -> bool:
    """bfcl_eval.utils.is_empty_output: no call at all ([], [{}], or not the call format)."""
    return not is_call_format(decoded) or len(decoded) == 0 or (len(decoded) == 1 and len(decoded[0]) == 0)
