"""SWE-bench lane on synthetic instances (tests/swebench_fixtures.py): repository context, patch extraction,
the local runner through `gage run`, agreement with the swebench package's grading, resume, bad input."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Any

import pytest

from gage_eval.benchmarks.swebench.grading import grade, parse_pytest_log
from gage_eval.benchmarks.swebench.patch import extract_patch
from gage_eval.cli.app import main

from .swebench_fixtures import build, write_jsonl


@pytest.fixture(scope="module")
def instances(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[dict[str, Any]], dict[str, str]]:
    root = tmp_path_factory.mktemp("swe")
    mirror, records, breaking = build(root)
    return mirror, write_jsonl(root / "instances.jsonl", records), records, breaking


def fenced(patch: str) -> str:
    return f"Here is the fix.\n```diff\n{patch}```\nIt changes one line."


ANSWERS: dict[str, str] = {}  # issue text -> the scripted model's answer; tests set it before each run


@pytest.fixture(scope="module")
def url() -> Any:
    from gage_eval.testing.server import TestServerConfig, run_server_in_thread

    with run_server_in_thread(TestServerConfig(script=ANSWERS, verbatim=True)) as server:
        yield server.base_url


def script(records: list[dict[str, Any]], answers: list[str]) -> None:
    ANSWERS.clear()
    ANSWERS.update({r["problem_statement"]: a for r, a in zip(records, answers)})


def eval_argv(data: Path, mirror: Path, url: str, out: Path, run_id: str, **judge: Any) -> list[str]:
    """The README's command: `gage eval --model URL --datasets swebench_lite` with a local copy, the local runner."""
    args = {"swebench_lite": {"local_path": str(data), "adapter_params": {
        "context": {"implementation_params": {"repo_mirror": str(mirror)}},
        "judge": {"implementation": "swebench_local",
                  "implementation_params": {"repo_mirror": str(mirror), "timeout_s": 120, **judge}}}}}
    return ["eval", "--model", "served", "--api-url", url, "--datasets", "swebench_lite", "--dataset-args",
            json.dumps(args), "--eval-batch-size", "1", "--work-dir", str(out), "--run-id", run_id,
            "--progress", "off"]


def run(argv: list[str], out: Path, run_id: str, code: int = 0) -> dict[str, Any]:
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == code
    return json.loads((out / run_id / "summary.json").read_text())


def records_of(run_dir: Path) -> dict[str, dict[str, Any]]:
    rows = [json.loads(x) for x in (run_dir / "samples.jsonl").read_text().splitlines()]
    return {r["sample_id"]: r for r in rows}


def swebench_official(log: str, f2p: list[str], p2p: list[str]) -> str:
    from swebench.harness.grading import get_eval_tests_report, get_resolution_status
    from swebench.harness.log_parsers.python import parse_log_pytest

    status = parse_log_pytest(log, None)
    return get_resolution_status(get_eval_tests_report(status, {"FAIL_TO_PASS": f2p, "PASS_TO_PASS": p2p}))


