"""AlpacaEval 2 length-controlled win rate: ours against the `alpaca_eval` package's own function.

Why the package's download is replaced here: `alpaca_eval.metrics.get_length_controlled_winrate` (0.6.x)
always calls `hf_hub_download(repo_id="tatsu-lab/alpaca_eval", filename="df_gamed.csv", repo_type="dataset")`
in `_get_featurized_data`, for every GLM (the file holds the judge's annotations of two length-gamed versions
of the baseline plus the per-instruction difficulty). The wheel ships no copy (no `metrics/weights/` folder,
no annotations anywhere in site-packages: only leaderboard CSVs of aggregated numbers) and this machine has
no network. So the tests hand the package a realistic synthetic df_gamed.csv through that one download call
(the fake checks it is asked for exactly that file) and otherwise run the package's real code: patsy design
matrices, LogisticRegressionCV with GroupKFold and its custom log-loss scorer, liblinear. Our module gets the
same file via `gamed=`. The annotations are synthetic too (805 instructions, seeded), with the judge favouring
longer outputs, in several regimes: strong, weak, length-gamed, continuous (weighted-judge) preferences, with
draws, missing preferences and the legacy 0-for-draw code.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from alpaca_eval.metrics import glm_winrate  # needs setuptools<81 (pkg_resources)
from scipy.special import expit

from gage_eval.arena.battles import ArenaError
from gage_eval.arena.length_control import GLMS, GamedAnnotations, head_to_head, length_controlled_winrate

N = 805
BASELINE = "gpt4_1106_preview"
_rng = np.random.default_rng(11)
DIFFICULTY = _rng.normal(0.0, 0.6, N)  # the published difficulties are centred, spread ~0.5-1
BASE_LEN = np.maximum(50, _rng.lognormal(7.4, 0.5, N)).astype(int)  # ~1600 characters, like GPT-4 turbo


@pytest.fixture(scope="module")
def gamed_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """df_gamed.csv's layout: per gamed model 805 rows in instruction order; preference in [0, 1] is the
    judge's probability that the gamed output beats the baseline; not_gamed_baseline is False throughout."""
    rng = np.random.default_rng(12)
    frames = []
    for model, log_ratio in (("gpt4_1106_preview_verbose", 0.6), ("gpt4_1106_preview_concise", -0.9)):
        gamed_len = (BASE_LEN * rng.lognormal(log_ratio, 0.3, N)).astype(int)
        delta = BASE_LEN - gamed_len
        std_delta = delta / delta.std(ddof=1)
        preference = expit(-1.1 * np.tanh(std_delta) - 0.4 * DIFFICULTY + rng.normal(0, 0.8, N))
        frames.append(pd.DataFrame({"index": np.arange(N), "preference": preference, "std_delta_len": std_delta,
                                    "instruction_difficulty": DIFFICULTY, "not_gamed_baseline": False,
                                    "model": model}))
    df = pd.concat(frames, ignore_index=True)
    df.loc[[7, 900], "preference"] = np.nan  # the judge sometimes gives no answer
    path = tmp_path_factory.mktemp("alpaca") / "df_gamed.csv"
    df.to_csv(path, index=False)
    return path


@pytest.fixture
def package_lc(monkeypatch: pytest.MonkeyPatch, gamed_csv: Path, tmp_path: Path) -> Any:
    def fake_download(**kwargs: Any) -> str:
        assert (kwargs["repo_id"], kwargs["filename"], kwargs["repo_type"]) == (
            "tatsu-lab/alpaca_eval", "df_gamed.csv", "dataset"), kwargs
        return str(gamed_csv)

    monkeypatch.setattr(glm_winrate, "hf_hub_download", fake_download)

    def run(annotations: list[dict[str, Any]], glm: str) -> tuple[dict[str, Any], dict[str, float]]:
        metrics = glm_winrate.get_length_controlled_winrate(pd.DataFrame(annotations), glm_name=glm,
                                                            save_weights_dir=tmp_path)
        weights = pd.read_csv(tmp_path / glm / f"baseline_{BASELINE}.csv", index_col=0)
        return metrics, weights.loc[annotations[0]["generator_2"]].to_dict()

    return run


