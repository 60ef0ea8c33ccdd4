"""Arena ratings: Bradley-Terry (maximum likelihood), online Elo, bootstrap confidence intervals, leaderboard.

Conventions follow the Chatbot Arena notebook: P(i beats j) = 1 / (1 + base ** ((r_j - r_i) / scale)), a tie
counts as half a win for each side, ratings sit on the Elo scale around `init_rating`.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from scipy.optimize import minimize
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.special import expit, log_expit

from gage_eval.arena.battles import (
    ArenaError,
    Battle,
    Record,
    as_battles,
    model_records,
    win_rates_vs_baseline,
)

RatingFit = Literal["bt", "elo"] | Callable[[Sequence[Battle]], Mapping[str, float]]
# Per unit of total battle weight: big enough to keep a model that won every game finite (a few thousand
# points above the rest instead of infinity) and the optimum unique, small enough to move ordinary ratings by
# ~1e-6 points.
DEFAULT_L2 = 1e-10
# Fewest battles (ties included) a model needs for a rating; see `insufficient_data`.
MIN_BATTLES = 10


@dataclass(frozen=True)
class _Indexed:
    """Battles as arrays: model indices of each side, A's score (1, 0.5, 0) and the weight."""

    models: list[str]
    a: np.ndarray
    b: np.ndarray
    score_a: np.ndarray
    weight: np.ndarray


def _index(battles: Sequence[Battle]) -> _Indexed:
    models = sorted({m for bt in battles for m in (bt.model_a, bt.model_b)})
    pos = {m: i for i, m in enumerate(models)}
    return _Indexed(models,
                    np.array([pos[bt.model_a] for bt in battles], dtype=np.intp),
                    np.array([pos[bt.model_b] for bt in battles], dtype=np.intp),
                    np.array([bt.score_a for bt in battles], dtype=float),
                    np.array([bt.weight for bt in battles], dtype=float))


def _win_matrix(ix: _Indexed) -> np.ndarray:
    """W[i, j]: weighted score of i against j (a tie adds 0.5 to both W[i, j] and W[j, i])."""
    m = len(ix.models)
    flat = np.bincount(ix.a * m + ix.b, weights=ix.weight * ix.score_a, minlength=m * m)
    flat += np.bincount(ix.b * m + ix.a, weights=ix.weight * (1.0 - ix.score_a), minlength=m * m)
    return flat.reshape(m, m)


