"""Multi-turn: scripted trajectories (the possible answers, and perturbations of them) replayed by our checker and
by bfcl-eval's `_evaluate_single_multi_turn_entry` (its decoding, execution on its API classes, state and response
checks) give the same verdict for every trajectory, in function-calling and prompting form."""
from __future__ import annotations

import copy
from collections import Counter
from typing import Any

from gage_eval.benchmarks.bfcl.data import add_function_docs, category_file, package_data_dir, read_lines
from gage_eval.benchmarks.bfcl.multi_turn import Environment, check_trajectory

from .bfcl_outputs import render_turns, signatures, trajectories
from .bfcl_reference import reference

ENTRIES = 100


def test_trajectory_verdicts_equal_bfcl_eval() -> None:
    ref = reference()
    root = package_data_dir()
    entries = read_lines(category_file(root, "multi_turn_base"))[:ENTRIES]
    truths = read_lines(category_file(root / "possible_answer", "multi_turn_base"))[:ENTRIES]
    verdicts: Counter[tuple[str, bool]] = Counter()
    mismatches, count = [], 0
    for entry, truth in zip(entries, truths):
        meta = {"id": entry["id"], "category": "multi_turn_base", "involved_classes": entry["involved_classes"],
                "initial_config": entry["initial_config"], "ground_truth": truth["ground_truth"]}
        for kind, turns in trajectories(truth["ground_truth"], signatures(entry["involved_classes"])):
            for mode in ("fc", "prompt"):
                rendered = render_turns(turns, mode)
                label = f"agree{count}"  # bfcl-eval caches API instances by model name and entry id
                count += 1
                ours = check_trajectory(meta, copy.deepcopy(rendered), mode, label=label)
                theirs = ref.eval_runner._evaluate_single_multi_turn_entry(
                    ref.handler(mode == "fc"), entry["id"], copy.deepcopy(rendered), truth["ground_truth"],
                    copy.deepcopy(entry), label, "multi_turn_base")
                verdicts[(kind, bool(theirs["valid"]))] += 1
                if ours["valid"] != theirs["valid"] or (not ours["valid"] and
                                                        ours["error_type"] != theirs["error"]["error_type"]):
                    mismatches.append((entry["id"], kind, mode, ours.get("error_type"), theirs.get("error")))
    assert not mismatches, mismatches[:2]
    assert count >= 300
    assert verdicts[("one_step_per_turn", True)] == 2 * ENTRIES  # the possible answers themselves pass
    assert any(not ok for (_, ok) in verdicts)


def test_environment_runs_the_package_api_classes() -> None:
    reference()  # skips without bfcl-eval
    root = package_data_dir()
    entry = read_lines(category_file(root, "multi_turn_base"))[0]
    add_function_docs(entry, root)
    env = Environment(entry["involved_classes"], entry["initial_config"], entry["id"])
    out = env.execute(["cd(folder='document')", "ls()", "rm -rf /", "kill(pid=1)", "nope(x=1)",
                       "cd(folder='document').__class__()"])
    assert out[0] == '{"current_working_directory": "document"}'
    assert "final_report.pdf" in out[1]
    assert out[2].startswith("Error during execution: invalid syntax")
    assert out[3] == "Error during execution: Function call kill is not allowed."
    assert out[4] == "Error during execution: name 'nope' is not defined"
    assert out[5].startswith("Error during execution:")
    assert {f["name"] for f in entry["function"]} >= {"cd", "ls", "post_tweet"}
