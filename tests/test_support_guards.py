"""Guard rails of `gage support implement` (and design --model): writing outside the project, a dirty git tree,
overwriting files support did not write, malformed file blocks, code that does not compile or does not pass the
generated test, and an invalid model proposal — each refused with a clear message, nothing written."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gage_eval.errors import ConfigError
from gage_eval.support.commands import argv_of
from gage_eval.support.design import design
from gage_eval.support.design_doc import read_design
from gage_eval.support.file_blocks import parse_file_blocks
from gage_eval.support.implement import implement
from gage_eval.support.inspection import inspect_dataset
from gage_eval.support.llm import ModelSpec, SupportModel
from gage_eval.support.project import Project
from gage_eval.testing.server import TestServerConfig, run_server_in_thread
from tests.support_helpers import commit_all, gage, make_project, snapshot
from tests.support_model_replies import MC_CODE, MC_DESIGN

PRE = "gage_benchmarks/mmlu_mc/preprocess.py"
REPLIES: dict[str, str] = {}


@pytest.fixture(scope="module")
def server():
    def script(body: dict[str, Any]) -> str:
        text = body["messages"][-1]["content"]
        REPLIES["asked"] = REPLIES.get("asked", "") + ("D" if "You are designing" in text else "I")
        return REPLIES["design"] if "You are designing" in text else REPLIES["implement"]

    with run_server_in_thread(TestServerConfig(script=script, verbatim=True)) as srv:
        yield srv


@pytest.fixture
def project(tmp_path: Path) -> Project:
    root = tmp_path / "proj"
    data = make_project(root)
    proj = Project.at(root)
    inspect_dataset(proj, str(data["mc"]), slug="mmlu_mc")
    design(proj, "mmlu_mc")
    commit_all(root)  # a clean tree: the guards below each make it unclean in their own way
    return proj


def _model(server: Any, implement_reply: str | None = None, design_reply: str | None = None) -> SupportModel:
    REPLIES.update(implement=implement_reply or MC_CODE, design=design_reply or MC_DESIGN, asked="")
    return SupportModel(ModelSpec(server.base_url, model_id="support-llm"))


def test_dry_run_prints_the_diff_and_writes_nothing(project: Project) -> None:
    before = snapshot(project.root)
    result = implement(project, "mmlu_mc")
    assert not result.written and {c.status for c in result.changes} == {"new"}
    assert any(c.path == PRE and "+class MmluMcPreprocessor(LetteredChatPreprocessor):" in c.diff
               for c in result.changes)
    assert snapshot(project.root) == before


def test_refuses_to_write_outside_the_project(project: Project, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (project.root / "gage_benchmarks").symlink_to(outside, target_is_directory=True)  # a link leading out
    before = snapshot(project.root)
    with pytest.raises(ConfigError, match="outside the project") as err:
        implement(project, "mmlu_mc", force=True, allow_dirty=True, verify=False)
    assert "nothing was written" in err.value.fix
    assert list(outside.iterdir()) == [] and snapshot(project.root) == before


def test_refuses_a_dirty_tree_with_a_clear_message(project: Project) -> None:
    (project.root / "data" / "mmlu_mini.jsonl").write_text("changed\n")  # an uncommitted change to a tracked file
    before = snapshot(project.root)
    proc = gage(project.root, "support", "implement", "mmlu_mc", "--force")
    assert proc.returncode == 2, proc.stderr
    assert "refusing to write: the git tree is dirty (uncommitted changes to data/mmlu_mini.jsonl)" in proc.stderr
    assert "commit or stash" in proc.stderr and "nothing was written" in proc.stderr
    assert snapshot(project.root) == before
    result = implement(project, "mmlu_mc", force=True, allow_dirty=True, verify=False)
    assert result.written and (project.root / PRE).is_file()


def test_never_overwrites_an_edited_file_it_did_not_write(project: Project) -> None:
    implement(project, "mmlu_mc", force=True, verify=False)
    implement(project, "mmlu_mc", force=True, verify=False)  # its own, unchanged output: fine to rewrite
    (project.root / PRE).write_text("# my own edits\n")
    (project.root / "dev_docs" / "mmlu_mc" / "design.md").write_text(
        (project.root / "dev_docs" / "mmlu_mc" / "design.md").read_text().replace("max_tokens: 32", "max_tokens: 40"))
    with pytest.raises(ConfigError, match=f"{PRE} exists, is not committed and was not written by gage support"):
        implement(project, "mmlu_mc", force=True, verify=False)
    assert (project.root / PRE).read_text() == "# my own edits\n"
    commit_all(project.root)  # committed: git keeps the edit, so the regenerated file may replace it
    assert implement(project, "mmlu_mc", force=True, verify=False).written
    assert "class MmluMcPreprocessor" in (project.root / PRE).read_text()


@pytest.mark.parametrize("reply, problem", [
    ("Sure, here it is:\n" + MC_CODE, "text outside a file block: 'Sure, here it is:'"),
    (MC_CODE.replace("=== END FILE ===", ""), "is never closed"),
    (MC_CODE.replace(PRE, "setup.py"), "'setup.py' is not a file it may write"),
    (MC_CODE.replace(PRE, "../gage_benchmarks/mmlu_mc/preprocess.py"), "is not a file it may write"),
    (MC_CODE + MC_CODE, f"'{PRE}' is given twice"),
    (MC_CODE.replace(" ===\n", " ===\n```python\n", 1), "wrapped in a markdown fence"),
    ("", f"no block for {PRE}"),
])
def test_malformed_file_blocks_are_refused(reply: str, problem: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_file_blocks(reply, {PRE}, {PRE})
    assert problem in err.value.message and "nothing was written" in err.value.fix


def test_malformed_or_failing_model_code_writes_nothing(project: Project, server: Any) -> None:
    before = snapshot(project.root)
    broken = MC_CODE.replace("def chat_stem(self, doc: dict[str, Any]) -> str:", "def chat_stem(self, doc) -> str")
    wrong = MC_CODE.replace("return answer\n", "return (answer + 1) % 4\n")  # compiles and imports, mislabels
    cases = [("Here you go:\n" + MC_CODE, "text outside a file block"),
             (broken, "does not compile: expected ':'"),
             (MC_CODE.replace('"mmlu_mc", desc=', '"other", desc='), "registers no dataset preprocessor 'mmlu_mc'"),
             (MC_CODE.replace("from typing import Any", "from typing import Any\nimport no_such_module_xyz"),
              "fails the check 'imports'"),
             (wrong, "fails the check 'passes the generated test'")]
    for reply, problem in cases:
        with pytest.raises(ConfigError, match=problem):
            implement(project, "mmlu_mc", force=True, model=_model(server, reply), verify=False)
        assert snapshot(project.root) == before, problem


def test_an_invalid_model_proposal_is_not_written(project: Project, server: Any) -> None:
    target = project.docs("mmlu_mc") / "design.md"
    before = target.read_text()
    bad = MC_DESIGN.replace("choices: choices", "choices: options").replace("{options}", "{choices}")
    with pytest.raises(ConfigError, match="no valid support_config in 2 attempts") as err:
        design(project, "mmlu_mc", force=True, model=_model(server, design_reply=bad))
    assert "fields.choices: 'options' is in none of the 8 inspected records" in err.value.message
    assert "unknown placeholder {choices}" in err.value.message
    assert REPLIES["asked"] == "DD" and target.read_text() == before  # asked twice, the design kept as it was


def test_design_needs_exactly_one_block(project: Project) -> None:
    target = project.docs("mmlu_mc") / "design.md"
    text = target.read_text()
    block = text[text.index("```yaml support_config"):]
    target.write_text(text + "\n" + block)
    with pytest.raises(ConfigError, match=r"exactly one ```yaml support_config block, found 2 \(at line \d+, line \d+\)"):
        read_design(target)
    target.write_text(text.replace("```yaml support_config", "```yaml"))
    with pytest.raises(ConfigError, match="found 0"):
        read_design(target)
    target.write_text(text.replace("task_type: multiple_choice", "task_type: multiple-choice"))
    with pytest.raises(ConfigError, match="support_config.task_type: invalid value 'multiple-choice'"):
        read_design(target)


def test_test_commands_are_guarded(tmp_path: Path) -> None:
    assert argv_of("gage validate a.yaml", tmp_path)[1:3] == ["-m", "gage_eval"]
    assert argv_of("python tests/test_x.py", tmp_path)[1:] == ["tests/test_x.py"]
    for bad in ("rm -rf /", "gage run c.yaml | tee log", "python ../outside.py", "bash -c 'gage run'", "",
                "gage run $HOME/c.yaml"):
        with pytest.raises(ConfigError, match="tests.commands"):
            argv_of(bad, tmp_path)
