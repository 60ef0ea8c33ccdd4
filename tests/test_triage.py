"""`gage triage` on a run with injected faults (the test server's HTTP 5xx / 404, replies slower than the client
timeout, unparsable, empty, truncated and wrong answers): every failed sample lands in exactly one group, the
groups add up to summary.json's failures, the printed `gage run ... --only-samples` command reruns exactly the
failed ids into a new run linked to the old one, and `gage view` shows the same grouping (Chromium)."""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import gage_eval
from gage_eval.errors import ConfigError
from gage_eval.engine.selection import load_selection
from gage_eval.report.triage import failure_cause, wrong_cause
from gage_eval.testing.server import TestServerConfig, run_server_in_thread
from tests.browser import chromium_page
from tests.conftest import read_jsonl, write_jsonl
from tests.support_helpers import ok, summary

N = 24
ANSWERS = {"q02": "B", "q04": "I don't know", "q09": "no idea at all", "q06": "",
           "q08": "Let me think about this question carefully before answering with certainty"}
FAILED = {"HTTP 5xx": ["q03", "q11"], "HTTP 404": ["q07"], "timeout": ["q05", "q13"]}
WRONG = {"wrong answer": ["q02"], "unparsed answer": ["q04", "q09"], "empty output": ["q06"],
         "truncated at max tokens": ["q08"]}


def _answer(body: dict[str, Any]) -> str:
    prompt = body["messages"][-1]["content"]
    return next((a for key, a in ANSWERS.items() if key in prompt), "A")


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("triage")
    data = write_jsonl(root / "qa.jsonl", [{"id": f"q{i:02d}", "prompt": f"Question q{i:02d}: pick one",
                                            "choices": ["yes", "no"], "label": "A"} for i in range(N)])
    config = TestServerConfig(script=_answer, fail_prompts={"q03": 500, "q11": 503, "q07": 404},
                              slow_prompts={"q05": 3000, "q13": 3000})
    with run_server_in_thread(config) as server:
        cfg = {"kind": "PipelineConfig", "metadata": {"name": "faulty"},
               "datasets": [{"dataset_id": "qa", "loader": "jsonl", "params": {"path": str(data)}}],
               "backends": [{"backend_id": "srv", "type": "openai_http",
                             "config": {"base_url": server.base_url, "model": "m", "timeout_s": 0.5}}],
               "role_adapters": [{"adapter_id": "dut", "role_type": "dut_model", "backend_id": "srv",
                                  "params": {"generation": {"max_tokens": 8}}}],
               "metrics": ["multi_choice_accuracy"], "execution": {"concurrency": 8}}
        cwd = os.getcwd()
        os.chdir(root)  # the run records where it was started, for the rerun command
        try:
            result = gage_eval.run(cfg, output_dir=root / "runs", run_id="faulty", progress="off", max_attempts=2,
                                   retry_base_delay_s=0.001, max_failure_rate=1.0)
        finally:
            os.chdir(cwd)
        yield root, result, server


def _gage(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gage_eval", *args], cwd=root, capture_output=True, text=True,
                          timeout=120)


def test_triage_groups_every_failed_sample_once_and_reruns_exactly_them(faulty: Any) -> None:
    root, result, server = faulty
    run_dir = root / "runs" / "faulty"
    assert result.summary["failures"]["total"] == 5
    out = ok(_gage(root, "triage", "runs/faulty"))
    assert f"run faulty: completed_with_failures, {N} samples, 5 failed, 5 wrong or unscored" in out
    groups = json.loads((run_dir / "triage" / "triage.json").read_text())["groups"]
    got = {(g["kind"], g["cause"]): g for g in groups}
    lists = {g["slug"]: [r["sample_id"] for r in read_jsonl(run_dir / "triage" / f"{g['slug']}.jsonl")]
             for g in groups}
    for kind, table in (("failed", FAILED), ("wrong", WRONG)):
        for cause, ids in table.items():
            group = got.pop((kind, cause))
            assert group["count"] == len(ids) and sorted(lists[group["slug"]]) == ids, (cause, group)
            assert [e["sample_id"] for e in group["examples"]] == [i for i in lists[group["slug"]][:2]]
            assert f"  {cause}" in out and all(f"{e['task_id']}/{e['sample_id']}:" in out for e in group["examples"])
    assert got == {}  # no other group
    failed_ids = sorted(r["sample_id"] for r in read_jsonl(run_dir / "samples.jsonl") if r["status"] == "failed")
    in_groups = [i for g in groups if g["kind"] == "failed" for i in lists[g["slug"]]]
    assert sorted(in_groups) == failed_ids and len(set(in_groups)) == len(in_groups)  # each exactly once
    assert sum(g["count"] for g in groups if g["kind"] == "failed") == summary(run_dir)["failures"]["total"]
    command = next(line.strip() for line in out.splitlines() if line.strip().startswith("gage run "))
    assert command == ("gage run runs/faulty/config.json --only-samples runs/faulty/triage/failed.jsonl "
                       "--output-dir runs --run-id faulty-rerun")
    server.config.fail_prompts, server.config.slow_prompts = {}, {}  # the fault is fixed; rerun those samples
    argv = shlex.split(command)
    ok(_gage(root, *argv[1:]))
    rerun = root / "runs" / "faulty-rerun"
    records = read_jsonl(rerun / "samples.jsonl")
    assert sorted(r["sample_id"] for r in records) == failed_ids and all(r["status"] == "ok" for r in records)
    selected = summary(rerun)["run"]["only_samples"]
    assert (selected["requested"], selected["found"], selected["missing"]) == (5, 5, [])
    assert Path(selected["rerun_of"]).resolve() == run_dir.resolve()
    assert json.loads((rerun / "run_meta.json").read_text())["rerun_of"] == selected["rerun_of"]