def _nll_grad(theta: np.ndarray, w: np.ndarray, l2: float) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood of BT with logit strengths `theta`, plus l2/2 |theta|^2, and its gradient.

    `w` is the win matrix divided by the total weight, so the objective is O(1) whatever the data size.
    """
    diff = theta[:, None] - theta[None, :]
    value = -float(np.sum(w * log_expit(diff))) + 0.5 * l2 * float(theta @ theta)
    g = -w * expit(-diff)  # d value / d diff[i, j]
    return value, g.sum(axis=1) - g.sum(axis=0) + l2 * theta


def _fit_theta(w: np.ndarray, l2: float, theta0: np.ndarray | None = None) -> np.ndarray:
    """Maximum-likelihood logit strengths for a normalized win matrix; convex, so L-BFGS finds the optimum."""
    x0 = np.zeros(len(w)) if theta0 is None else theta0
    res = minimize(_nll_grad, x0, args=(w, l2), jac=True, method="L-BFGS-B",
                   options={"ftol": 1e-15, "gtol": 1e-11, "maxiter": 10_000})
    if not res.success and "ABNORMAL" not in str(res.message):  # ABNORMAL: line search at machine precision
        raise ArenaError(f"Bradley-Terry fit did not converge: {res.message}")
    return res.x


def _to_ratings(theta: np.ndarray, models: list[str], *, scale: float, base: float, init_rating: float,
                anchor: str | None) -> np.ndarray:
    """Logit strengths -> Elo-scale ratings, centred on the mean (or with `anchor` pinned to init_rating)."""
    centre = theta[models.index(anchor)] if anchor is not None else float(np.mean(theta))
    return init_rating + (theta - centre) * scale / math.log(base)


def _check_anchor(anchor: str | None, models: list[str]) -> None:
    if anchor is not None and anchor not in models:
        raise ArenaError(f"anchor model {anchor!r} is in no battle (models: {', '.join(models)})",
                         fix="anchor on a model that took part in the battles, or drop anchor")


def _check_connected(ix: _Indexed) -> None:
    """Ratings of models that are never linked by a chain of battles are not comparable: refuse them."""
    m = len(ix.models)
    graph = coo_matrix((np.ones(len(ix.a)), (ix.a, ix.b)), shape=(m, m))
    n_parts, labels = connected_components(graph, directed=False)
    if n_parts > 1:
        groups = [sorted(ix.models[i] for i in range(m) if labels[i] == k) for k in range(n_parts)]
        raise ArenaError(f"the battles split the models into {n_parts} groups that never meet: {groups}",
                         fix="add battles between the groups, or rate each group separately")


def fit_bradley_terry(battles: Iterable[Battle | Mapping[str, Any]], *, scale: float = 400, base: float = 10,
                      init_rating: float = 1000, anchor: str | None = None,
                      l2: float = DEFAULT_L2) -> dict[str, float]:
    """Maximum-likelihood Bradley-Terry ratings on the Elo scale (ties = half a win each, as Chatbot Arena).

    Ratings average `init_rating`, or `anchor` (a model name) is pinned at `init_rating`.
    """
    rows = as_battles(battles)
    ix = _index(rows)
    _check_anchor(anchor, ix.models)
    _check_connected(ix)
    w = _win_matrix(ix)
    theta = _fit_theta(w / w.sum(), l2)
    ratings = _to_ratings(theta, ix.models, scale=scale, base=base, init_rating=init_rating, anchor=anchor)
    return dict(zip(ix.models, ratings.tolist()))


def compute_online_elo(battles: Iterable[Battle | Mapping[str, Any]], k: float = 4, scale: float = 400,
                       base: float = 10, init_rating: float = 1000) -> dict[str, float]:
    """Sequential Elo in battle order (Chatbot Arena's compute_online_elo); `weight` scales the K step."""
    rating: dict[str, float] = {}
    for bt in as_battles(battles):
        ra, rb = rating.get(bt.model_a, init_rating), rating.get(bt.model_b, init_rating)
        ea = 1.0 / (1.0 + base ** ((rb - ra) / scale))
        eb = 1.0 / (1.0 + base ** ((ra - rb) / scale))
        rating[bt.model_a] = ra + k * bt.weight * (bt.score_a - ea)
        rating[bt.model_b] = rb + k * bt.weight * (1.0 - bt.score_a - eb)
    return dict(sorted(rating.items()))


@dataclass(frozen=True, slots=True)
class RatingInterval:
    """A model's rating from all battles, the bootstrap percentile interval and the bootstrap median."""

    rating: float
    ci_low: float
    ci_high: float
    median: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def _bootstrap_bt(rows: Sequence[Battle], rounds: int, rng: np.random.Generator, *, scale: float, base: float,
                  init_rating: float, anchor: str | None, l2: float) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Full-data BT ratings and a (rounds, models) array of BT ratings on battle resamples.

    Battles with the same (a, b, outcome, weight) are interchangeable, so resampling n battles with
    replacement is a multinomial draw over those distinct cells: each round costs one small matrix product
    and one warm-started fit on an m x m win matrix instead of a refit on n rows.
    """
    ix = _index(rows)
    m = len(ix.models)
    _check_anchor(anchor, ix.models)
    _check_connected(ix)
    keys = np.stack([ix.a, ix.b, ix.score_a, ix.weight], axis=1)
    cells, counts = np.unique(keys, axis=0, return_counts=True)
    ca, cb = cells[:, 0].astype(np.intp), cells[:, 1].astype(np.intp)
    contrib = np.zeros((len(cells), m * m))  # one cell's win-matrix entries per unit count
    contrib[np.arange(len(cells)), ca * m + cb] += cells[:, 3] * cells[:, 2]
    contrib[np.arange(len(cells)), cb * m + ca] += cells[:, 3] * (1.0 - cells[:, 2])
    plays = np.zeros((len(cells), m))  # does the cell involve model k (to blank models absent from a round)
    plays[np.arange(len(cells)), ca] = plays[np.arange(len(cells)), cb] = 1.0

    full = counts @ contrib
    theta_full = _fit_theta((full / full.sum()).reshape(m, m), l2)
    rating = _to_ratings(theta_full, ix.models, scale=scale, base=base, init_rating=init_rating, anchor=anchor)
    draws = rng.multinomial(len(rows), counts / counts.sum(), size=rounds)
    samples = np.empty((rounds, m))
    for r, (wins, present) in enumerate(zip(draws @ contrib, (draws @ plays) > 0)):
        total = wins.sum()
        if total <= 0:
            samples[r] = np.nan
            continue
        theta = _fit_theta((wins / total).reshape(m, m), l2, theta0=theta_full)
        samples[r] = _to_ratings(theta, ix.models, scale=scale, base=base, init_rating=init_rating, anchor=anchor)
        samples[r, ~present] = np.nan  # a model with no game in this round has no rating in it
    return ix.models, rating, samples


def _bootstrap_generic(rows: Sequence[Battle], fit: Callable[[Sequence[Battle]], Mapping[str, float]],
                       rounds: int, rng: np.random.Generator) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Refit `fit` on `rounds` resamples of the battles, drawn with replacement in random order."""
    full = fit(rows)
    models = sorted(full)
    samples = np.full((rounds, len(models)), np.nan)
    for r in range(rounds):
        picked = rng.integers(0, len(rows), size=len(rows))
        try:
            ratings = fit([rows[i] for i in picked])
        except ArenaError:  # e.g. a resample with a single model: it tells nothing about the others
            continue
        samples[r] = [ratings.get(m, np.nan) for m in models]
    return models, np.array([full[m] for m in models], dtype=float), samples


def bootstrap_ratings(battles: Iterable[Battle | Mapping[str, Any]], fit: RatingFit = "bt", *, rounds: int = 1000,
                      seed: int = 0, ci: float = 0.95, **fit_kwargs: Any) -> dict[str, RatingInterval]:
    """Rating of every model with a percentile bootstrap interval over resampled battles.

    `fit` is "bt" (fit_bradley_terry, fast path), "elo" (compute_online_elo on shuffled resamples, as the
    Chatbot Arena notebook does) or any callable battles -> {model: rating}. `fit_kwargs` go to the fit.
    Deterministic for a given seed (numpy Generator).
    """
    rows = as_battles(battles)
    if not isinstance(rounds, int) or rounds < 1:
        raise ArenaError(f"rounds must be a positive integer, got {rounds!r}")
    if not 0 < ci < 1:
        raise ArenaError(f"ci must be in (0, 1), got {ci!r}", fix="use e.g. ci=0.95 for a 95% interval")
    rng = np.random.default_rng(seed)
    if fit == "bt":
        opts = {"scale": 400.0, "base": 10.0, "init_rating": 1000.0, "anchor": None, "l2": DEFAULT_L2}
        unknown = sorted(set(fit_kwargs) - set(opts))
        if unknown:
            raise ArenaError(f"unknown Bradley-Terry option(s) {unknown}; known: {', '.join(opts)}")
        opts.update(fit_kwargs)
        models, rating, samples = _bootstrap_bt(rows, rounds, rng, **opts)
    elif fit == "elo":
        models, rating, samples = _bootstrap_generic(rows, lambda bs: compute_online_elo(bs, **fit_kwargs),
                                                     rounds, rng)
    elif callable(fit):
        models, rating, samples = _bootstrap_generic(rows, lambda bs: fit(bs, **fit_kwargs), rounds, rng)
    else:
        raise ArenaError(f"unknown rating fit {fit!r}", fix="use 'bt', 'elo' or a callable battles -> ratings")
    tail = 50.0 * (1.0 - ci)
    out: dict[str, RatingInterval] = {}
    for k, model in enumerate(models):
        col = samples[:, k][~np.isnan(samples[:, k])]
        if len(col) == 0:
            out[model] = RatingInterval(float(rating[k]), math.nan, math.nan, math.nan)
            continue
        low, median, high = np.percentile(col, [tail, 50.0, 100.0 - tail])
        out[model] = RatingInterval(float(rating[k]), float(low), float(high), float(median))
    return out


def insufficient_data(record: Record, min_battles: int = MIN_BATTLES) -> str | None:
    """Why a model's record supports no rating (None when it does).

    A perfect record (every battle won, or every one lost) has an infinite maximum-likelihood rating: the
    number printed would be an artefact of the tiny L2 penalty, and every bootstrap resample repeats the
    record, so the interval has zero width — an extreme number with no uncertainty, the opposite of the truth.
    Below `min_battles` games the win rate's standard error exceeds 0.5/sqrt(10) ~ 0.16, a 95% interval
    wider than +-0.3 in win rate, several hundred rating points: no rating either.
    """
    games = record.games
    if games < min_battles:
        return f"only {games:g} battle(s); a rating needs at least {min_battles}"
    if record.losses == 0 and record.ties == 0:
        return f"won all {games:g} battles: nothing bounds its rating from above"
    if record.wins == 0 and record.ties == 0:
        return f"lost all {games:g} battles: nothing bounds its rating from below"
    return None


def leaderboard(battles: Iterable[Battle | Mapping[str, Any]], *,
                intervals: Mapping[str, RatingInterval] | None = None, fit: RatingFit = "bt", rounds: int = 1000,
                seed: int = 0, baseline: str | None = None, min_battles: int = MIN_BATTLES,
                **fit_kwargs: Any) -> list[dict[str, Any]]:
    """Rows for summary.json, best first: rank, model, rating, ci_low, ci_high, median, rank_ub, record.

    `intervals` (from bootstrap_ratings) is computed here when not given. `rank_ub` is Chatbot Arena's
    "rank (UB)": 1 + the number of models whose interval lies entirely above this one. With `baseline`,
    each row also carries win_rate_vs_baseline (ties half; None for the baseline and models that never met it).
    A model whose record supports no rating (`insufficient_data`) gets rating, interval and rank None and the
    reason in `insufficient_data`; it is listed after the rated models.
    """
    rows = as_battles(battles)
    if intervals is None:
        intervals = bootstrap_ratings(rows, fit, rounds=rounds, seed=seed, **fit_kwargs)
    records = model_records(rows)
    missing = sorted(set(records) - set(intervals))
    if missing:
        raise ArenaError(f"no rating for model(s) {missing}", fix="compute intervals on the same battles")
    vs_base = win_rates_vs_baseline(rows, baseline) if baseline is not None else {}
    reasons = {m: insufficient_data(records[m], min_battles) for m in records}
    rated = sorted((m for m in records if reasons[m] is None), key=lambda m: (-intervals[m].rating, m))
    unrated = sorted((m for m in records if reasons[m] is not None), key=lambda m: (-records[m].win_rate, m))
    table: list[dict[str, Any]] = []
    for rank, model in enumerate([*rated, *unrated], start=1):
        iv, record = intervals[model], records[model].as_dict()
        row: dict[str, Any] = {"model": model, **{k: v for k, v in record.items() if k != "win_rate"}}
        if reasons[model] is None:
            above = sum(1 for o in rated if o != model and intervals[o].ci_low > iv.ci_high)
            row.update(rank=rank, rating=iv.rating, ci_low=iv.ci_low, ci_high=iv.ci_high, median=iv.median,
                       rank_ub=1 + above)
        else:
            row.update(rank=None, rating=None, ci_low=None, ci_high=None, median=None, rank_ub=None,
                       insufficient_data=reasons[model])
        if baseline is not None:
            row["win_rate_vs_baseline"] = vs_base[model]["win_rate"] if model in vs_base else None
        table.append(row)
    return table
