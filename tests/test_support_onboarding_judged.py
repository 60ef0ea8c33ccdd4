"""Proof of `gage support` on an open-ended judged layout (MT-Bench question.jsonl): inspect -> design ->
implement --force as real `gage` processes, no edit; the judged benchmark scores right against the scripted
test server (dut and judge), and `gage triage` finds the verdict the judge never gave."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gage_eval.support.design_doc import read_design
from gage_eval.testing.server import TestServerConfig, run_server_in_thread
from tests.support_helpers import eval_in_project, gage, make_project, ok
from tests.test_support_onboarding import _onboard, _script


@pytest.fixture(scope="module")
def server():
    with run_server_in_thread(TestServerConfig(script=_script({}), verbatim=True)) as srv:
        yield srv


def test_mtbench_layout_becomes_a_judged_benchmark(tmp_path: Path, server: Any,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "proj"
    data = make_project(root)
    done = _onboard(root, data["judged"], "mt_judged")
    assert "only the first is asked" in done  # flagged for a person: MT-Bench has two turns
    cfg = read_design(root / "dev_docs" / "mt_judged" / "design.md")
    assert (cfg.task_type, cfg.fields.question, cfg.fields.reference, cfg.judge.kind) == (
        "open_ended", "turns.0", "reference.0", "score")
    s = eval_in_project(root, "mt_judged", server.base_url, monkeypatch,
                        judge_model_args={"api_url": server.base_url, "model_id": "judge"})
    # Two records carry a reference (rated 8), five not (6), the Elon Musk one gets no verdict (left out).
    assert s["tasks"][0]["metrics"]["judge_score"]["value"] == pytest.approx((2 * 8 + 5 * 6) / 7)
    assert s["tasks"][0]["metrics"]["judge_score"]["count"] == 7
    assert s["summary_generators"]["unparsed_answers"] == {"mt_judged/judge_score": 1}
    triage = ok(gage(root, "triage", "runs/eval"))
    assert "judge unparsed                    1" in triage and "mt_judged/91: I cannot rate this." in triage
    status = ok(gage(root, "support", "status"))
    assert "designed:    yes (open_ended, 2 to confirm)" in status and "verified:    ok" in status
