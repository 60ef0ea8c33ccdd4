"""What the model is shown: BFCL's function docs as OpenAI tools (native function calling) or inside its default
system prompt (prompt mode), both as bfcl-eval builds them for OpenAI-compatible chat models.

- the docs first get bfcl_eval.utils' Python hint (" Note that the provided function is in Python 3 syntax.");
- function calling: `convert_to_tool` of bfcl_eval.model_handler.utils for ModelStyle.OPENAI_COMPLETIONS: "." in a
  name becomes "_" (OpenAI's name pattern), parameter types map through GORILLA_TO_OPENAPI, floats are marked;
- prompting: `formulate_system_prompt` with the default format (python calls, no tag, JSON docs, plaintext,
  classic style), put before the question's own system message or as a new one.
"""
from __future__ import annotations

import copy
import json
import re
from typing import Any

PYTHON_HINT = " Note that the provided function is in Python 3 syntax."

GORILLA_TO_OPENAPI = {
    "integer": "integer", "number": "number", "float": "number", "string": "string", "boolean": "boolean",
    "bool": "boolean", "array": "array", "list": "array", "dict": "object", "object": "object", "tuple": "array",
    "any": "string", "byte": "integer", "short": "integer", "long": "integer", "double": "number", "char": "string",
    "ArrayList": "array", "Array": "array", "HashMap": "object", "Hashtable": "object", "Queue": "array",
    "Stack": "array", "Any": "string", "String": "string", "Bigint": "integer",
}

_SYSTEM_PROMPT = (
    "You are an expert in composing functions.You are given a question and a set of possible functions. Based on the "
    "question, you will need to make one or more function/tool calls to achieve the purpose. If none of the functions "
    "can be used, point it out. If the given question lacks the parameters required by the function, also point it "
    "out.\n\nYou should only return the function calls in your response.\n\nIf you decide to invoke any of the "
    "function(s), you MUST put it in the format of [func_name1(params_name1=params_value1, "
    "params_name2=params_value2...), func_name2(params)].  You SHOULD NOT include any other text in the response."
    "\n\nAt each turn, you should try your best to complete the tasks requested by the user within the current "
    "turn. Continue to output functions to call until you have fulfilled the user's request to the best of your "
    "ability. Once you have no more functions to call, the system will consider the current turn complete and "
    "proceed to the next turn or task.\n\nHere is a list of functions in json format that you can invoke.\n"
    "{functions}\n")

# The user turn bfcl-eval sends when a multi-turn entry adds functions (kept for the miss_func categories).
ADDITIONAL_FUNCTION_PROMPT = "I have updated some more functions you can choose from. What about now?"


def with_python_hint(functions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = copy.deepcopy(functions)
    for item in out:
        item["description"] = item["description"] + PYTHON_HINT
    return out


def _cast_types(properties: dict[str, Any]) -> dict[str, Any]:
    """bfcl_eval.model_handler.utils._cast_to_openai_type with GORILLA_TO_OPENAPI."""
    for key, value in properties.items():
        if "type" not in value:
            value["type"] = "string"
        else:
            var_type = value["type"]
            if var_type == "float":
                value["format"] = "float"
                value["description"] += " This is a float type value."
            value["type"] = GORILLA_TO_OPENAPI.get(var_type, "string")
        if value["type"] in ("array", "object"):
            if "properties" in value:
                value["properties"] = _cast_types(value["properties"])
            elif "items" in value:
                items = value["items"]
                items["type"] = GORILLA_TO_OPENAPI[items["type"]]
                if items["type"] == "array" and "items" in items:
                    items["items"]["type"] = GORILLA_TO_OPENAPI[items["items"]["type"]]
                elif items["type"] == "object" and "properties" in items:
                    items["properties"] = _cast_types(items["properties"])
        properties[key] = value
    return properties


def openai_tools(functions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The docs as the OpenAI `tools` list bfcl-eval sends in function-calling mode."""
    tools = []
    for item in copy.deepcopy(functions):
        if "." in item["name"]:
            item["name"] = re.sub(r"\.", "_", item["name"])
        item["parameters"]["type"] = "object"
        item["parameters"]["properties"] = _cast_types(item["parameters"]["properties"])
        tools.append({"type": "function", "function": item})
    return tools


def system_prompt(functions: list[dict[str, Any]]) -> str:
    return _SYSTEM_PROMPT.replace("{functions}", json.dumps(functions, indent=4))


def prompt_messages(first_turn: list[dict[str, Any]], prompt: str) -> list[dict[str, Any]]:
    """bfcl_eval's system_prompt_pre_processing_chat_model: the system prompt joins an existing system message."""
    messages = copy.deepcopy(first_turn)
    if messages and messages[0]["role"] == "system":
        messages[0]["content"] = prompt + "\n\n" + messages[0]["content"]
    else:
        messages.insert(0, {"role": "system", "content": prompt})
    return messages
