"""The four metric config forms of spec §4.5.3 normalize to one full object; bad shorthands name `metrics[i]`."""
from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gage_eval.config import config_from_dict
from gage_eval.config.metric_forms import (
    normalize_metric_entry,
    parse_function_shorthand,
)
from gage_eval.errors import ConfigError


def full(metric_id: str, implementation: str | None = None, params: dict[str, Any] | None = None,
         **extra: Any) -> dict[str, Any]:
    return {"metric_id": metric_id, "implementation": implementation or metric_id, "params": params or {}, **extra}


@pytest.mark.parametrize("entry,expected", [
    # 1) string shorthand
    ("exact_match", full("exact_match")),
    # 2) KV shorthand (params, no params, aggregation taken out of the params)
    ({"regex_match": {"pattern": "^A$", "ignore_case": True}},
     full("regex_match", params={"pattern": "^A$", "ignore_case": True})),
    ({"exact_match": None}, full("exact_match")),
    ({"latency": {"aggregation": "median"}}, full("latency", aggregation="median")),
    # 3) function shorthand
    ("exact_match(case_sensitive=true, strip_whitespace=false)",
     full("exact_match", params={"case_sensitive": True, "strip_whitespace": False})),
    ("exact_match()", full("exact_match")),
    ("  exact_match ( a = 1 ) ", full("exact_match", params={"a": 1})),
    ("m(t=TRUE, f=False, n=null, N=None)", full("m", params={"t": True, "f": False, "n": None, "N": None})),
    ("m(i=3, neg=-2, x=0.5, e=1e-3, big=1_000)", full("m", params={"i": 3, "neg": -2, "x": 0.5, "e": 0.001,
                                                                   "big": 1000})),
    ("m(a='x, y', b=\"p=q\", c='it\\'s', d=\"(1, 2)\")",
     full("m", params={"a": "x, y", "b": "p=q", "c": "it's", "d": "(1, 2)"})),
    ("m(s='true', n='3')", full("m", params={"s": "true", "n": "3"})),  # quoted stays a string
    ("m(word=bare, aggregation=median)", full("m", params={"word": "bare"}, aggregation="median")),
    ("m(a=1,)", full("m", params={"a": 1})),  # trailing comma
    ("tests.plugin_mod:answer_length(scale=2)",
     full("tests.plugin_mod:answer_length", params={"scale": 2})),
    # 4) full object (either id may be omitted; the shorthands' aggregation rule does not apply)
    ({"metric_id": "em_cs", "implementation": "exact_match", "params": {"case_sensitive": True}},
     {"metric_id": "em_cs", "implementation": "exact_match", "params": {"case_sensitive": True}}),
    ({"implementation": "exact_match"}, {"metric_id": "exact_match", "implementation": "exact_match"}),
    ({"metric_id": "latency", "aggregation": "max"},
     {"metric_id": "latency", "implementation": "latency", "aggregation": "max"}),
])
def test_forms_normalize(entry: Any, expected: dict[str, Any]) -> None:
    assert normalize_metric_entry(entry) == expected


@pytest.mark.parametrize("text,message", [
    ("exact_match(case_sensitive)", "not a flat k=v pair"),
    ("m(a=1, a=2)", "given twice"),
    ("m(a=)", "has no value"),
    ("m(a='open)", "unterminated ' quote"),
    ("m(1x=2)", "not a flat k=v pair"),
    ("m(a=1", "not of the form name(k=v, ...)"),
    ("m(a=1))x", "not of the form"),
])
def test_bad_function_shorthand(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        parse_function_shorthand(text) if "(" in text else normalize_metric_entry(text)


def _pipeline(metrics: list[Any]) -> dict[str, Any]:
    return {"datasets": [{"dataset_id": "d", "params": {"path": "x.jsonl"}}],
            "backends": [{"backend_id": "b", "type": "dummy"}],
            "role_adapters": [{"adapter_id": "dut", "role_type": "dut_model", "backend_id": "b"}],
            "metrics": metrics}


@pytest.mark.parametrize("metrics,path,text", [
    (["exact_match", "exact_match(case_sensitive)"], "metrics[1]", "not a flat k=v pair"),
    (["", "latency"], "metrics[0]", "empty metric name"),
    ([{"exact_match": True}], "metrics[0]", "must be a mapping"),
    (["latency(aggregation=meen)"], "metrics[0].aggregation", "did you mean 'mean'"),
    ([{"metric_id": "m", "implementation": "x", "params": {}, "bogus": 1}], "metrics[0].bogus", "unknown field"),
    ([{"params": {}}], "metrics[0].metric_id", "missing required field"),
    ([5], "metrics[0]", "got 5"),
])
def test_bad_metric_entries_name_their_index(metrics: list[Any], path: str, text: str) -> None:
    with pytest.raises(ConfigError) as info:
        config_from_dict(_pipeline(metrics), "m.yaml")
    assert (info.value.file, info.value.path) == ("m.yaml", path)
    assert text in info.value.render()
    assert info.value.fix


def test_shorthand_fix_explains_the_forms() -> None:
    with pytest.raises(ConfigError) as info:
        config_from_dict(_pipeline(["exact_match(case_sensitive)"]), "m.yaml")
    assert "k=v" in info.value.fix and "full form" in info.value.fix


def test_same_metric_in_all_forms_builds_the_same_spec() -> None:
    cfg = config_from_dict(_pipeline(["exact_match(case_sensitive=true)"]))
    kv = config_from_dict(_pipeline([{"exact_match": {"case_sensitive": True}}]))
    obj = config_from_dict(_pipeline([{"metric_id": "exact_match", "implementation": "exact_match",
                                       "params": {"case_sensitive": True}}]))
    assert cfg.metrics == kv.metrics == obj.metrics
    assert cfg.metrics[0].params == {"case_sensitive": True} and cfg.metrics[0].aggregation is None


_scalars = st.one_of(st.integers(-10**6, 10**6), st.booleans(), st.none(),
                     st.floats(allow_nan=False, allow_infinity=False, width=32),
                     st.text(st.characters(codec="ascii", exclude_characters="\\\x00"), max_size=12))


def _render(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


@given(st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(lambda k: k != "aggregation"),
                       _scalars, max_size=5))
def test_function_shorthand_round_trips_flat_params(params: dict[str, Any]) -> None:
    text = "m(" + ", ".join(f"{k}={_render(v)}" for k, v in params.items()) + ")"
    assert parse_function_shorthand(text)["params"] == params
