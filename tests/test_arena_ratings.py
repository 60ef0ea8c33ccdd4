"""Arena statistics: battle counts, Bradley-Terry / online Elo ratings, bootstrap intervals, leaderboard.

Ratings are checked on synthetic tournaments drawn from known strengths, and the BT fit against two
independent computations (Zermelo's MM iteration and scikit-learn's logistic regression as Chatbot Arena sets
it up). Ties are drawn so that a tie is worth half a win in expectation, i.e. the expected score of i against j
is exactly the BT probability: then "ties count half" estimates the true strengths without bias.
"""
from __future__ import annotations

import math
import time

import numpy as np
import pytest

from gage_eval.arena import (
    ArenaError,
    Battle,
    bootstrap_ratings,
    compute_online_elo,
    fit_bradley_terry,
    matrix_rows,
    model_records,
    outcome_matrix,
    pair_counts,
    win_rate_matrix,
    win_rates_vs_baseline,
)
from gage_eval.arena.ratings import leaderboard
from gage_eval.errors import GageError

NAMES = [f"m{i}" for i in range(6)]
STRENGTHS = np.array([-250.0, -150.0, -50.0, 50.0, 150.0, 250.0])  # Elo points, mean 0
ALPHA = math.log(10) / 400  # logit units per Elo point


def tournament(rng: np.random.Generator, strengths: np.ndarray = STRENGTHS, n: int = 3000,
               tie_share: float = 0.3) -> list[Battle]:
    """`n` games between uniformly drawn distinct players. P(tie) = 2 * tie_share * p * (1 - p) and
    P(A wins) = p - P(tie) / 2 with p the BT probability, so A's expected score is exactly p."""
    m = len(strengths)
    a = rng.integers(0, m, n)
    b = (a + rng.integers(1, m, n)) % m
    p = 1.0 / (1.0 + 10.0 ** ((strengths[b] - strengths[a]) / 400.0))
    tie = 2 * tie_share * p * (1 - p)
    u = rng.random(n)
    winner = np.where(u < tie, "tie", np.where(u < tie + p - tie / 2, "model_a", "model_b"))
    return [Battle(NAMES[i], NAMES[j], w, sample_id=str(k)) for k, (i, j, w) in enumerate(zip(a, b, winner))]


def asymptotic_sd(battles: list[Battle], strengths: np.ndarray = STRENGTHS, tie_share: float = 0.3) -> np.ndarray:
    """Large-sample SD (Elo points) of the mean-centred BT estimates: sandwich H+ J H+, where H is the Fisher
    information of the half-win likelihood and J the variance of the scores (ties make scores less variable)."""
    m = len(strengths)
    games = np.zeros((m, m))
    for bt in battles:
        games[NAMES.index(bt.model_a), NAMES.index(bt.model_b)] += 1
    games += games.T
    p = 1.0 / (1.0 + 10.0 ** ((strengths[None, :] - strengths[:, None]) / 400.0))
    var_score = p * (1 - p) - 2 * tie_share * p * (1 - p) / 4  # Var(score) = p(1-p) - P(tie)/4

    def laplacian(w: np.ndarray) -> np.ndarray:
        return np.diag(w.sum(axis=1)) - w

    centre = np.full((m, m), 1.0 / m)  # pinv of a connected graph's Laplacian: inv(L + 11'/m) - 11'/m
    h_inv = np.linalg.inv(laplacian(games * p * (1 - p)) + centre) - centre
    return np.sqrt(np.diag(h_inv @ laplacian(games * var_score) @ h_inv)) / ALPHA


def ordered(ratings: dict[str, float]) -> list[str]:
    return sorted(ratings, key=ratings.get)


# ---------------------------------------------------------------- counting

SMALL = [Battle("a", "b", "model_a"), Battle("b", "a", "model_a"), Battle("a", "b", "tie"),
         Battle("a", "c", "model_a", weight=2), Battle("c", "b", "model_b")]


