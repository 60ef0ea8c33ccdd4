"""Tool calls written in model text: Hermes/Qwen `<tool_call>` blocks and Llama-3.1 JSON, bad JSON kept."""
from __future__ import annotations

from gage_eval.backends.tool_parsing import parse_tool_text


def _calls(text: str, style: str = "auto") -> tuple[str, list[tuple]]:
    content, calls = parse_tool_text(text, style)  # type: ignore[arg-type]
    return content, [(c["name"], c["arguments"], c["error"] is None) for c in calls]


def test_hermes_blocks_with_text_around_and_an_unclosed_last_block() -> None:
    text = ('Let me check.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n'
            '<tool_call>\n{"name": "get_time", "arguments": {}}')
    assert _calls(text) == ("Let me check.", [("get_weather", {"city": "Paris"}, True), ("get_time", {}, True)])
    # Arguments given as a JSON string (some fine-tunes do) are parsed too.
    assert _calls('<tool_call>{"name": "f", "arguments": "{\\"x\\": 1}"}</tool_call>')[1] == [("f", {"x": 1}, True)]


def test_hermes_bad_json_keeps_the_name_and_the_raw_text() -> None:
    content, calls = parse_tool_text('<tool_call>{"name": "f", "arguments": {"x": 1,}}</tool_call>')
    assert content == "" and calls[0]["name"] == "f" and calls[0]["arguments"] is None
    assert "not valid JSON" in calls[0]["error"] and calls[0]["raw_arguments"] == '{"name": "f", "arguments": {"x": 1,}}'


def test_llama3_json_single_parallel_and_python_tag() -> None:
    assert _calls('{"name": "f", "parameters": {"a": 1}}') == ("", [("f", {"a": 1}, True)])
    assert _calls('<|python_tag|>{"name": "f", "parameters": {"a": "}{"}}; {"name": "g", "parameters": {}}')[1] == \
        [("f", {"a": "}{"}, True), ("g", {}, True)]
    assert _calls('{"name": "f", "parameters": {"a": 1}')[1][0][2] is False  # cut off mid-object: an error


def test_plain_answers_are_not_calls() -> None:
    assert _calls("The answer is 4.") == ("The answer is 4.", [])
    assert _calls('{"answer": 4}') == ('{"answer": 4}', [])  # JSON, but not a call
    assert _calls('Here: {"name": "f"} done') == ('Here: {"name": "f"} done', [])  # prose around it
    assert _calls('<tool_call>{"name": "f"}</tool_call>', "none") == ('<tool_call>{"name": "f"}</tool_call>', [])
    assert _calls('{"name": "f", "parameters": {}}', "hermes") == ('{"name": "f", "parameters": {}}', [])