def test_gold_empty_breaking_and_unappliable_patches_through_gage_eval(tmp_path: Path, instances: Any,
                                                                      url: str) -> None:
    mirror, data, records, breaking = instances
    ids = [r["instance_id"] for r in records]
    script(records, [fenced(r["patch"]) for r in records])
    out = tmp_path / "runs"
    summary = run(eval_argv(data, mirror, url, out, "gold"), out, "gold")
    assert summary["metrics"]["swebench_resolved"]["value"] == 1.0
    report = summary["summary_generators"]["swebench_report"]
    assert report["resolved"] == 3 and report["reasons"] == {"resolved": 3}
    assert set(report["per_repo"]) == {"acme/calc", "acme/strutil", "acme/mathx"}
    predictions = [json.loads(x) for x in (out / "gold" / "predictions.jsonl").read_text().splitlines()]
    assert [p["instance_id"] for p in predictions] == sorted(ids)
    assert {p["instance_id"]: p["model_patch"] for p in predictions} == {r["instance_id"]: r["patch"] for r in records}
    for iid in ids:
        logs = out / "gold" / "logs" / "swebench" / iid
        assert {"patch.diff", "test_output.txt", "report.json"} <= {p.name for p in logs.iterdir()}

    wrong = ["I am not sure how to fix this.", fenced(breaking[ids[1]]),
             fenced(records[0]["patch"])]  # instance 3 gets instance 1's patch: it cannot apply
    script(records, wrong)
    summary = run(eval_argv(data, mirror, url, out, "wrong"), out, "wrong")
    recs = records_of(out / "wrong")
    reasons = {iid: recs[iid]["judge_output"]["reason"] for iid in ids}
    assert reasons == {ids[0]: "empty_patch", ids[1]: "tests_failed", ids[2]: "patch_apply_failed"}
    assert summary["metrics"]["swebench_resolved"]["value"] == 0.0
    broken = recs[ids[1]]["judge_output"]["tests"]
    assert broken["FAIL_TO_PASS"]["success"] == ["tests/test_core.py::test_whisper"]
    assert broken["PASS_TO_PASS"]["failure"] == ["tests/test_core.py::test_shout"]

    # The resolved decision equals the swebench package's grading fed the same test logs.
    for run_id in ("gold", "wrong"):
        for iid, rec in records_of(out / run_id).items():
            log_file = out / run_id / "logs" / "swebench" / iid / "test_output.txt"
            if not log_file.exists() or rec["judge_output"]["reason"] not in ("resolved", "tests_failed"):
                continue
            inst = rec["sample"]["metadata"]["instance"]
            official = swebench_official(log_file.read_text(), inst["FAIL_TO_PASS"], inst["PASS_TO_PASS"])
            assert official == rec["judge_output"]["status"], (run_id, iid)


def test_grading_agrees_with_swebench_on_crafted_logs() -> None:
    f2p, p2p = ["t.py::a", "t.py::b[x-1]"], ["t.py::c", "t.py::d"]
    lines = {"PASSED": "PASSED {}", "FAILED": "FAILED {} - assert 0", "SKIPPED": "SKIPPED {}", "ERROR": "ERROR {}",
             "XFAIL": "XFAIL {}", "missing": None}
    import itertools

    checked = 0
    for a, b, c, d in itertools.product(lines, repeat=4):
        log = "\n".join(lines[s].format(t) for s, t in zip((a, b, c, d), ("t.py::a", "t.py::b[x-1]", "t.py::c",
                                                                            "t.py::d")) if lines[s])
        log += "\nSKIPPED [2] t.py:9: unconditional skip\n"
        ours = grade(parse_pytest_log(log), f2p, p2p).status
        assert ours == swebench_official(log, f2p, p2p), log
        checked += 1
    assert checked == 6 ** 4


@pytest.mark.parametrize("answer,expected", [
    ("```diff\n--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n```", "--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n"),
    ("<patch>\r\n--- a/x.py\r\n+++ b/x.py\r\n@@ -1 +1 @@\r\n-a\r\n+b</patch>", "--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n"),
    ("Sure:\ndiff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b", "diff --git a/x.py b/x.py\n"
     "--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n"),
    ("```python\nprint('no diff')\n```", ""),
    ("just prose", ""),
])
def test_patch_extraction_and_normalisation(answer: str, expected: str) -> None:
    assert extract_patch(answer) == expected


def test_oracle_and_bm25_contexts_within_the_token_budget(tmp_path: Path, instances: Any) -> None:
    import asyncio

    from gage_eval.benchmarks.swebench.context import SWEBenchRepoContext
    from gage_eval.benchmarks.swebench.preprocess import SWEBenchPreprocessor

    mirror, _, records, _ = instances
    pre = SWEBenchPreprocessor("swe")

    def provide(retrieval: str, budget: int | None) -> tuple[dict[str, Any], str]:
        sample = pre.transform(records[0], 0)
        ctx = SWEBenchRepoContext(retrieval=retrieval, max_context_tokens=budget, repo_mirror=str(mirror),
                                  cache_dir=str(tmp_path / "cache"))
        out = asyncio.run(ctx.aprovide({"sample": sample}))
        prompt = sample.messages[0].text()
        assert "[start of README.md]" in prompt and "<issue>" in prompt
        assert "CHANGES" not in prompt  # the tree at the base commit, not the mirror's later history
        return out, prompt

    oracle, prompt = provide("oracle", None)
    assert oracle["files"] == ["calc/__init__.py"] and "1 def add(a, b):" in prompt
    full, _ = provide("bm25", None)
    # every non-test python file sharing a word with the issue, the buggy one first; tests never retrieved
    assert full["files"] == ["calc/__init__.py", "calc/format.py"]
    cut, _ = provide("bm25", full["prompt_tokens"])  # one token short of both: the lower-ranked file is left out
    assert cut["files"] == ["calc/__init__.py"] and cut["prompt_tokens"] < full["prompt_tokens"]
    none, _ = provide("none", None)
    assert none["files"] == []