def test_outcome_matrix_counts_both_orientations_and_weights() -> None:
    m = outcome_matrix(SMALL)
    assert (m["a"]["b"].wins, m["a"]["b"].ties, m["a"]["b"].losses) == (1, 1, 1)
    assert (m["b"]["a"].wins, m["b"]["a"].ties, m["b"]["a"].losses) == (1, 1, 1)
    assert (m["a"]["c"].wins, m["c"]["a"].losses) == (2, 2)  # weight 2
    assert (m["b"]["c"].wins, m["c"]["b"].losses) == (1, 1)
    assert "c" not in m["c"] and win_rate_matrix(SMALL)["a"] == {"b": 0.5, "c": 1.0}
    rows = matrix_rows(m)
    assert {"model": "a", "opponent": "c", "wins": 2, "ties": 0, "losses": 0, "games": 2, "win_rate": 1.0} in rows
    assert len(rows) == 6 and all(isinstance(r["games"], int) for r in rows)
    assert pair_counts(SMALL)[("a", "b")].as_dict()["games"] == 3 and ("b", "a") not in pair_counts(SMALL)
    totals = model_records(SMALL)
    assert (totals["a"].wins, totals["a"].ties, totals["a"].losses) == (3, 1, 1)
    assert sum(r.games for r in totals.values()) == 2 * 6  # each weighted game counted for both sides


def test_win_rate_vs_baseline_counts_ties_half_and_reports_them() -> None:
    rates = win_rates_vs_baseline(SMALL, "b")
    assert rates["a"]["win_rate"] == pytest.approx(0.5) and rates["a"]["tie_rate"] == pytest.approx(1 / 3)
    assert (rates["a"]["wins"], rates["a"]["ties"], rates["a"]["losses"]) == (1, 1, 1)
    assert rates["c"]["win_rate"] == 0.0 and "b" not in rates
    with pytest.raises(ArenaError, match="baseline 'B' is in no battle.*did you mean 'b'"):
        win_rates_vs_baseline(SMALL, "B")


def test_battle_from_dict_accepts_arena_tie_label_and_rejects_bad_records() -> None:
    bt = Battle.from_dict({"model_a": "x", "model_b": "y", "winner": "tie (bothbad)", "sample_id": 3})
    assert bt.winner == "tie" and bt.sample_id == "3" and bt.weight == 1.0
    with pytest.raises(ArenaError, match="lacks winner"):
        Battle.from_dict({"model_a": "x", "model_b": "y"})
    with pytest.raises(ArenaError, match="unknown winner 'model_c'.*did you mean 'model_b'.*allowed: model_a, model_b, tie"):
        Battle.from_dict({"model_a": "x", "model_b": "y", "winner": "model_c", "sample_id": "s9"})
    with pytest.raises(ArenaError, match="'x' battles itself"):
        Battle("x", "x", "tie")
    with pytest.raises(ArenaError, match="weight must be a finite number >= 0"):
        Battle("x", "y", "tie", weight=-1)
    with pytest.raises(ArenaError, match="model_b must be a non-empty model name"):
        Battle("x", "", "tie")


# ---------------------------------------------------------------- ratings

def test_bt_ranks_players_and_recovers_strengths() -> None:
    battles = tournament(np.random.default_rng(1))
    ratings = fit_bradley_terry(battles)
    assert ordered(ratings) == NAMES
    assert np.mean(list(ratings.values())) == pytest.approx(1000.0, abs=1e-9)
    sd = asymptotic_sd(battles)  # about 8-10 points per player here
    err = np.array([ratings[n] for n in NAMES]) - (1000 + STRENGTHS)
    assert np.all(np.abs(err) < 4 * sd), (err, sd)