def annotations(kind: str, seed: int) -> list[dict[str, Any]]:
    """A judge that prefers longer outputs: P(model wins) = sigmoid(quality + 1.2 tanh(len diff / 1000)
    - 0.5 difficulty)."""
    rng = np.random.default_rng(seed)
    quality, log_ratio = {"strong": (1.2, 0.1), "weak": (-1.6, -0.2), "length_gamed": (-0.3, 1.0),
                          "continuous": (0.3, 0.3)}[kind]
    model_len = np.maximum(1, BASE_LEN * rng.lognormal(log_ratio, 0.4, N)).astype(int)
    z = quality + 1.2 * np.tanh((model_len - BASE_LEN) / 1000) - 0.5 * DIFFICULTY
    if kind == "continuous":  # weighted judge: a probability per pair, not a hard verdict
        preference: list[Any] = (1 + expit(z + rng.normal(0, 1, N))).tolist()
    else:
        preference = (1.0 + rng.binomial(1, expit(z))).tolist()
    if kind == "weak":  # draws, unanswered pairs and the legacy 0 = draw
        for k in rng.choice(N, 60, replace=False):
            preference[k] = 1.5
        preference[3], preference[10], preference[20] = None, 0, math.nan
    return [{"instruction": f"instruction {i}", "output_1": "b" * int(BASE_LEN[i]), "output_2": "m" * int(model_len[i]),
             "preference": preference[i], "generator_1": BASELINE, "generator_2": f"model_{kind}",
             "annotator": "weighted_alpaca_eval_gpt4_turbo"} for i in range(N)]


KINDS = ["strong", "weak", "length_gamed", "continuous"]


@pytest.mark.parametrize("glm", list(GLMS))
@pytest.mark.parametrize("kind", KINDS)
def test_lc_winrate_matches_alpaca_eval(kind: str, glm: str, package_lc: Any, gamed_csv: Path) -> None:
    rows = annotations(kind, seed=KINDS.index(kind))
    expected, expected_weights = package_lc(rows, glm)
    ours = length_controlled_winrate(rows, glm=glm, gamed=gamed_csv)
    for key in ("length_controlled_winrate", "lc_standard_error", "win_rate", "standard_error",
                "discrete_win_rate"):
        assert getattr(ours, key) == pytest.approx(float(expected[key]), abs=1e-6), key
    for key in ("n_wins", "n_wins_base", "n_draws", "n_total"):
        assert getattr(ours, key) == int(expected[key]), key
    assert ours.glm_weights == pytest.approx(expected_weights, abs=1e-9)
    if kind == "weak":
        assert (ours.n_draws, ours.n_total) == (61, 803)  # 60 draws + legacy 0; None and NaN dropped


def test_length_control_removes_the_length_advantage(gamed_csv: Path) -> None:
    """The length-gamed model wins mostly by length: its LC win rate falls well below the raw one."""
    gamed = length_controlled_winrate(annotations("length_gamed", 2), gamed=gamed_csv)
    assert gamed.length_controlled_winrate < gamed.win_rate - 5  # 66.3 raw -> 56.7 LC with these seeds
    strong = length_controlled_winrate(annotations("strong", 0), gamed=gamed_csv)
    assert strong.length_controlled_winrate > 60


def test_annotations_carrying_their_instruction_index(package_lc: Any, gamed_csv: Path) -> None:
    """Shuffled annotations with an `index` field use that index for the difficulty, as the package does."""
    rows = annotations("continuous", seed=5)
    for i, row in enumerate(rows):
        row["index"] = i
    shuffled = [rows[k] for k in np.random.default_rng(1).permutation(N)]
    expected, _ = package_lc(shuffled, "length_controlled_v1")
    ours = length_controlled_winrate(shuffled, gamed=gamed_csv)
    assert ours.length_controlled_winrate == pytest.approx(expected["length_controlled_winrate"], abs=1e-6)


