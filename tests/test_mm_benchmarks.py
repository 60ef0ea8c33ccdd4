"""The vision benchmarks as `gage eval` runs them against a vision endpoint (the package's test server): all
four templates in one run with their breakdowns, the images shown in report.html and `gage view` (Chromium),
resize settings through a RunConfig, resume after failed samples, and MathVista's rule extraction."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from gage_eval.benchmarks.mathvista.rules import rule_extraction
from gage_eval.cli.app import main
from gage_eval.testing.server import TestServerConfig, run_server_in_thread

from .browser import chromium_page
from .conftest import read_jsonl
from .mm_fixtures import write_snapshot
from .test_view_live import _Server

BENCHES = ("mmmu", "docvqa", "mathvista", "chartqa")
ROOT = Path(__file__).resolve().parents[1]


def _answer(body: dict[str, Any]) -> str:
    """Right answers for half the fixtures, so scores are neither 0 nor 1."""
    text = " ".join(p.get("text", "") for m in body["messages"] if isinstance(m["content"], list)
                    for p in m["content"] if p.get("type") == "text")
    if "What is the date on page 0" in text:
        return "1/8/93"
    if "value of bar 0" in text:
        return "10"
    if "case 1?" in text:
        return "(B) a dog"
    if "angle 0" in text:
        return "B"
    return "I cannot tell"


def _eval(args: list[str]) -> int:
    with pytest.raises(SystemExit) as done:
        main(["eval", *args, "--progress", "off"])
    return int(done.value.code or 0)


@pytest.fixture(scope="module")
def vision_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    root = tmp_path_factory.mktemp("mm")
    for name in BENCHES:
        write_snapshot(root / "local" / name, name, 4)
    with run_server_in_thread(TestServerConfig(script=_answer, inspect_media=True, verbatim=True)) as server:
        code = _eval(["--model", "vlm", "--api-url", server.base_url, "--datasets", *BENCHES, "--limit", "20",
                      "--dataset-dir", str(root / "local"), "--work-dir", str(root / "runs"), "--run-id", "vision",
                      "--dataset-args", json.dumps({"mmmu": {"subset_list": ["Accounting"]}})])
        seen = list(server.media_log)
    assert code == 0
    return root / "runs" / "vision", seen


def test_the_four_benchmarks_run_like_the_text_ones(vision_run: tuple[Path, list[dict[str, Any]]]) -> None:
    run_dir, seen = vision_run
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["failures"]["total"] == 0 and summary["sample_count"] == 16
    tasks = {t["task_id"]: t["metrics"] for t in summary["tasks"]}
    assert tasks["docvqa"]["anls"]["value"] == 0.25 and tasks["chartqa"]["relaxed_overall"]["value"] == 0.25
    assert tasks["chartqa"]["relaxed_human_split"]["count"] == 2 == tasks["chartqa"]["relaxed_augmented_split"]["count"]
    assert tasks["mathvista"]["mathvista_accuracy"]["value"] >= 0.25
    assert tasks["mmmu"]["mmmu_acc"]["count"] == 4
    gens = summary["summary_generators"]
    assert gens["metric_breakdown:mmmu"]["Accounting"]["mmmu_acc"]["count"] == 4
    assert gens["metric_breakdown:mmmu:discipline"]["Business"]["mmmu_acc"]["count"] == 4
    assert gens["metric_breakdown:mathvista:task"]["geometry problem solving"]["mathvista_accuracy"]["count"] == 4
    assert gens["metric_breakdown:mathvista:skills"]["algebraic reasoning"]["mathvista_accuracy"]["count"] == 4
    rows = read_jsonl(run_dir / "samples.jsonl")
    sent = sum(1 for r in rows for m in r["sample"]["messages"] if isinstance(m["content"], list)
               for p in m["content"] if p["type"] == "image_url")
    assert len(seen) == sent == 4 + 2 + 4 + 4 + 4  # MMMU's multiple-choice questions have two images
    stored = {p.name.split(".")[0] for p in (run_dir / "media").rglob("*.png")}
    assert {s["sha256"] for s in seen} == stored  # what the server decoded is what the run stored


def test_report_and_gage_view_show_the_images(vision_run: tuple[Path, list[dict[str, Any]]]) -> None:
    run_dir, _ = vision_run
    with chromium_page() as page:
        page.goto((run_dir / "report.html").as_uri())
        page.wait_for_selector("body[data-samples-ready='1']")
        page.select_option("#f-task", "mmmu")
        page.click("#sample-table tbody tr >> nth=0")
        page.wait_for_selector("#sample-detail .answer-row img.thumb")
        page.wait_for_function("Array.from(document.querySelectorAll('#sample-detail img.thumb'))"
                               ".every(i => i.complete && i.naturalWidth > 0)")
        thumbs = page.locator("#sample-detail .answer-row img.thumb")
        assert thumbs.count() == 2  # beside the answer: both images of the first MMMU question
        box = thumbs.nth(0).bounding_box()
        assert box and box["height"] <= 96
        thumbs.nth(0).click()
        page.wait_for_selector("#lightbox img")
        assert page.evaluate("document.querySelector('#lightbox img').naturalWidth") == 48
        big = page.locator("#lightbox img").bounding_box()
        assert big and big["width"] > box["width"] * 2  # enlarged
        page.keyboard.press("Escape")
        assert page.locator("#lightbox").count() == 0
    with _Server(run_dir.parent) as base, chromium_page() as page:
        page.goto(f"{base}/live/{run_dir.name}")
        page.wait_for_selector("body[data-samples-ready='1']")
        page.click("#sample-table tbody tr >> nth=0")
        page.wait_for_selector("#sample-detail img.thumb")
        page.wait_for_function("Array.from(document.querySelectorAll('#sample-detail img.thumb'))"
                               ".every(i => i.complete && i.naturalWidth > 0)")
        src = page.locator("#sample-detail img.thumb").first.get_attribute("src")
        assert src and src.startswith(f"/api/live/{run_dir.name}/samples/")
        assert page.request.get(f"{base}/api/live/{run_dir.name}/samples/0/media/99").status == 404


def test_resize_settings_through_a_run_config_reach_the_server(tmp_path: Path) -> None:
    from PIL import Image

    local = write_snapshot(tmp_path / "docvqa", "docvqa", 2)
    run_config = {"kind": "RunConfig", "base_task": "builtin/docvqa", "runtime": {
        "datasets": [{"dataset_id": "docvqa", "params": {"path": str(local)}}],
        "role_adapters": [{"adapter_id": "media", "params": {"max_side": 24}}]}}
    with run_server_in_thread(TestServerConfig(echo_media=True)) as server:
        run_config["runtime"]["backends"] = [{"backend_id": "model", "type": "openai_http",
                                              "config": {"base_url": server.base_url, "model": "vlm"}}]
        path = tmp_path / "run.yaml"
        path.write_text(yaml.safe_dump(run_config))
        with pytest.raises(SystemExit) as done:
            main(["run", str(path), "--output-dir", str(tmp_path / "runs"), "--run-id", "r", "--progress", "off"])
        seen = list(server.media_log)
    assert done.value.code in (0, None)
    assert {(s["width"], s["height"]) for s in seen} == {(24, 16)}
    row = read_jsonl(tmp_path / "runs" / "r" / "samples.jsonl")[0]
    media = row["sample"]["messages"][0]["content"][0]["media"]
    assert (media["original_width"], media["original_height"], media["width"]) == (48, 32, 24)
    with Image.open(tmp_path / "runs" / "r" / media["file"]) as image:
        assert image.size == (24, 16)


def test_failed_samples_are_redone_on_resume_and_nothing_twice(tmp_path: Path) -> None:
    local = write_snapshot(tmp_path / "chartqa", "chartqa", 4)
    args = ["--datasets", "chartqa", "--dataset-args", json.dumps({"chartqa": {"local_path": str(local)}}),
            "--work-dir", str(tmp_path / "runs"), "--run-id", "resume", "--model", "vlm"]
    with run_server_in_thread(TestServerConfig(fail_prompts={"bar 2": 400}, echo_media=True)) as server:
        assert _eval(["--api-url", server.base_url, *args]) == 3  # one of four failed: over the default rate
        port = int(server.base_url.rsplit(":", 1)[1].split("/")[0])
    with run_server_in_thread(TestServerConfig(echo_media=True, port=port)) as server:  # same URL, same config
        assert _eval(["--api-url", server.base_url, *args]) == 0
        redone = len(server.media_log)
    rows = read_jsonl(tmp_path / "runs" / "resume" / "samples.jsonl")
    assert redone == 1 and len(rows) == 4 and all(r["status"] == "ok" for r in rows)
    answers = {r["sample_id"]: r["model_output"]["answer"] for r in rows}
    digests = {r["sample_id"]: r["sample"]["messages"][0]["content"][0]["media"]["sha256"] for r in rows}
    assert all(answers[k] == f"media: {digests[k]}" for k in answers)


@pytest.mark.parametrize("name", ["docvqa_qwen_vl", "mathvista_vllm_async_chat"])
def test_shipped_vision_run_configs_run_on_the_test_server(tmp_path: Path, name: str) -> None:
    config = yaml.safe_load((ROOT / "config" / "run_configs" / f"{name}.yaml").read_text())
    bench = config["base_task"].split("/", 1)[1]
    local = write_snapshot(tmp_path / bench, bench, 2)
    config["runtime"]["datasets"] = [{"dataset_id": bench, "params": {"path": str(local)}}]
    with run_server_in_thread(TestServerConfig(echo_media=True)) as server:
        config["runtime"]["backends"][0]["config"]["base_url"] = server.base_url
        path = tmp_path / "run.yaml"
        path.write_text(yaml.safe_dump(config))
        with pytest.raises(SystemExit) as done:
            main(["run", str(path), "--output-dir", str(tmp_path / "runs"), "--run-id", name, "--progress", "off"])
        seen = list(server.media_log)
    assert done.value.code in (0, None)
    rows = read_jsonl(tmp_path / "runs" / name / "samples.jsonl")
    assert len(rows) == 2 and all(r["status"] == "ok" for r in rows)
    media = config["runtime"]["backends"][0]["config"].get("media", "data_url")
    assert {s["transport"] for s in seen} == {media}


@pytest.mark.parametrize(("response", "problem", "expected"), [
    ("(B) 45", {"question_type": "multi_choice", "choices": ["30", "45"]}, ("B", "rule")),
    ("The answer is C.", {"question_type": "multi_choice", "choices": ["a", "b", "c"]}, ("C", "rule")),
    ("I think it is forty-five, so 45", {"question_type": "multi_choice", "choices": ["30", "45"]}, ("45", "rule")),
    ("A cat sits there", {"question_type": "multi_choice", "choices": ["dog", "cat"]}, ("cat", "rule")),
    ("45", {"question_type": "multi_choice", "choices": ["30", "45"]}, ("45", "direct")),
    ("The total is 1,234 people.", {"answer_type": "integer"}, ("1234", "rule")),
    ("答案是 12", {"answer_type": "integer"}, ("12", "rule")),
    ("x = 3, y = 4, so the answer is 7", {"answer_type": "integer"}, ("7", "rule")),
    ("\\boxed{2.5} cm", {"answer_type": "float"}, ("2.5", "rule")),
    ("2.50", {"answer_type": "float"}, ("2.5", "direct")),
    ("between [2007, 2008] years", {"answer_type": "list"}, ("[2007, 2008]", "rule")),
    ("no idea", {"answer_type": "integer"}, ("no idea", "none")),
    ("", {"answer_type": "integer"}, ("", "none")),
    ('The answer is "12".', {"answer_type": "integer"}, ("12", "direct")),
])
def test_mathvista_rule_extraction(response: str, problem: dict[str, Any], expected: tuple[str, str]) -> None:
    full = {"question_type": "free_form", "answer_type": "text", "choices": [], **problem}
    assert rule_extraction(response, full) == expected