def zermelo(battles: list[Battle], iters: int = 100_000) -> dict[str, float]:
    """Hunter's (2004) MM iteration for BT on counts, ties half a win: pi_i <- W_i / sum_j n_ij / (pi_i + pi_j)."""
    m = len(NAMES)
    wins, games = np.zeros(m), np.zeros((m, m))
    for bt in battles:
        a, b = NAMES.index(bt.model_a), NAMES.index(bt.model_b)
        wins[a] += bt.score_a
        wins[b] += 1 - bt.score_a
        games[a, b] += 1
        games[b, a] += 1
    pi = np.ones(m)
    for _ in range(iters):
        new = wins / (games / (pi[:, None] + pi[None, :])).sum(axis=1)
        new /= np.exp(np.mean(np.log(new)))
        done = np.max(np.abs(new / pi - 1)) < 1e-15
        pi = new
        if done:
            break
    r = 400 * np.log10(pi)
    return dict(zip(NAMES, (r - r.mean() + 1000).tolist()))


def test_bt_agrees_with_zermelo_iteration_and_sklearn_logistic_regression() -> None:
    battles = tournament(np.random.default_rng(2))
    ours = fit_bradley_terry(battles)
    mm = zermelo(battles)
    assert max(abs(ours[n] - mm[n]) for n in NAMES) < 1e-4

    from sklearn.linear_model import LogisticRegression  # Chatbot Arena's compute_mle_elo formulation

    x = np.zeros((2 * len(battles), len(NAMES)))
    y = np.zeros(2 * len(battles))
    for k, bt in enumerate(battles):  # every battle twice: a win is two wins, a tie one win and one loss
        x[2 * k: 2 * k + 2, NAMES.index(bt.model_a)] = math.log(10)
        x[2 * k: 2 * k + 2, NAMES.index(bt.model_b)] = -math.log(10)
        y[2 * k] = bt.winner in ("model_a", "tie")
        y[2 * k + 1] = bt.winner == "model_a"
    lr = LogisticRegression(fit_intercept=False, C=np.inf, tol=1e-12, max_iter=10_000).fit(x, y)
    sk = 400 * lr.coef_[0]
    sk = sk - sk.mean() + 1000
    assert max(abs(ours[n] - s) for n, s in zip(NAMES, sk)) < 1e-4


def test_bt_anchor_scale_and_weights() -> None:
    battles = tournament(np.random.default_rng(3), n=600)
    centred = fit_bradley_terry(battles)
    anchored = fit_bradley_terry(battles, anchor="m2", init_rating=1500)
    assert anchored["m2"] == 1500.0
    for n in NAMES:  # anchoring only shifts
        assert anchored[n] - anchored["m0"] == pytest.approx(centred[n] - centred["m0"], abs=1e-6)
    natural = fit_bradley_terry(battles, scale=1, base=math.e, init_rating=0)  # plain logit strengths
    for n in NAMES:
        assert natural[n] == pytest.approx((centred[n] - 1000) * ALPHA, abs=1e-8)
    doubled = fit_bradley_terry([Battle(b.model_a, b.model_b, b.winner, weight=2) for b in battles[:300]]
                                + battles[300:])
    repeated = fit_bradley_terry(battles[:300] + battles[:300] + battles[300:])
    assert max(abs(doubled[n] - repeated[n]) for n in NAMES) < 1e-5


def test_bt_symmetric_and_degenerate_data() -> None:
    ties = [Battle("x", "y", "tie"), Battle("y", "z", "tie"), Battle("z", "x", "tie")]
    assert fit_bradley_terry(ties) == pytest.approx({"x": 1000.0, "y": 1000.0, "z": 1000.0}, abs=1e-6)
    # a model that won every game has an infinite MLE; the tiny L2 keeps it finite and on top
    battles = tournament(np.random.default_rng(4), n=600)
    perfect = battles + [Battle("champ", n, "model_a") for n in NAMES for _ in range(3)]
    ratings = fit_bradley_terry(perfect)
    assert max(ratings, key=ratings.get) == "champ" and math.isfinite(ratings["champ"])
    assert ordered({n: ratings[n] for n in NAMES}) == NAMES


