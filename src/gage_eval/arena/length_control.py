"""AlpacaEval 2 win rate and length-controlled (LC) win rate, computed as `alpaca_eval` 0.6 does.

The LC win rate fits a logistic GLM of the judge's preference on
    tanh(standardized length difference) + instruction difficulty + is-the-model (no intercept)
and reports the mean predicted preference with the length difference set to 0. The "length_controlled_v1"
GLM (the leaderboard's) also trains on AlpacaEval's annotations of two length-gamed versions of the baseline
(down-weighted to 0.1 each), which regularizes the length and difficulty slopes. Those annotations and the
instruction difficulties come from `df_gamed.csv` of the Hugging Face dataset tatsu-lab/alpaca_eval: the
package downloads it on every call and does not ship it, so here it is an input (`gamed=`).

The fit mirrors the package step by step (L1 logistic regression with liblinear, 5-fold GroupKFold over
C in logspace(-4, 4, 10), best summed fold log loss, refit), including liblinear's random seeds, so the
figure agrees with `alpaca_eval.metrics.get_length_controlled_winrate` to floating-point noise. liblinear stops
at tolerance 1e-4, so its coefficients are not the exact optimum; `solver="exact"` solves the same problem
to convergence with scipy (no scikit-learn needed); it can differ from the package's figure by a few
hundredths of a point (and pick a neighbouring C where the cross-validation scores nearly tie).
"""
from __future__ import annotations

import csv
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, log_expit

from gage_eval.arena.battles import ArenaError
from gage_eval.errors import close_match_hint

# name -> (feature columns, weight of the gamed-baseline rows or None when they are not used)
GLMS: dict[str, tuple[tuple[str, ...], float | None]] = {
    "length_controlled_v1": (("np.tanh(std_delta_len)", "instruction_difficulty",
                              "not_gamed_baseline.astype(float)"), 0.2),
    "length_controlled_noreg": (("np.tanh(std_delta_len)", "instruction_difficulty",
                                 "not_gamed_baseline.astype(float)"), None),
    "length_controlled_minimal": (("np.tanh(std_delta_len)", "not_gamed_baseline.astype(float)"), None),
}
_CS = np.logspace(-4, 4, 10)  # LogisticRegressionCV's default grid (Cs=10)
_N_SPLITS = 5
_SEED = 123  # the package's random_state for liblinear


@dataclass(frozen=True)
class GamedAnnotations:
    """AlpacaEval's df_gamed.csv: judge preferences (in [0, 1]) of the baseline against its gamed versions."""

    index: np.ndarray  # instruction position in the 805-instruction eval set
    preference: np.ndarray  # NaN when the judge gave none
    std_delta_len: np.ndarray
    instruction_difficulty: np.ndarray
    not_gamed_baseline: np.ndarray  # False on every row of the published file

    @classmethod
    def from_csv(cls, path: str | Path) -> GamedAnnotations:
        need = ("index", "preference", "std_delta_len", "instruction_difficulty")
        try:
            with open(path, newline="", encoding="utf-8") as fh:
                rows = list(csv.DictReader(fh))
        except OSError as exc:
            raise ArenaError(f"cannot read gamed annotations: {exc}", file=str(path),
                             fix="download df_gamed.csv from the Hugging Face dataset tatsu-lab/alpaca_eval") from exc
        missing = [c for c in need if not rows or c not in rows[0]]
        if missing:
            raise ArenaError(f"not AlpacaEval's df_gamed.csv: no column(s) {missing}", file=str(path),
                             fix="pass the df_gamed.csv of the Hugging Face dataset tatsu-lab/alpaca_eval")

        def col(name: str) -> np.ndarray:
            return np.array([float(r[name]) if r[name] not in ("", None) else math.nan for r in rows])

        flags = [str(r.get("not_gamed_baseline", "False")).strip().lower() in ("true", "1") for r in rows]
        return cls(col("index").astype(int), col("preference"), col("std_delta_len"),
                   col("instruction_difficulty"), np.array(flags, dtype=bool))

    def difficulty(self) -> dict[int, float]:
        """Instruction difficulty by instruction index (first row of each index, as the package takes it)."""
        out: dict[int, float] = {}
        for i, d in zip(self.index.tolist(), self.instruction_difficulty.tolist()):
            out.setdefault(i, d)
        return out


