"""Proof of `gage support`: public dataset layouts (here MMLU and GSM8K; MT-Bench in
test_support_onboarding_judged.py) as local files go through inspect -> design -> implement --force as real `gage`
processes, with no edit, into project benchmarks that `gage eval` and the generated pipeline score correctly
against the scripted test server (the expected scores are worked out by hand from the script below)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

import gage_eval
from gage_eval.registry import registry
from gage_eval.support.design_doc import read_design
from gage_eval.testing.server import TestServerConfig, run_server_in_thread
from tests.support_helpers import eval_in_project, gage, last_user, make_project, ok, summary

# MMLU fixture, by a phrase of each question: 6 right, 1 wrong letter, 1 unparsable -> acc 6/8.
MC_ANSWERS = {"Find the degree": "Answer: B", "Let p = (1, 2, 5, 4)": "Answer: C", "pituitary gland": "Answer: A",
              "hyoid bone": "Answer: D", "pushing a truck": "I am not sure.", "short-period comets": "Answer: A",
              "longest day": "Answer: B", "The pleura": "Answer: C"}
# GSM8K fixture: strict-match ("#### N") right on 5 of 7; flexible (last number) on 6 of 7.
MATH_ANSWERS = {"Natalia sold clips": "48/2 = 24 in May and 48+24 = 72 in all.\n#### 72",
                "Weng earns": "She earned $10.", "Betty is saving": "She needs 6 more.\n#### 6",
                "James writes": "#### 624", "Albert is wondering": "#### 48", "A robe takes": "#### 3",
                "Josh decides": "The profit is 70,000.\n#### 70,000"}


def _script(table: dict[str, str]) -> Any:
    def answer(body: dict[str, Any]) -> str:
        text = last_user(body)
        if body.get("model") == "judge":
            if "Elon Musk" in text:
                return "I cannot rate this."  # never a verdict: unparsed after the retries, left out of the mean
            return "Fine. Rating: [[8]]" if "[The Start of Reference Answer]" in text else "Rating: [[6]]"
        return next((a for key, a in table.items() if key in text), "An answer.")
    return answer


def _onboard(root: Path, data: Path, slug: str) -> str:
    ok(gage(root, "support", "inspect", str(data.relative_to(root)), "--slug", slug))
    out = ok(gage(root, "support", "design", slug))
    assert "wrote dev_docs" in out
    done = ok(gage(root, "support", "implement", slug, "--force"))
    assert "all 3 checks passed" in done, done
    return done


@pytest.fixture(scope="module")
def server():
    with run_server_in_thread(TestServerConfig(script=_script({**MC_ANSWERS, **MATH_ANSWERS}), verbatim=True)) as srv:
        yield srv


def test_mmlu_layout_becomes_a_benchmark_scored_right(tmp_path: Path, server: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "proj"
    data = make_project(root)
    _onboard(root, data["mc"], "mmlu_mc")
    cfg = read_design(root / "dev_docs" / "mmlu_mc" / "design.md")
    assert (cfg.task_type, cfg.answer_format, cfg.fields.choices, cfg.fields.group) == (
        "multiple_choice", "index", "choices", "subject")
    ok(gage(root, "eval", "--model", "test-model", "--api-url", server.base_url, "--datasets", "mmlu_mc",
            "--output-dir", "runs", "--run-id", "eval", "--progress", "off"))
    s = summary(root / "runs" / "eval")
    assert s["tasks"][0]["metrics"]["acc"]["value"] == pytest.approx(6 / 8)
    assert s["summary_generators"]["unparsed_answers"] == {"mmlu_mc/mc_accuracy": 1}
    breakdown = s["summary_generators"]["metric_breakdown"]
    assert {k: v["acc"]["value"] for k, v in breakdown.items()} == pytest.approx(
        {"abstract_algebra": 1.0, "anatomy": 2 / 3, "astronomy": 2 / 3})
    # The generated PipelineConfig for an OpenAI-compatible server gives the same score.
    pipeline = yaml.safe_load((root / "config" / "mmlu_mc_openai_http.yaml").read_text())
    pipeline["backends"][0]["config"].update(base_url=server.base_url, model="test-model")
    registry.load_project(root)
    monkeypatch.chdir(root)
    route = gage_eval.run(pipeline, output_dir=root / "runs", run_id="route", progress="off")
    assert route.summary["metrics"]["acc"]["value"] == pytest.approx(6 / 8)
    status = ok(gage(root, "support", "status"))
    assert "mmlu_mc" in status and "verified:    ok" in status


def test_gsm8k_layout_becomes_a_benchmark_scored_right(tmp_path: Path, server: Any,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "proj"
    data = make_project(root)
    _onboard(root, data["math"], "gsm_math")
    cfg = read_design(root / "dev_docs" / "gsm_math" / "design.md")
    assert (cfg.task_type, cfg.answer_format) == ("math", "gsm8k")
    metrics = eval_in_project(root, "gsm_math", server.base_url, monkeypatch)["tasks"][0]["metrics"]
    assert metrics["exact_match_strict"]["value"] == pytest.approx(5 / 7)
    assert metrics["exact_match_flexible"]["value"] == pytest.approx(6 / 7)
    records = [json.loads(line) for line in (root / "runs" / "eval" / "samples.jsonl").read_text().splitlines()]
    assert sorted(r["sample"]["label"] for r in records) == sorted(["72", "10", "5", "624", "48", "3", "70000"])
