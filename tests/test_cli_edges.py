"""The CLI edge tells the truth: safe run paths, unwritable output folders, empty datasets, 0-sample limits,
missing local copies, quick-mode wording, every bad file in `gage validate`, and what changed on a refused rerun.
Every case goes through the real command (`gage ...` in-process or run.py) and checks exit code and message."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from gage_eval.cli.app import main
from gage_eval.errors import ConfigError

from .conftest import pipeline, write_jsonl

ROOT = Path(__file__).resolve().parents[1]
CONFIG_ERROR = ConfigError.exit_code  # whatever number the exit-code table gives a config error


def _gage(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as done:
        main(args)
    captured = capsys.readouterr()
    return done.value.code or 0, captured.out + captured.err


def _config(tmp_path: Path, records: int = 3, name: str = "cfg", **overrides: Any) -> Path:
    data = write_jsonl(tmp_path / "qa.jsonl", [{"id": f"q{i}", "prompt": f"say {i}", "label": f"say {i}"}
                                               for i in range(records)])
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(pipeline(data, **overrides)))
    return path


BAD_RUN_IDS = {"parent": "../escape", "absolute": "/tmp/elsewhere", "nested": "a/b", "dotdot": "..",
               "empty": "", "control": "run\x1b[2J", "newline": "run\nid", "backslash": "a\\b"}


@pytest.mark.parametrize("case", sorted(BAD_RUN_IDS))
def test_run_id_must_be_one_safe_folder_name(tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    cfg = _config(tmp_path)
    code, out = _gage(["run", str(cfg), "--output-dir", str(tmp_path / "runs"), "--run-id", BAD_RUN_IDS[case]],
                      capsys)
    assert code == CONFIG_ERROR
    assert "--run-id" in out and "single folder name" in out and "Traceback" not in out
    assert not (tmp_path / "runs").exists() and not (tmp_path / "escape").exists()  # nothing was written


def test_run_id_is_checked_by_every_entry_point(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _config(tmp_path)
    out_dir = str(tmp_path / "runs")
    sys.path.insert(0, str(ROOT))
    try:
        import run as run_py
    finally:
        sys.path.remove(str(ROOT))
    assert run_py.main(["--config", str(cfg), "--output-dir", out_dir, "--run-id", "../x"]) == CONFIG_ERROR
    assert "single folder name" in capsys.readouterr().err
    code, out = _gage(["eval", "--model", "dummy", "--datasets", "gsm8k", "--work-dir", out_dir, "--run-id", "/abs",
                       "--dry-run"], capsys)
    assert code == 0  # a dry run writes nothing; the real run refuses:
    code, out = _gage(["eval", "--model", "dummy", "--datasets", "gsm8k", "--work-dir", out_dir, "--run-id", "/abs"],
                      capsys)
    assert code == CONFIG_ERROR and "single folder name" in out
    code, out = _gage(["arena", "--run", f"a={tmp_path}", "--run", f"b={tmp_path}", "--mode", "pairwise-all",
                       "--judge-url", "http://127.0.0.1:9/v1", "--output-dir", out_dir, "--run-id", "../x"], capsys)
    assert code == CONFIG_ERROR and "single folder name" in out
    code, out = _gage(["perf", "--url", "http://127.0.0.1:9/v1/chat/completions", "--model", "m",
                       "--output-dir", out_dir, "--run-id", "a/b"], capsys)
    assert code == CONFIG_ERROR and "single folder name" in out
    import gage_eval

    with pytest.raises(ConfigError, match="single folder name"):  # the Python API too
        gage_eval.run(pipeline(tmp_path / "qa.jsonl"), output_dir=tmp_path / "runs", run_id="../x")


def test_unwritable_output_folder_is_named_not_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                            ) -> None:
    # Tests may run as root (which ignores permission bits), so a file in the way provokes the failure.
    cfg = _config(tmp_path)
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    code, out = _gage(["run", str(cfg), "--output-dir", str(blocker / "runs"), "--run-id", "r"], capsys)
    assert code == CONFIG_ERROR and "Traceback" not in out
    assert f"{blocker} is a file, not a folder" in out and str(blocker / "runs" / "r") in out and "--output-dir" in out
    # a file where the run's logs folder goes
    (tmp_path / "runs" / "r2").mkdir(parents=True)
    (tmp_path / "runs" / "r2" / "logs").write_text("x")
    code, out = _gage(["run", str(cfg), "--output-dir", str(tmp_path / "runs"), "--run-id", "r2"], capsys)
    assert code == CONFIG_ERROR and f"{tmp_path / 'runs' / 'r2' / 'logs'} is a file, not a folder" in out
    # a file where the response cache folder goes (--use-cache)
    (tmp_path / "runs" / ".cache").write_text("x")
    code, out = _gage(["run", str(cfg), "--output-dir", str(tmp_path / "runs"), "--run-id", "r3", "--use-cache",
                       "--progress", "off"], capsys)
    assert code == CONFIG_ERROR and "--use-cache" in out and f"{tmp_path / 'runs' / '.cache'} is a file" in out
    assert "Traceback" not in out
    code, out = _gage(["eval", "--model", "dummy", "--datasets", "gsm8k", "--work-dir", str(blocker), "--run-id",
                       "e", "--dataset-args", json.dumps({"gsm8k": {"local_path": str(tmp_path / "qa.jsonl"),
                                                                    "few_shot_num": 0}})], capsys)
    assert code == CONFIG_ERROR and "is a file, not a folder" in out and "Traceback" not in out
    code, out = _gage(["perf", "--url", "http://127.0.0.1:9/v1/chat/completions", "--model", "m",
                       "--output-dir", str(blocker), "--run-id", "p"], capsys)
    assert code == CONFIG_ERROR and "is a file, not a folder" in out  # before any load is sent
    runs = tmp_path / "model_runs"
    for name in ("a", "b"):
        (runs / name).mkdir(parents=True)
        write_jsonl(runs / name / "samples.jsonl",
                    [{"task_id": "t", "sample_id": "q1", "status": "ok", "sample": {"id": "q1", "inputs":
                     {"prompt": "q"}}, "model_output": {"answer": name}}])
    code, out = _gage(["arena", "--run", f"a={runs / 'a'}", "--run", f"b={runs / 'b'}", "--mode", "pairwise-all",
                       "--judge-url", "http://127.0.0.1:9/v1", "--output-dir", str(blocker), "--run-id", "ar"], capsys)
    assert code == CONFIG_ERROR and "is a file, not a folder" in out and "Traceback" not in out


def test_empty_dataset_says_so_with_its_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _config(tmp_path, records=0)
    code, out = _gage(["run", str(cfg), "--output-dir", str(tmp_path / "runs"), "--run-id", "e"], capsys)
    assert code != 0 and "dataset is empty" in out and str(tmp_path / "qa.jsonl") in out
    assert "completed" not in out
    summary = json.loads((tmp_path / "runs" / "e" / "summary.json").read_text())
    assert summary["run"]["status"] == "failed"
    # quick mode reads local copies through `datasets`, which only says "StopIteration" for an empty file
    empty = tmp_path / "gsm8k.jsonl"
    empty.write_text("\n")
    code, out = _gage(["eval", "--model", "dummy", "--datasets", "gsm8k", "--work-dir", str(tmp_path / "runs"),
                       "--dataset-args", json.dumps({"gsm8k": {"local_path": str(empty), "few_shot_num": 0}}),
                       "--progress", "off"], capsys)
    assert code != 0 and "dataset is empty" in out and str(empty) in out and "StopIteration" not in out


def test_zero_sample_limits_are_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _config(tmp_path)
    code, out = _gage(["run", str(cfg), "--output-dir", str(tmp_path / "runs"), "--max-samples", "0"], capsys)
    assert code == CONFIG_ERROR and "--max-samples 0 would evaluate no samples" in out and "--dry-run" in out
    assert not (tmp_path / "runs").exists()
    monkeypatch.setenv("GAGE_EVAL_MAX_SAMPLES", "0")
    code, out = _gage(["run", str(cfg), "--output-dir", str(tmp_path / "runs")], capsys)
    assert code == CONFIG_ERROR and "$GAGE_EVAL_MAX_SAMPLES 0 would evaluate no samples" in out
    monkeypatch.delenv("GAGE_EVAL_MAX_SAMPLES")
    code, out = _gage(["eval", "--model", "dummy", "--datasets", "gsm8k", "--limit", "0"], capsys)
    assert code == CONFIG_ERROR and "--limit 0 would evaluate no samples" in out
    zero_task = _config(tmp_path, name="zero", tasks=[{"task_id": "t", "dataset_id": "qa", "max_samples": 0}])
    code, out = _gage(["run", str(zero_task), "--output-dir", str(tmp_path / "runs")], capsys)
    assert code == CONFIG_ERROR and "tasks[0].max_samples" in out
    code, out = _gage(["run", str(cfg), "--output-dir", str(tmp_path / "runs"), "--max-samples", "1",
                       "--run-id", "one", "--progress", "off"], capsys)
    assert code == 0 and "completed, 1 samples" in out


def test_missing_local_copy_is_not_found_before_few_shot_talk(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                              ) -> None:
    missing = tmp_path / "nowhere" / "gsm8k.jsonl"
    # gsm8k is 5-shot from its train split by default: the missing file must be reported, not the split
    code, out = _gage(["eval", "--model", "dummy", "--datasets", "gsm8k", "--work-dir", str(tmp_path / "runs"),
                       "--dataset-args", json.dumps({"gsm8k": {"local_path": str(missing)}})], capsys)
    assert code == CONFIG_ERROR and "not found" in out and str(missing) in out
    assert "few-shot" not in out and "fewshot" not in out
    assert "dataset_args.gsm8k.local_path" in out and "--dataset-args" in out  # quick mode's words
    assert "params.path" not in out and "config file" not in out
    assert not (tmp_path / "runs").exists()  # reported before a run directory was made


def test_quick_mode_few_shot_fix_names_quick_mode_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    single = write_jsonl(tmp_path / "test.jsonl", [{"question": "1+1?", "answer": "2\n#### 2"}])
    code, out = _gage(["eval", "--model", "dummy", "--datasets", "gsm8k", "--work-dir", str(tmp_path / "runs"),
                       "--dataset-args", json.dumps({"gsm8k": {"local_path": str(single)}}), "--progress", "off"],
                      capsys)
    assert code == CONFIG_ERROR and "few-shot" in out
    fix = out[out.index("fix:"):]
    assert "few_shot_path" in fix and "few_shot_num" in fix and "--dataset-args" in fix
    for yaml_key in ("preprocess_kwargs", "fewshot_path", "num_fewshot:", "params.path"):
        assert yaml_key not in fix, yaml_key
    assert "dataset_args.gsm8k" in out
    # following the advice works
    code, out = _gage(["eval", "--model", "dummy", "--datasets", "gsm8k", "--work-dir", str(tmp_path / "runs"),
                       "--dataset-args", json.dumps({"gsm8k": {"local_path": str(single),
                                                               "few_shot_path": str(single)}}),
                       "--run-id", "advised", "--progress", "off"], capsys)
    assert code == 0 and "completed, 1 samples" in out


def test_validate_reports_every_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _config(tmp_path)
    bad_kind = tmp_path / "bad_kind.yaml"
    bad_kind.write_text("kind: Nope\n")
    bad_ref = tmp_path / "bad_ref.yaml"
    cfg = yaml.safe_load(good.read_text())
    cfg["role_adapters"][0]["backend_id"] = "echoo"
    bad_ref.write_text(yaml.safe_dump(cfg))
    code, out = _gage(["validate", str(bad_kind), str(good), str(bad_ref), str(tmp_path / "absent.yaml")], capsys)
    assert code == CONFIG_ERROR
    assert f"{good}: ok" in out
    for bad in (bad_kind, bad_ref, tmp_path / "absent.yaml"):
        assert f"error: {bad}" in out, bad
    assert "did you mean 'echo'" in out and "3 of 4 config(s) invalid" in out
    code, out = _gage(["validate", str(good)], capsys)
    assert code == 0


def test_refused_rerun_lists_the_changed_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _config(tmp_path)
    args = ["run", str(cfg), "--output-dir", str(tmp_path / "runs"), "--run-id", "r", "--progress", "off"]
    assert _gage(args, capsys)[0] == 0
    changed = yaml.safe_load(cfg.read_text())
    changed["backends"][0]["config"]["mode"] = "cycle"
    changed["backends"][0]["config"]["responses"] = ["x" * 200]
    changed["backends"][0]["config"]["api_key"] = "sk-very-secret-value"
    changed["execution"] = {"concurrency": 3}  # scheduling: allowed to change, never listed
    cfg.write_text(yaml.safe_dump(changed))
    code, out = _gage(args, capsys)
    assert code == CONFIG_ERROR and "holds results of a different config" in out
    assert "backends[echo].config.mode: 'echo' → 'cycle'" in out
    assert "backends[echo].config.responses: (absent) → <list, " in out  # long values named, not printed
    assert "backends[echo].config.api_key: (absent) → '***'" in out and "sk-very-secret-value" not in out
    assert "concurrency" not in out and "x" * 50 not in out
    changed["execution"] = {"concurrency": 5}
    changed["backends"][0]["config"] = {"mode": "echo"}
    cfg.write_text(yaml.safe_dump(changed))
    assert _gage(args, capsys)[0] == 0  # only scheduling differs: the run resumes


def test_config_diff_matches_list_items_by_id() -> None:
    from gage_eval.engine.config_diff import changed_keys

    old = {"datasets": [{"dataset_id": "a", "params": {"path": "a.jsonl"}}, {"dataset_id": "b", "params": {}}]}
    new = {"datasets": [{"dataset_id": "z", "params": {}}, {"dataset_id": "a", "params": {"path": "a2.jsonl"}},
                        {"dataset_id": "b", "params": {}}]}
    paths = {p: (a, b) for p, a, b in changed_keys(old, new)}
    assert set(paths) == {"datasets[a].params.path", "datasets[z]"}
    assert paths["datasets[a].params.path"] == ("a.jsonl", "a2.jsonl")
    assert changed_keys([1, 2], [1, 3]) == [("[1]", 2, 3)]


def test_auto_run_ids_started_in_the_same_second_get_their_own_folders(tmp_path: Path) -> None:
    from gage_eval.run_paths import auto_run_id

    ids = [auto_run_id(tmp_path, "demo") for _ in range(3)]  # well within one second
    assert len(set(ids)) == 3 and all((tmp_path / i).is_dir() for i in ids)
    assert ids[1] == ids[0] + "_2" and ids[2] == ids[0] + "_3"
    assert auto_run_id(tmp_path, "demo", reserve=False) == ids[0] + "_4"
    blocked = tmp_path / "file"
    blocked.write_text("")
    with pytest.raises(ConfigError, match="is a file"):
        auto_run_id(blocked / "runs", "demo")


def test_run_piped_into_head_exits_with_the_runs_status(tmp_path: Path) -> None:
    """`gage run … | head -1`: head closes the pipe after the first line; the run still writes everything and
    exits 0 (it used to exit 1 from the broken pipe at the final flush)."""
    import shlex
    import subprocess

    cfg = Path(__file__).resolve().parents[1] / "config" / "run_configs" / "demo_echo_run_1.yaml"
    cmd = shlex.join([sys.executable, "-m", "gage_eval", "run", str(cfg), "--output-dir", str(tmp_path),
                      "--run-id", "piped", "--progress", "off"])
    proc = subprocess.run(["bash", "-c", f"set -o pipefail; {cmd} 2>{tmp_path / 'err.txt'} | head -1"],
                          capture_output=True, text=True, timeout=120)
    err = (tmp_path / "err.txt").read_text()
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err, err
    assert proc.returncode == 0, err
    assert proc.stdout.startswith("run piped: completed")
    assert json.loads((tmp_path / "piped" / "summary.json").read_text())["run"]["status"] == "completed"


def test_a_locked_run_folder_refuses_a_second_writer_and_frees_on_exit(tmp_path: Path) -> None:
    from gage_eval.errors import GageError
    from gage_eval.run_paths import exclusive_lock

    busy = GageError("in use", fix="wait")
    with exclusive_lock(tmp_path / ".lock", busy):
        with pytest.raises(GageError, match="in use"):  # flock: a second open file description is refused
            with exclusive_lock(tmp_path / ".lock", busy):
                pass
    with exclusive_lock(tmp_path / ".lock", busy):  # released when the first block ended
        pass