@dataclass(frozen=True)
class LengthControlledResult:
    """Same keys as the package's metrics (win rates in percent), plus the fitted GLM."""

    win_rate: float
    standard_error: float
    n_wins: int
    n_wins_base: int
    n_draws: int
    n_total: int
    discrete_win_rate: float
    length_controlled_winrate: float
    lc_standard_error: float
    glm: str
    glm_weights: dict[str, float] = field(default_factory=dict)
    glm_C: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def head_to_head(preferences: Sequence[float | None]) -> dict[str, float | int]:
    """Raw win rate of the model (output_2) as alpaca_eval's get_winrate: preference 1 = baseline, 2 = model,
    1.5 (or the legacy 0) = draw, values in between count proportionally; missing preferences are dropped."""
    pref = _preferences(preferences)
    valid = pref[~np.isnan(pref)] - 1.0
    if len(valid) == 0:
        raise ArenaError("no annotation has a preference", fix="annotate at least one pair")
    # the discrete rate rounds each preference to a win, loss or (exact 1.5) draw
    discrete = np.where(valid == 0.5, 0.5, np.round(valid))
    return {"win_rate": float(valid.mean() * 100), "standard_error": _sem(valid) * 100,
            "n_wins": int((valid > 0.5).sum()), "n_wins_base": int((valid < 0.5).sum()),
            "n_draws": int((valid == 0.5).sum()), "n_total": len(valid),
            "discrete_win_rate": float(discrete.mean() * 100)}


def length_controlled_winrate(annotations: Sequence[Mapping[str, Any]], *, glm: str = "length_controlled_v1",
                              gamed: GamedAnnotations | str | Path | None = None,
                              instruction_difficulty: Mapping[int, float] | None = None,
                              solver: Literal["liblinear", "exact"] = "liblinear") -> LengthControlledResult:
    """Win rate and LC win rate of the model (output_2) against the baseline (output_1).

    Each annotation has output_1, output_2 (texts), preference (1..2, 1.5 draw, None missing), optionally
    generator_1/generator_2 and index (the instruction's position in the eval set; default: list position).
    """
    if glm not in GLMS:
        raise ArenaError(f"unknown GLM {glm!r}; " + close_match_hint(glm, GLMS, label="known"))
    features, gamed_lambda = GLMS[glm]
    if isinstance(gamed, (str, Path)):
        gamed = GamedAnnotations.from_csv(gamed)
    if gamed_lambda is not None and gamed is None:
        raise ArenaError(f"GLM {glm!r} needs AlpacaEval's gamed-baseline annotations",
                         fix="pass gamed=<path to df_gamed.csv from the Hugging Face dataset tatsu-lab/alpaca_eval>,"
                             " or use glm='length_controlled_minimal'")
    rows = list(annotations)
    metrics = head_to_head([r.get("preference") for r in rows])
    generators = [{r.get(k) for r in rows} for k in ("generator_1", "generator_2")]
    for key, names in zip(("generator_1", "generator_2"), generators):
        if len(names) > 1:
            raise ArenaError(f"annotations mix several {key} values: {sorted(map(str, names))}",
                             fix="compute the LC win rate of one model against one baseline at a time")
    if generators[0] == generators[1] and None not in generators[0]:  # the baseline against itself
        return LengthControlledResult(**metrics, length_controlled_winrate=50.0, lc_standard_error=0.0, glm=glm,
                                      glm_weights={f: 0.0 for f in features})

    x_model, x_test = _model_features(rows, features, gamed, instruction_difficulty)
    x, y, weight = x_model, _preferences([r.get("preference") for r in rows]) - 1.0, np.ones(len(rows))
    if gamed_lambda is not None and gamed is not None:
        x_gamed = np.column_stack([np.tanh(gamed.std_delta_len), gamed.instruction_difficulty,
                                   gamed.not_gamed_baseline.astype(float)])
        # gamed rows weigh lambda/2 each: "divided by 2 because there are two gamed baselines"
        x = np.vstack([x_gamed, x_model])
        y = np.concatenate([gamed.preference, y])
        weight = np.concatenate([np.where(gamed.not_gamed_baseline, 1.0, gamed_lambda / 2), weight])
    keep = ~np.isnan(y)
    fit = _fit_liblinear if solver == "liblinear" else _fit_exact if solver == "exact" else None
    if fit is None:
        raise ArenaError(f"unknown solver {solver!r}", fix="use 'liblinear' (matches alpaca_eval) or 'exact'")
    model, best_c = _cross_validated_fit(x[keep], y[keep], weight[keep], fit)
    predicted = model.proba(x_test)
    return LengthControlledResult(**metrics, length_controlled_winrate=float(predicted.mean() * 100),
                                  lc_standard_error=_sem(predicted) * 100, glm=glm,
                                  glm_weights=dict(zip(features, model.coef.tolist())), glm_C=best_c)