def test_prompt_is_swebench_style_3(monkeypatch: pytest.MonkeyPatch) -> None:
    # swebench's create_instance imports its tokenizer table, which downloads tiktoken's encoding at import time
    # (no network here): that one module is replaced; prompt_style_3 itself is the package's.
    stub = types.ModuleType("swebench.inference.make_datasets.tokenize_dataset")
    stub.TOKENIZER_FUNCS = {}  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, stub.__name__, stub)
    from swebench.inference.make_datasets.create_instance import prompt_style_3 as official

    from gage_eval.benchmarks.swebench.prompts import prompt_style_3

    inst = {"problem_statement": "Bug: x\nsecond line", "readmes": {"README.md": "# hi\n"},
            "file_contents": {"b.py": "def f():\n    return 1\n", "a/c.py": "x = 1"}}
    assert prompt_style_3(inst) == official(inst)


def test_bad_input_is_recorded_per_instance(tmp_path: Path, instances: Any, url: str) -> None:
    mirror, _, records, _ = instances
    lost = dict(records[0], instance_id="nowhere__repo-9", repo="nowhere/repo")
    slow = dict(records[2], instance_id=records[2]["instance_id"] + "-slow")
    slow["test_patch"] = records[2]["test_patch"].replace("+def test_mean():", "+def test_mean():\n+    import time; "
                                                                              "time.sleep(30)")
    data = write_jsonl(tmp_path / "bad.jsonl", [lost, slow])
    script([slow], [fenced(records[2]["patch"])])
    with pytest.raises(SystemExit) as done:
        main(eval_argv(data, mirror, url, tmp_path / "runs", "bad", timeout_s=3) + ["--max-failure-rate", "1"])
    recs = records_of(tmp_path / "runs" / "bad")
    assert recs[lost["instance_id"]]["status"] == "failed"
    assert "nowhere/repo not found" in json.dumps(recs[lost["instance_id"]]["error"])
    assert recs[slow["instance_id"]]["judge_output"]["reason"] == "timeout"
    assert done.value.code == 0  # within --max-failure-rate: the run went on past the failed instance
    summary = json.loads((tmp_path / "runs" / "bad" / "summary.json").read_text())
    assert summary["run"]["status"] == "completed_with_failures"


def test_judge_predictions_made_elsewhere(tmp_path: Path, instances: Any, capsys: pytest.CaptureFixture[str]) -> None:
    mirror, data, records, _ = instances
    preds = write_jsonl(tmp_path / "predictions.jsonl", [
        {"instance_id": records[0]["instance_id"], "model_name_or_path": "m", "model_patch": records[0]["patch"]},
        {"instance_id": records[1]["instance_id"], "model_name_or_path": "m", "model_patch": ""}])
    with pytest.raises(SystemExit) as done:
        main(["swebench", "judge", str(preds), "--local-path", str(data), "--runner", "local", "--repo-mirror",
              str(mirror), "--output-dir", str(tmp_path / "runs"), "--run-id", "judged"])
    assert done.value.code == 0
    assert "resolved 1/2" in capsys.readouterr().out
    recs = records_of(tmp_path / "runs" / "judged")
    assert {k: v["judge_output"]["reason"] for k, v in recs.items()} == {records[0]["instance_id"]: "resolved",
                                                                          records[1]["instance_id"]: "empty_patch"}


