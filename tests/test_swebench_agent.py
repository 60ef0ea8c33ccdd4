"""SWE-bench's agent route on the synthetic instances (tests/swebench_fixtures.py): `gage eval --datasets
swebench_lite_agent` with the test server scripted to play an agent that views the buggy file, writes a regression
test, runs it (failing), fixes the file with swe_edit, runs it again (passing) and replies DONE; the workspace's
git diff is the patch, judged by the swebench_local runner."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gage_eval.testing.tool_replies import call, reply

from .swebench_fixtures import REPOS
from .test_swebench import instances, records_of, run  # noqa: F401  (module fixture: the synthetic instances)

# A regression test per repository, written by the scripted agent (a new file: it must be in the patch).
REGRESSION = {"acme/calc": "from calc import add\n\n\ndef test_issue():\n    assert add(2, 3) == 5\n",
              "acme/strutil": "from strutil import whisper\n\n\ndef test_issue():\n    assert whisper('A') == 'a'\n",
              "acme/mathx": "from mathx.stats import mean\n\n\ndef test_issue():\n    assert mean([1, 2, 3]) == 2\n"}
RUN_TEST = "python -m pytest -q -p no:cacheprovider tests/test_issue_regression.py"
MODE = {"agent": "fixer"}  # fixer | idle; tests set it before each run


def fix_of(repo: str) -> tuple[str, str, str]:
    """(file, old_str, new_str): the changed line and the line before it, so that the match is unique."""
    path, fixed = next(iter(REPOS[repo]["fix"].items()))
    before, after = REPOS[repo]["files"][path].split("\n"), fixed.split("\n")
    i = next(n for n, (a, b) in enumerate(zip(before, after)) if a != b)
    return path, "\n".join(before[i - 1:i + 1]), "\n".join(after[i - 1:i + 1])


def agent(body: dict[str, Any]) -> Any:
    messages = body["messages"]
    issue = next(m["content"] for m in messages if m["role"] == "user")
    repo = next(name for name, spec in REPOS.items() if spec["issue"] in issue)
    turn = sum(1 for m in messages if m["role"] == "assistant")
    if MODE["agent"] == "idle" or not body.get("tools"):
        return "DONE"
    path, old, new = fix_of(repo)
    plan = [reply(call("swe_view", {"path": path})),
            reply(call("swe_create", {"path": "tests/test_issue_regression.py", "content": REGRESSION[repo]})),
            reply(call("swe_bash", {"command": RUN_TEST}))]
    if repo == "acme/calc":  # mistakes a real agent makes: refused, recorded, nothing changed
        ambiguous = {"path": path, "old_str": "    return a - b", "new_str": "    return a + b"}
        plan.append(reply(call("swe_edit", ambiguous),
                          call("swe_create", {"path": "../../escaped.py", "content": "x = 1\n"}),
                          call("swe_edit", {"path": "/etc/hostname", "old_str": "a", "new_str": "b"})))
    plan += [reply(call("swe_edit", {"path": path, "old_str": old, "new_str": new})),
             reply(call("swe_bash", {"command": RUN_TEST}))]
    return plan[turn] if turn < len(plan) else "DONE"


@pytest.fixture(scope="module")
def url() -> Any:
    from gage_eval.testing.server import TestServerConfig, run_server_in_thread

    with run_server_in_thread(TestServerConfig(script=agent)) as server:
        yield server.base_url


def eval_argv(data: Path, mirror: Path, url: str, out: Path, run_id: str) -> list[str]:
    """The README's agent command: `gage eval --datasets swebench_lite_agent` with the local runner."""
    args = {"swebench_lite_agent": {"local_path": str(data), "adapter_params": {
        "context": {"implementation_params": {"repo_mirror": str(mirror)}},
        "judge": {"implementation": "swebench_local",
                  "implementation_params": {"repo_mirror": str(mirror), "timeout_s": 120}}}}}
    return ["eval", "--model", "served", "--api-url", url, "--datasets", "swebench_lite_agent", "--dataset-args",
            json.dumps(args), "--work-dir", str(out), "--run-id", run_id, "--progress", "off"]


def calls_of(record: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for t in record["trajectory"]["turns"] for c in t["tool_calls"]]