def test_the_view_shows_the_same_grouping(faulty: Any) -> None:
    from tests.test_report_view import _Server

    root, _, _ = faulty
    with _Server(root / "runs") as base, chromium_page() as page:
        page.goto(f"{base}/live/faulty")
        rows = page.locator("#triage-table tbody tr")
        seen = {(rows.nth(i).get_attribute("data-kind"), rows.nth(i).locator("td.cause").inner_text()):
                int(rows.nth(i).locator("td.count").inner_text()) for i in range(rows.count())}
        assert seen == {**{("failed", c): len(i) for c, i in FAILED.items()},
                        **{("wrong", c): len(i) for c, i in WRONG.items()}}
        page.wait_for_selector("body[data-samples-ready='1']")
        page.locator("#triage-table tr[data-cause='timeout'] .sample-link").first.click()
        assert page.locator("#f-search").input_value() == "q05"
        page.wait_for_function("document.querySelectorAll('#sample-table tbody tr').length === 1")
        assert "q05" in page.locator("#sample-table tbody tr").first.inner_text()
        page.goto((root / "runs" / "faulty" / "report.html").as_uri())  # the static report has it too
        assert page.locator("#triage-table tbody tr").count() == len(seen)


def test_causes_of_single_records() -> None:
    assert failure_cause({"step": "judge", "reason": "HTTP 5xx"}) == "judge: HTTP 5xx"
    assert failure_cause({"step": "auto_eval", "type": "RuntimeError", "reason": "RuntimeError",
                          "message": "sample 's1': the code sandbox could not run a program: no python"}) == \
        "sandbox error"
    judged = {"status": "ok", "model_output": {"answer": "x"}, "metrics": {"judge_score": float("nan")},
              "metric_details": {"judge_score": {"unparsed": True}}, "judge_output": {"unparsed": True}}
    assert wrong_cause(judged, None) == "judge unparsed"
    assert wrong_cause({"status": "ok", "model_output": {"answer": "7"}, "metrics": {"judge_score": 7.0}}, None) \
        is None  # a judge score is neither right nor wrong: nothing to triage
    right = {"status": "ok", "model_output": {"answer": "A", "finish_reason": "length"}, "metrics": {"acc": 1.0}}
    assert wrong_cause(right, "acc") is None  # right, even if cut short


def test_sample_lists_are_checked(tmp_path: Path) -> None:
    (tmp_path / "ids.txt").write_text("# failed ones\ns1\n\ns2\n")
    assert load_selection(tmp_path / "ids.txt").by_task == {None: {"s1", "s2"}}
    (tmp_path / "bad.jsonl").write_text('{"task_id": "t"}\n')
    with pytest.raises(ConfigError, match="line 1 is not a JSON object with sample_id"):
        load_selection(tmp_path / "bad.jsonl")
    (tmp_path / "empty.txt").write_text("# nothing\n")
    with pytest.raises(ConfigError, match="the sample list is empty"):
        load_selection(tmp_path / "empty.txt")
    with pytest.raises(ConfigError, match="cannot read the sample list"):
        load_selection(tmp_path / "missing.jsonl")