def test_online_elo_ranks_clearly_separated_players() -> None:
    spread = np.array([-375.0, -225.0, -75.0, 75.0, 225.0, 375.0])
    for seed in range(3):
        elo = compute_online_elo(tournament(np.random.default_rng(100 + seed), spread))
        assert ordered(elo) == NAMES, elo
        # Elo is zero-sum: every update moves the two ratings by opposite amounts
        assert sum(elo.values()) == pytest.approx(6 * 1000.0, abs=1e-6)


def test_online_elo_follows_the_update_rule() -> None:
    elo = compute_online_elo([Battle("x", "y", "model_a"), Battle("x", "y", "tie")], k=32)
    after_first = 1000 + 32 * 0.5  # equal ratings: expected score 0.5
    e = 1 / (1 + 10 ** ((1000 - 16 - after_first) / 400))
    assert elo["x"] == pytest.approx(after_first + 32 * (0.5 - e))
    assert elo["y"] == pytest.approx(2000 - elo["x"])


# ---------------------------------------------------------------- bootstrap

def test_bootstrap_intervals_cover_true_strengths_at_nominal_rate() -> None:
    """40 tournaments x 6 players = 240 nominal-95% intervals (200 rounds each, to keep the test short).

    Bounds: within a tournament the six indicators are dependent (ratings are centred), so take the worst
    case of 40 independent units: the SD of the coverage is sqrt(.95 * .05 / 40) = 0.034 and 0.85 is ~3 SD
    below 0.95 (with the real, weak dependence it is ~7 SD), leaving room for the percentile bootstrap's
    slight under-coverage. Coverage cannot show intervals that are too wide (it is then ~1), so the
    half-widths are also compared with the large-sample SD: their mean ratio must be within 10% of 1
    (bootstrap noise on the mean of 240 half-widths is ~1%).
    """
    rng = np.random.default_rng(2024)
    truth = 1000 + STRENGTHS
    covered, ratios = [], []
    for draw in range(40):
        battles = tournament(rng)
        intervals = bootstrap_ratings(battles, rounds=200, seed=draw)
        sd = asymptotic_sd(battles)
        for k, name in enumerate(NAMES):
            iv = intervals[name]
            assert iv.ci_low <= iv.median <= iv.ci_high
            covered.append(iv.ci_low <= truth[k] <= iv.ci_high)
            ratios.append((iv.ci_high - iv.ci_low) / 2 / (1.96 * sd[k]))
    coverage, ratio = float(np.mean(covered)), float(np.mean(ratios))
    print(f"coverage {coverage:.3f} over {len(covered)} intervals, half-width / asymptotic {ratio:.3f}")
    assert 0.85 <= coverage <= 1.0
    assert 0.9 <= ratio <= 1.1


def test_bootstrap_is_deterministic_for_a_seed() -> None:
    battles = tournament(np.random.default_rng(5), n=800)
    first = bootstrap_ratings(battles, rounds=100, seed=7)
    assert bootstrap_ratings(battles, rounds=100, seed=7) == first
    assert bootstrap_ratings(battles, rounds=100, seed=8) != first
    assert all(first[n].rating == r for n, r in fit_bradley_terry(battles).items())  # the full-data fit
    elo = bootstrap_ratings(battles, "elo", rounds=30, seed=7)
    assert bootstrap_ratings(battles, "elo", rounds=30, seed=7) == elo
    assert all(elo[n].rating == r for n, r in compute_online_elo(battles).items())


def test_fast_bootstrap_matches_refitting_on_resampled_battles() -> None:
    """The pair-count fast path must give the same distribution as refitting BT on resampled battle lists."""
    battles = tournament(np.random.default_rng(6), n=1000)
    fast = bootstrap_ratings(battles, rounds=400, seed=1)
    slow = bootstrap_ratings(battles, lambda bs: fit_bradley_terry(bs), rounds=400, seed=2)
    for n in NAMES:
        width = fast[n].ci_high - fast[n].ci_low  # ~60 points; Monte Carlo error of an endpoint ~5
        assert abs(fast[n].ci_low - slow[n].ci_low) < 0.25 * width
        assert abs(fast[n].ci_high - slow[n].ci_high) < 0.25 * width
        assert fast[n].rating == slow[n].rating