def _preferences(values: Sequence[Any]) -> np.ndarray:
    out = np.array([math.nan if v is None else float(v) for v in values], dtype=float)
    out[out == 0] = 1.5  # alpaca_eval's legacy encoding of a draw
    bad = ~np.isnan(out) & ((out < 1) | (out > 2))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise ArenaError(f"annotation {k}: preference {values[k]!r} is outside [1, 2]",
                         fix="use 1 (baseline output_1 wins), 2 (model output_2 wins), 1.5 (draw) or None")
    return out


def _sem(x: np.ndarray) -> float:
    return float(np.std(x, ddof=1) / math.sqrt(len(x))) if len(x) > 1 else math.nan


def _model_features(rows: list[Mapping[str, Any]], features: tuple[str, ...], gamed: GamedAnnotations | None,
                    difficulty: Mapping[int, float] | None) -> tuple[np.ndarray, np.ndarray]:
    """Design matrices of the model's annotations: as observed, and with the length difference set to 0."""
    lengths = np.empty((len(rows), 2))
    for k, r in enumerate(rows):
        for j, key in enumerate(("output_1", "output_2")):
            if not isinstance(r.get(key), str):
                raise ArenaError(f"annotation {k}: {key} must be the output text, got {type(r.get(key)).__name__}",
                                 fix="give every annotation both outputs: the length difference is a GLM term")
            lengths[k, j] = len(r[key])
    delta = lengths[:, 0] - lengths[:, 1]
    spread = float(np.std(delta, ddof=1)) if len(rows) > 1 else 0.0
    if not spread > 0:
        raise ArenaError("the length difference output_1 - output_2 is the same on every annotation",
                         fix="the LC win rate needs annotations with varying output lengths")
    columns = {"np.tanh(std_delta_len)": np.tanh(delta / spread),
               "not_gamed_baseline.astype(float)": np.ones(len(rows))}
    if "instruction_difficulty" in features:
        table = dict(difficulty) if difficulty is not None else gamed.difficulty() if gamed is not None else None
        if table is None:
            raise ArenaError("this GLM needs the instruction difficulties",
                             fix="pass gamed=<df_gamed.csv> or instruction_difficulty={index: difficulty}")
        index = [int(r["index"]) if r.get("index") is not None else k for k, r in enumerate(rows)]
        unknown = [i for i in index if i not in table]
        if unknown:
            raise ArenaError(f"no instruction difficulty for instruction index(es) {unknown[:5]}",
                             fix="annotations must follow the AlpacaEval eval set order (or carry its 'index')")
        columns["instruction_difficulty"] = np.array([table[i] for i in index], dtype=float)
    x = np.column_stack([columns[f] for f in features])
    x_test = x.copy()
    x_test[:, features.index("np.tanh(std_delta_len)")] = 0.0
    return x, x_test