def test_agent_fixes_the_instances_and_its_diff_is_judged(tmp_path: Path, instances: Any, url: str) -> None:
    mirror, data, records, _ = instances
    MODE["agent"] = "fixer"
    out = tmp_path / "runs"
    summary = run(eval_argv(data, mirror, url, out, "agent"), out, "agent")
    report = summary["summary_generators"]["swebench_report"]
    assert report["resolved"] == 3 and report["reasons"] == {"resolved": 3}
    assert summary["metrics"]["swebench_resolved"]["value"] == 1.0

    recs = records_of(out / "agent")
    for rec in records:
        row = recs[rec["instance_id"]]
        assert row["status"] == "ok" and row["model_output"]["answer"] == "DONE"
        patch = row["model_output"]["patch"]
        # The fix (the gold patch's change) and the agent's new test file; no build junk from the test runs.
        gold_lines = {x for x in rec["patch"].splitlines() if x[:1] in "+-" and x[:3] not in ("+++", "---")}
        assert gold_lines <= set(patch.splitlines())
        assert "new file mode" in patch and "b/tests/test_issue_regression.py" in patch
        assert "__pycache__" not in patch and ".pyc" not in patch and ".pytest_cache" not in patch
        assert row["judge_output"]["model_patch"] == patch
        # The trajectory: tool calls with their results, the test failing before the fix and passing after.
        traj = row["trajectory"]
        assert traj["stop_reason"] == "final_answer" and traj["tools"] == ["swe_bash", "swe_view", "swe_edit",
                                                                           "swe_create"]
        names = [c["name"] for c in calls_of(row) if c["status"] == "ok"]
        assert names == ["swe_view", "swe_create", "swe_bash", "swe_edit", "swe_bash"]
        results = [m["content"] for m in traj["messages"] if m["role"] == "tool"]
        path, old, _ = fix_of(rec["repo"])
        assert f"\t{old.splitlines()[-1]}" in results[0] and "     1\t" in results[0]  # numbered lines
        assert "1 failed" in results[2] and "[exit code 1]" in results[2]
        assert "1 passed" in results[-1] and "[exit code 0]" in results[-1]

    calc = recs[records[0]["instance_id"]]
    refused = [c for c in calls_of(calc) if c["status"] != "ok"]
    assert [c["name"] for c in refused] == ["swe_edit", "swe_create", "swe_edit"]
    errors = [m["content"] for m in calc["trajectory"]["messages"] if m["role"] == "tool"
              and m["content"].startswith("Error:")]
    assert "occurs 2 times" in errors[0]
    assert "outside the workspace" in errors[1] and "outside the workspace" in errors[2]
    assert not (out / "agent" / "workspaces" / "escaped.py").exists()  # where ../../escaped.py would land
    # Every sample's workspace was removed when it left the chain.
    assert (out / "agent" / "workspaces").is_dir() and list((out / "agent" / "workspaces").iterdir()) == []
    predictions = [json.loads(x) for x in (out / "agent" / "predictions.jsonl").read_text().splitlines()]
    assert {p["instance_id"]: p["model_patch"] for p in predictions} == \
        {iid: r["model_output"]["patch"] for iid, r in recs.items()}


def test_an_agent_that_edits_nothing_has_an_empty_patch(tmp_path: Path, instances: Any, url: str) -> None:
    mirror, data, records, _ = instances
    MODE["agent"] = "idle"
    out = tmp_path / "runs"
    try:
        summary = run(eval_argv(data, mirror, url, out, "idle"), out, "idle")
    finally:
        MODE["agent"] = "fixer"
    assert summary["summary_generators"]["swebench_report"]["reasons"] == {"empty_patch": 3}
    recs = records_of(out / "idle")
    assert all(r["model_output"]["patch"] == "" and r["trajectory"]["tool_call_count"] == 0 for r in recs.values())
    assert not (out / "idle" / "workspaces").exists()  # never touched, never made


async def test_workspace_is_lazy_confined_and_diffs_new_files(tmp_path: Path) -> None:
    from gage_eval.agents.workspace import Workspace, WorkspaceError
    from gage_eval.benchmarks.swebench.repo import RepoCache

    snapshot = tmp_path / "snap"
    (snapshot / "pkg").mkdir(parents=True)
    (snapshot / "pkg" / "a.py").write_text("x = 1\n")
    (tmp_path / "outside").mkdir()
    ws = Workspace(lambda dest: RepoCache.private_copy(snapshot, dest), tmp_path / "ws")
    assert await ws.diff() == "" and not (tmp_path / "ws").exists()  # nothing made until a tool needs it
    root = await ws.root()
    (root / "link").symlink_to(tmp_path / "outside")
    for bad in ("../x.py", str(tmp_path / "outside" / "y.py"), "link/z.py", ".git/config"):
        with pytest.raises(WorkspaceError):
            await ws.resolve(bad)
    assert await ws.resolve(str(root / "pkg" / "a.py")) == (root / "pkg" / "a.py").resolve()
    (root / "pkg" / "a.py").write_text("x = 2\n")
    result = await ws.exec("mkdir -p new && printf 'y = 1\\n' > new/b.py && python -c 'import pkg.a' && echo $HOME")
    assert result.ok and str(ws.base / "home") in result.stdout
    diff = await ws.diff()
    assert "-x = 1\n+x = 2" in diff and "new file mode" in diff and "+++ b/new/b.py" in diff
    assert "link" in diff and "__pycache__" not in diff
    base = ws.base
    await ws.aclose()
    assert base is not None and not base.exists()
    with pytest.raises(WorkspaceError, match="closed"):
        await ws.root()