def test_bootstrap_1000_rounds_completes() -> None:
    battles = tournament(np.random.default_rng(7))
    start = time.perf_counter()
    intervals = bootstrap_ratings(battles, rounds=1000, seed=0)
    elapsed = time.perf_counter() - start
    print(f"1000-round BT bootstrap on {len(battles)} battles, 6 models: {elapsed:.2f} s")
    # Speed is measured by benchmarks/bench_arena_ratings.py, not asserted here (shared machines are noisy).
    assert len(intervals) == 6


def test_bootstrap_with_anchor_pins_the_anchor() -> None:
    battles = tournament(np.random.default_rng(8), n=600)
    intervals = bootstrap_ratings(battles, rounds=50, seed=0, anchor="m0", init_rating=1200)
    assert (intervals["m0"].rating, intervals["m0"].ci_low, intervals["m0"].ci_high) == (1200, 1200, 1200)
    with pytest.raises(ArenaError, match=r"unknown Bradley-Terry option\(s\) \['k'\]"):
        bootstrap_ratings(battles, rounds=5, k=4)


# ---------------------------------------------------------------- leaderboard

def test_leaderboard_rows() -> None:
    battles = tournament(np.random.default_rng(9))
    rows = leaderboard(battles, rounds=200, seed=0, baseline="m0")
    assert [r["model"] for r in rows] == NAMES[::-1] and [r["rank"] for r in rows] == list(range(1, 7))
    assert [r["rating"] for r in rows] == sorted((r["rating"] for r in rows), reverse=True)
    records = model_records(battles)
    vs = win_rates_vs_baseline(battles, "m0")
    for r in rows:
        assert r["ci_low"] <= r["rating"] <= r["ci_high"]
        assert (r["wins"], r["ties"], r["losses"], r["games"]) == (records[r["model"]].wins, records[r["model"]].ties,
                                                                   records[r["model"]].losses,
                                                                   records[r["model"]].games)
        assert r["win_rate_vs_baseline"] == (vs[r["model"]]["win_rate"] if r["model"] != "m0" else None)
        # rank (UB): 1 + models whose whole interval is above this one
        assert r["rank_ub"] == 1 + sum(o["ci_low"] > r["ci_high"] for o in rows)
    assert rows[0]["rank_ub"] == 1 and rows[-1]["rank_ub"] > 1


# ---------------------------------------------------------------- bad input

def test_bad_input_is_reported_clearly() -> None:
    with pytest.raises(ArenaError, match="no battles given"):
        fit_bradley_terry([])
    with pytest.raises(ArenaError, match="no battles given"):
        bootstrap_ratings([], rounds=10)
    with pytest.raises(ValueError, match="unknown winner 'A'"):  # ArenaError is also a ValueError
        fit_bradley_terry([{"model_a": "x", "model_b": "y", "winner": "A"}])
    with pytest.raises(GageError, match="model 'x' battles itself"):  # the only way to have a single model
        fit_bradley_terry([{"model_a": "x", "model_b": "x", "winner": "tie"}])
    with pytest.raises(ArenaError, match="anchor model 'zz' is in no battle"):
        fit_bradley_terry(SMALL, anchor="zz")
    with pytest.raises(ArenaError, match="split the models into 2 groups"):
        fit_bradley_terry([Battle("a", "b", "model_a"), Battle("c", "d", "tie")])
    with pytest.raises(ArenaError, match="rounds must be a positive integer"):
        bootstrap_ratings(SMALL, rounds=0)
    with pytest.raises(ArenaError, match="unknown rating fit 'mle'"):
        bootstrap_ratings(SMALL, "mle", rounds=3)
    with pytest.raises(ArenaError, match="every battle has weight 0"):
        fit_bradley_terry([Battle("a", "b", "tie", weight=0)])