def test_baseline_against_itself_is_fifty(package_lc: Any, gamed_csv: Path) -> None:
    rows = [dict(r, generator_2=BASELINE) for r in annotations("strong", 0)]
    expected, _ = package_lc(rows, "length_controlled_v1")
    ours = length_controlled_winrate(rows, gamed=gamed_csv)
    assert ours.length_controlled_winrate == expected["length_controlled_winrate"] == 50.0
    assert ours.lc_standard_error == 0.0 and ours.win_rate == pytest.approx(expected["win_rate"])


def test_exact_solver_is_close_to_liblinear(gamed_csv: Path) -> None:
    """liblinear stops at tolerance 1e-4; solving the same L1 problem to convergence moves the figure a little."""
    for kind in ("strong", "weak"):
        rows = annotations(kind, seed=KINDS.index(kind))
        liblinear = length_controlled_winrate(rows, gamed=gamed_csv)
        exact = length_controlled_winrate(rows, gamed=gamed_csv, solver="exact")
        assert abs(exact.length_controlled_winrate - liblinear.length_controlled_winrate) < 0.1, kind


def test_head_to_head_by_hand() -> None:
    out = head_to_head([2, 1, 1.5, 0, None, 1.8])
    assert out["n_total"] == 5 and out["n_draws"] == 2 and out["n_wins"] == 2 and out["n_wins_base"] == 1
    assert out["win_rate"] == pytest.approx((1 + 0 + 0.5 + 0.5 + 0.8) / 5 * 100)
    assert out["discrete_win_rate"] == pytest.approx((1 + 0 + 0.5 + 0.5 + 1) / 5 * 100)
    assert out["standard_error"] == pytest.approx(np.std([1, 0, 0.5, 0.5, 0.8], ddof=1) / math.sqrt(5) * 100)


def test_bad_input_is_reported_clearly(gamed_csv: Path, tmp_path: Path) -> None:
    rows = annotations("strong", 0)
    with pytest.raises(ArenaError, match="needs AlpacaEval's gamed-baseline annotations") as err:
        length_controlled_winrate(rows)
    assert "df_gamed.csv" in str(err.value)
    minimal = length_controlled_winrate(rows, glm="length_controlled_minimal")  # needs no external data
    assert 50 < minimal.length_controlled_winrate < 100
    with pytest.raises(ArenaError, match="instruction difficulties"):
        length_controlled_winrate(rows, glm="length_controlled_noreg")
    with pytest.raises(ArenaError, match=r"annotation 4: preference 3\.0 is outside \[1, 2\]"):
        length_controlled_winrate([dict(r, preference=3.0) if k == 4 else r for k, r in enumerate(rows)],
                                  gamed=gamed_csv)
    with pytest.raises(ArenaError, match="mix several generator_2"):
        length_controlled_winrate([dict(r, generator_2="other") if k == 0 else r for k, r in enumerate(rows)],
                                  gamed=gamed_csv)
    with pytest.raises(ArenaError, match="annotation 2: output_2 must be the output text"):
        length_controlled_winrate([dict(r, output_2=None) if k == 2 else r for k, r in enumerate(rows)],
                                  gamed=gamed_csv)
    with pytest.raises(ArenaError, match="no instruction difficulty for instruction index"):
        length_controlled_winrate(rows + [dict(rows[0], index=5000)], gamed=gamed_csv)
    with pytest.raises(ArenaError, match="unknown GLM 'length_controlled'.*did you mean"):
        length_controlled_winrate(rows, glm="length_controlled")
    bad_csv = tmp_path / "not_gamed.csv"
    bad_csv.write_text("index,preference\n0,0.5\n")
    with pytest.raises(ArenaError, match=r"no column\(s\) \['std_delta_len', 'instruction_difficulty'\]"):
        GamedAnnotations.from_csv(bad_csv)
    with pytest.raises(ArenaError, match="no annotation has a preference"):
        head_to_head([None, math.nan])