def test_docker_judge_without_a_daemon_fails_before_any_sample(tmp_path: Path, instances: Any,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    try:
        import docker

        docker.from_env().ping()
        pytest.skip("a Docker daemon is reachable here: this test is about its absence")
    except Exception:  # noqa: BLE001
        pass
    mirror, data, records, _ = instances
    preds = write_jsonl(tmp_path / "p.jsonl", [{"instance_id": records[0]["instance_id"], "model_patch": "x"}])
    with pytest.raises(SystemExit) as done:
        main(["swebench", "judge", str(preds), "--local-path", str(data), "--runner", "docker",
              "--output-dir", str(tmp_path / "runs"), "--run-id", "d"])
    err = capsys.readouterr().err
    assert done.value.code == 2 and "no Docker daemon is reachable" in err and "swebench_local" in err


@pytest.mark.skipif(os.environ.get("DOCKER_HOST") is None and not Path("/var/run/docker.sock").exists(),
                    reason="no Docker daemon here (no /var/run/docker.sock, no DOCKER_HOST): the official harness "
                           "on a real SWE-bench Lite image cannot run")
def test_docker_harness_on_a_real_instance() -> None:  # pragma: no cover - needs Docker and the hub
    pytest.skip("needs a SWE-bench Lite record with its image; run benchmarks/ scripts on a Docker host")


def test_sigkill_during_judging_then_resume(tmp_path: Path, instances: Any, url: str) -> None:
    mirror, data, records, _ = instances
    script(records, [fenced(r["patch"]) for r in records])
    out = tmp_path / "runs"
    argv = eval_argv(data, mirror, url, out, "k")
    cmd = [sys.executable, "-m", "gage_eval", *argv]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    samples = out / "k" / "samples.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (samples.exists() and samples.read_text().count("\n") >= 1):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = {json.loads(x)["sample_id"] for x in samples.read_text().splitlines() if x.strip()}
    assert 1 <= len(done_before) < 3
    first = next(iter(done_before))
    report = out / "k" / "logs" / "swebench" / first / "report.json"
    stamp = report.stat().st_mtime_ns
    summary = run(argv, out, "k")
    assert report.stat().st_mtime_ns == stamp  # a finished instance is not judged again
    assert summary["metrics"]["swebench_resolved"]["value"] == 1.0 and summary["tasks"][0]["sample_count"] == 3


@pytest.mark.parametrize("name", ["swebench_lite", "swebench_verified", "swebench_pro", "swebench_lite_agent"])
@pytest.mark.parametrize("layout", ["jsonl", "parquet", "save_to_disk"])
def test_local_copy_layouts_in_the_readme_load(tmp_path: Path, instances: Any, name: str, layout: str) -> None:
    import datasets

    from gage_eval.config.models import DatasetSpec
    from gage_eval.config.templates import find_template, load_template
    from gage_eval.datasets import iter_samples

    readme = (Path(__file__).resolve().parents[1] / "src" / "gage_eval" / "benchmarks" / name / "README.md").read_text()
    assert "**Local copy**" in readme and f"`{layout}`" in readme
    _, _, records, _ = instances
    target = {"jsonl": tmp_path / "test.jsonl", "parquet": tmp_path / "test-00000-of-00001.parquet",
              "save_to_disk": tmp_path / "saved"}[layout]
    if layout == "jsonl":
        write_jsonl(target, records)
    elif layout == "parquet":
        datasets.Dataset.from_list(records).to_parquet(str(target))
    else:
        datasets.Dataset.from_list(records).save_to_disk(str(target))
    dataset = load_template(find_template(name)).definition["datasets"][0]
    spec = DatasetSpec(**{**dataset, "params": {**dataset["params"], "path": str(target),
                                                "preprocess_kwargs": {"instance_regex": "calc|mathx"}}})
    samples = list(iter_samples(spec, max_samples=1))
    assert [s.id for s in samples] == [records[0]["instance_id"]]  # selection first, then the limit
    assert samples[0].metadata["instance"]["FAIL_TO_PASS"] == ["tests/test_calc.py::test_add"]


def test_adapter_params_naming_no_adapter_is_refused(tmp_path: Path, instances: Any,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    mirror, data, _, _ = instances
    args = {"swebench_lite": {"local_path": str(data), "adapter_params": {"jduge": {"implementation": "x"}}}}
    with pytest.raises(SystemExit) as done:
        main(["eval", "--model", "dummy", "--datasets", "swebench_lite", "--dataset-args", json.dumps(args),
              "--work-dir", str(tmp_path), "--run-id", "x"])
    err = capsys.readouterr().err
    assert done.value.code == 2
    assert "dataset_args.swebench_lite.adapter_params.jduge" in err and "judge" in err
