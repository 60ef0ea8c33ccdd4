"""`gage support design --model` and `implement --model` against the scripted test server: the model's proposal
is validated before design.md is written, its code is kept only after it compiled, imported and passed the
generated test, and the benchmark it wrote scores the three layouts as the template-made ones do."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from gage_eval.support.design_doc import read_design
from gage_eval.testing.server import TestServerConfig, run_server_in_thread
from tests.support_helpers import eval_in_project, gage, last_user, make_project, ok
from tests.support_model_replies import LAYOUTS
from tests.test_support_onboarding import MATH_ANSWERS, MC_ANSWERS, _script

_SLUG = re.compile(r"(?:Dataset slug: |slug: )(\w+)")


def _model_script(body: dict[str, Any]) -> str:
    text = last_user(body)
    if body.get("model") == "support-llm":
        slug = _SLUG.search(text).group(1)  # type: ignore[union-attr]
        _, design, code = next(v for v in LAYOUTS.values() if v[0] == slug)
        return design if "You are designing" in text else code
    return _script({**MC_ANSWERS, **MATH_ANSWERS})(body)


@pytest.fixture(scope="module")
def server():
    with run_server_in_thread(TestServerConfig(script=_model_script, verbatim=True)) as srv:
        yield srv


@pytest.mark.parametrize("layout", ["mc", "math", "judged"])
def test_model_designs_and_writes_a_benchmark_that_scores_right(tmp_path: Path, server: Any, layout: str,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    slug = LAYOUTS[layout][0]
    root = tmp_path / "proj"
    data = make_project(root)
    model = ["--model", server.base_url, "--model-id", "support-llm"]
    ok(gage(root, "support", "inspect", str(data[layout].relative_to(root)), "--slug", slug))
    out = ok(gage(root, "support", "design", slug, *model))
    assert "proposed by model support-llm" in out
    design = (root / "dev_docs" / slug / "design.md").read_text()
    assert "validated against the inspected schema" in design and design.count("```yaml support_config") == 1
    cfg = read_design(root / "dev_docs" / slug / "design.md")
    assert cfg.dataset.path == str(data[layout].relative_to(root))  # the inspected source, not the model's
    # --no-verify: the model's code already passed the generated test in a scratch copy (the post-write checks are
    # the template route's, proven in test_support_onboarding*.py); the run below shows what it scores.
    done = ok(gage(root, "support", "implement", slug, "--force", "--no-verify", *model))
    assert "code from model support-llm (compiled, imported and passed the generated test)" in done, done
    written = (root / "gage_benchmarks" / slug / "preprocess.py").read_text()
    assert written == LAYOUTS[layout][2].split(" ===\n", 1)[1].rsplit("=== END FILE ===", 1)[0]  # the model's file
    extra = {"judge_model_args": {"api_url": server.base_url, "model_id": "judge"}} if layout == "judged" else {}
    metrics = eval_in_project(root, slug, server.base_url, monkeypatch, **extra)["tasks"][0]["metrics"]
    if layout == "mc":
        assert cfg.prompt.template.startswith("Question: ") and metrics["acc"]["value"] == pytest.approx(6 / 8)
    elif layout == "math":
        assert metrics["exact_match_strict"]["value"] == pytest.approx(5 / 7)
        assert metrics["exact_match_flexible"]["value"] == pytest.approx(6 / 7)
    else:
        assert metrics["judge_score"]["value"] == pytest.approx((2 * 8 + 5 * 6) / 7)
        ids = [json.loads(line)["sample_id"] for line in (root / "runs" / "eval" / "samples.jsonl").open()]
        assert sorted(ids) == sorted(["81", "82", "91", "101", "111", "131", "141", "151"])
