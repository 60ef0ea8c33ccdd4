"""LLM-as-judge against the bundled OpenAI-compatible server playing scripted judges over real HTTP."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import gage_eval
from gage_eval.judges.verdicts import parse_binary, parse_pairwise, parse_score
from gage_eval.testing.server import OpenAITestServer, TestServerConfig

from .conftest import read_jsonl, write_jsonl

_ANSWER_A = re.compile(r"\[The Start of Assistant A's Answer\]\n(.*?)\n\[The End", re.S)


def test_verdict_parsers_are_strict() -> None:
    assert parse_pairwise("... so [[A]]") == "A"
    assert parse_pairwise("[[ c ]]") == "tie"
    assert parse_pairwise("[[C]]", allow_tie=False) is None
    assert parse_pairwise("Either [[A]] or [[B]]") is None  # contradictory: not a decision
    assert parse_pairwise("A is better") is None
    assert parse_binary("[[CORRECT]]") == 1.0 and parse_binary("[[no]]") == 0.0
    assert parse_binary("[[CORRECT]] ... [[INCORRECT]]") is None
    pattern = re.compile(r"Rating:\s*\[\[\s*(-?\d+(?:\.\d+)?)\s*\]\]")
    assert parse_score("format is Rating: [[5]] ... Rating: [[8]]", pattern, 1, 10) == 8.0
    assert parse_score("Rating: [[11]]", pattern, 1, 10) is None


def _pairs(tmp_path: Path, n: int = 12) -> Path:
    records = [{"id": f"p{i}",
                "inputs": {"prompt": f"question {i}", "answer_a": f"good answer {i}" if i % 2 else f"weak answer {i}",
                           "answer_b": f"weak answer {i}" if i % 2 else f"good answer {i}",
                           "model_a": "alpha", "model_b": "beta"}} for i in range(n)]
    return write_jsonl(tmp_path / "pairs.jsonl", records)


def _judge_pipeline(data: Path, url: str, **judge_params: Any) -> dict[str, Any]:
    return {
        "kind": "PipelineConfig", "metadata": {"name": "pairwise"},
        "custom": {"steps": [{"step": "judge", "adapter_id": "judge"}, {"step": "auto_eval"}]},
        "datasets": [{"dataset_id": "pairs", "loader": "jsonl", "params": {"path": str(data)}}],
        "backends": [{"backend_id": "judge_llm", "type": "openai_http",
                      "config": {"base_url": url, "model": "judge", "timeout_s": 10}}],
        "role_adapters": [{"adapter_id": "judge", "role_type": "pairwise_judge", "backend_id": "judge_llm",
                           "params": judge_params}],
        "metrics": ["pairwise_win"],
    }


def _last_user(body: dict[str, Any]) -> str:
    return body["messages"][-1]["content"]


async def test_position_biased_judge_yields_ties_and_full_inconsistency(tmp_path: Path) -> None:
    cfg = TestServerConfig(script=lambda body: "Assistant A is clearly better. [[A]]")
    async with OpenAITestServer(cfg) as server:
        result = await gage_eval.arun(_judge_pipeline(_pairs(tmp_path), server.base_url),
                                      output_dir=tmp_path / "runs", run_id="biased", progress="off")
    metrics = result.summary["metrics"]
    assert metrics["pairwise_win"]["value"] == 0.5  # every pair became a tie
    assert metrics["pairwise_win_inconsistent"]["value"] == 1.0
    assert metrics["pairwise_win_ties"]["value"] == 1.0
    rows = read_jsonl(result.run_dir / "samples.jsonl")
    verdicts = rows[0]["judge_output"]["verdicts"]
    assert [v["order"] for v in verdicts] == ["AB", "BA"] and [v["verdict"] for v in verdicts] == ["A", "B"]
    usage = result.summary["summary_generators"]["judge_usage"]
    assert usage["calls"] == 12 and usage["attempts"] == 24 and usage["tokens"]["prompt_tokens"] > 0


async def test_content_judge_is_consistent_and_picks_the_good_answer(tmp_path: Path) -> None:
    def judge(body: dict[str, Any]) -> str:
        a = _ANSWER_A.search(_last_user(body)).group(1)  # type: ignore[union-attr]
        return "[[A]]" if a.startswith("good") else "[[B]]"

    async with OpenAITestServer(TestServerConfig(script=judge)) as server:
        result = await gage_eval.arun(_judge_pipeline(_pairs(tmp_path), server.base_url),
                                      output_dir=tmp_path / "runs", run_id="fair", progress="off")
    metrics = result.summary["metrics"]
    assert metrics["pairwise_win"]["value"] == 0.5  # beta wins the even half, alpha the odd half
    assert metrics["pairwise_win_inconsistent"]["value"] == 0.0
    winners = {r["sample_id"] if "sample_id" in r else r["sample"]["id"]: r["judge_output"]["winner"]
               for r in read_jsonl(result.run_dir / "samples.jsonl")}
    assert winners["p1"] == "model_a" and winners["p2"] == "model_b"


async def test_useless_judge_is_retried_then_reported_unparsed_not_scored(tmp_path: Path) -> None:
    server_cfg = TestServerConfig(script=lambda body: "I cannot decide.")
    async with OpenAITestServer(server_cfg) as server:
        result = await gage_eval.arun(_judge_pipeline(_pairs(tmp_path, 4), server.base_url, parse_retries=1),
                                      output_dir=tmp_path / "runs", run_id="useless", progress="off")
        requests = server.requests
    summary = result.summary
    assert summary["metrics"]["pairwise_win"]["count"] == 0  # nothing counted as a loss or a tie
    assert summary["summary_generators"]["unparsed_answers"] == {"pairwise/pairwise_win": 4}
    assert summary["summary_generators"]["judge_usage"]["unparsed"] == 4
    # first order: 1 try + 1 retry; the swapped order is asked too (its own 2 attempts)
    assert requests == 4 * 4
    row = read_jsonl(result.run_dir / "samples.jsonl")[0]
    assert row["judge_output"]["unparsed"] is True and row["judge_output"]["judge_raw"] == "I cannot decide."


async def test_binary_judges_for_truthfulness_keep_both_costs(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "tqa.jsonl", [
        {"id": f"t{i}", "label": "true answer",
         "inputs": {"prompt": f"Q{i}?", "answer": "a myth" if i % 2 else "a fact"}} for i in range(6)])

    def judge(body: dict[str, Any]) -> str:
        text = _last_user(body)
        if "TRUTHFUL" in text:
            return "[[NO]]" if "a myth" in text else "[[YES]]"
        return "[[YES]]"

    cfg = {
        "kind": "PipelineConfig", "metadata": {"name": "tqa"},
        "custom": {"steps": [{"step": "judge", "adapter_id": "truthful"}, {"step": "judge", "adapter_id": "info"},
                             {"step": "auto_eval"}]},
        "datasets": [{"dataset_id": "tqa", "loader": "jsonl", "params": {"path": str(data)}}],
        "prompts": [{"prompt_id": "truthful", "implementation": "judge_truthful"},
                    {"prompt_id": "info", "implementation": "judge_informative"}],
        "role_adapters": [
            {"adapter_id": "truthful", "role_type": "binary_judge", "backend_id": "j", "prompt_id": "truthful",
             "params": {"output_key": "truthful", "fields": {"answer": "sample.inputs.answer"}}},
            {"adapter_id": "info", "role_type": "binary_judge", "backend_id": "j", "prompt_id": "info",
             "params": {"output_key": "informative", "fields": {"answer": "sample.inputs.answer"}}}],
        "metrics": [{"metric_id": "truthful", "implementation": "judge_verdict", "params": {"field": "truthful"}},
                    {"metric_id": "informative", "implementation": "judge_verdict",
                     "params": {"field": "informative"}}],
    }
    async with OpenAITestServer(TestServerConfig(script=judge)) as server:
        cfg["backends"] = [{"backend_id": "j", "type": "openai_http",
                            "config": {"base_url": server.base_url, "model": "judge"}}]
        result = await gage_eval.arun(cfg, output_dir=tmp_path / "runs", run_id="tqa", progress="off")
    assert result.summary["metrics"]["truthful"]["value"] == 0.5
    assert result.summary["metrics"]["informative"]["value"] == 1.0
    assert result.summary["summary_generators"]["judge_usage"]["calls"] == 12


@pytest.mark.parametrize("cached", [True])
async def test_judge_rerun_with_cache_costs_nothing(tmp_path: Path, cached: bool) -> None:
    async with OpenAITestServer(TestServerConfig(script=lambda b: "[[B]]")) as server:
        cfg = _judge_pipeline(_pairs(tmp_path, 5), server.base_url)
        await gage_eval.arun(cfg, output_dir=tmp_path / "runs", run_id="c1", progress="off", use_cache=cached)
        first = server.requests
        await gage_eval.arun(cfg, output_dir=tmp_path / "runs", run_id="c2", progress="off", use_cache=cached)
        assert server.requests == first == 10


async def test_score_judge_takes_the_last_rating_within_the_scale(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "qa.jsonl", [{"id": "a", "inputs": {"prompt": "2+2?", "answer": "4"}}])
    replies = iter(["The format is Rating: [[5]]. My verdict: Rating: [[9]]", "Rating: [[12]]", "Rating: [[7]]"])
    async with OpenAITestServer(TestServerConfig(script=lambda body: next(replies))) as server:
        cfg = {"kind": "PipelineConfig", "custom": {"steps": [{"step": "judge", "adapter_id": "j"},
                                                              {"step": "auto_eval"}]},
               "datasets": [{"dataset_id": "qa", "loader": "jsonl", "params": {"path": str(data)}}],
               "backends": [{"backend_id": "b", "type": "openai_http",
                             "config": {"base_url": server.base_url, "model": "j"}}],
               "role_adapters": [{"adapter_id": "j", "role_type": "judge_model", "backend_id": "b",
                                  "params": {"fields": {"answer": "sample.inputs.answer"}}}],
               "metrics": ["judge_score"]}
        first = await gage_eval.arun(cfg, output_dir=tmp_path / "runs", run_id="one", progress="off")
        assert first.summary["metrics"]["judge_score"]["value"] == 9.0
        # out of scale (12) is not a verdict: asked again, 7 is taken
        second = await gage_eval.arun(cfg, output_dir=tmp_path / "runs", run_id="two", progress="off")
    assert second.summary["metrics"]["judge_score"]["value"] == 7.0
    row = read_jsonl(second.run_dir / "samples.jsonl")[0]
    assert row["judge_output"]["judge_attempts"] == 2


def test_judge_question_defaults_to_the_evaluated_question_not_the_few_shot_prompt() -> None:
    """A few-shot chat prompt's earlier user turns are worked examples: a judge given no `question` field sees
    only the last user turn (the question the answer replies to), never the glued prompt."""
    from gage_eval.sample import Sample

    sample = Sample.model_validate({"id": "s1", "messages": [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "What is 1+1?"}, {"role": "assistant", "content": "2"},
        {"role": "user", "content": "What is the capital of France?"}]})
    sample.inputs["prompt"] = "\n".join(["Answer briefly.", "What is 1+1?", "What is the capital of France?"])
    assert sample.evaluated_question() == "What is the capital of France?"
    sample.inputs["prompt"] = "Q: What is the capital of France?\nA:"  # the dataset's own prompt wins
    assert sample.evaluated_question() == "Q: What is the capital of France?\nA:"