def _cross_validated_fit(x: np.ndarray, p: np.ndarray, s: np.ndarray,
                         fit: Callable[..., _Predictor]) -> tuple[_Predictor, float]:
    """The package's LogisticRegressionCV with soft labels: each row is duplicated as a positive with
    weight p*s and a negative with weight (1-p)*s; GroupKFold keeps both copies in one fold."""
    g = len(p)
    if g < _N_SPLITS:
        raise ArenaError(f"only {g} annotated pairs; the GLM's {_N_SPLITS}-fold cross-validation needs more")
    # GroupKFold with equal group sizes deals groups round robin from the last one: group k -> (g-1-k) % 5
    fold = (g - 1 - np.arange(g)) % _N_SPLITS
    scores = np.empty((_N_SPLITS, len(_CS)))
    for f in range(_N_SPLITS):
        train, test = fold != f, fold == f
        # LogisticRegressionCV draws each C's liblinear seed in turn from one RandomState(123) per fold
        seeds = np.random.RandomState(_SEED)
        for c_index, c in enumerate(_CS):
            q = fit(x[train], p[train], s[train], c, seeds).proba(x[test])
            q = np.clip(np.concatenate([q, q]), 1e-15, 1 - 1e-15)
            truth = np.concatenate([p[test], 1 - (1 - p[test])])  # as the package rebuilds it from the copies
            sw = np.concatenate([s[test], s[test]])
            # the scorer's value: minus the (weighted) log loss, so higher is better
            scores[f, c_index] = np.mean(sw * (truth * np.log(q) + (1 - truth) * np.log(1 - q)))
    best = float(_CS[int(np.argmax(scores.sum(axis=0)))])
    return fit(x, p, s, best, _SEED), best


@dataclass(frozen=True)
class _Predictor:
    """A fitted GLM: its coefficients and its predicted probability that the model wins."""

    coef: np.ndarray
    proba: Callable[[np.ndarray], np.ndarray]


def _fit_liblinear(x: np.ndarray, p: np.ndarray, s: np.ndarray, c: float, seed: Any) -> _Predictor:
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError as exc:
        raise ArenaError("solver='liblinear' needs scikit-learn",
                         fix="pip install scikit-learn, or pass solver='exact' (scipy; can differ from alpaca_eval's "
                             "figure by a few hundredths of a point)") from exc
    # scikit-learn >= 1.8 spells the L1 penalty l1_ratio=1 and deprecates penalty="l1"
    l1 = {"l1_ratio": 1.0} if getattr(LogisticRegression(), "penalty", "deprecated") == "deprecated" \
        else {"penalty": "l1"}
    model = LogisticRegression(C=c, solver="liblinear", fit_intercept=False, random_state=seed, **l1)
    n = len(p)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        model.fit(np.vstack([x, x]), np.concatenate([np.ones(n), np.zeros(n)]),
                  sample_weight=np.concatenate([p * s, (1 - p) * s]))
    return _Predictor(model.coef_[0].copy(), lambda z: model.predict_proba(z)[:, 1])


def _fit_exact(x: np.ndarray, p: np.ndarray, s: np.ndarray, c: float, seed: Any) -> _Predictor:
    """min |w|_1 / c + sum s * cross_entropy(p, sigmoid(x w)), with w = u - v, u, v >= 0 (smooth, bounded)."""
    d = x.shape[1]

    def objective(uv: np.ndarray) -> tuple[float, np.ndarray]:
        z = x @ (uv[:d] - uv[d:])
        value = -float(np.sum(s * (p * log_expit(z) + (1 - p) * log_expit(-z))))
        grad = x.T @ (s * (expit(z) - p))
        return float(np.sum(uv)) / c + value, np.concatenate([grad + 1 / c, -grad + 1 / c])

    res = minimize(objective, np.zeros(2 * d), jac=True, method="L-BFGS-B", bounds=[(0, None)] * (2 * d),
                   options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 10_000})
    coef = res.x[:d] - res.x[d:]
    return _Predictor(coef, lambda z: expit(z @ coef))
