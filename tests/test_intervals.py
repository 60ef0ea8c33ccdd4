"""Intervals of metric means: a proportion's interval stays inside [0, 1] (Wilson), and says which it is."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gage_eval.metrics.aggregate import NORMAL, NORMAL_CLIPPED, WILSON, RunningStat, wilson_interval

scipy_stats = pytest.importorskip("scipy.stats")


@st.composite
def counts(draw: st.DrawFn) -> tuple[int, int]:
    n = draw(st.integers(min_value=1, max_value=5000))
    return draw(st.integers(min_value=0, max_value=n)), n


@settings(max_examples=400, deadline=None)
@given(counts())
def test_wilson_interval_is_inside_0_1_contains_p_hat_and_matches_scipy(kn: tuple[int, int]) -> None:
    k, n = kn
    low, high = wilson_interval(k, n)
    assert 0.0 <= low <= k / n <= high <= 1.0
    ref = scipy_stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert low == pytest.approx(ref.low, abs=1e-12) and high == pytest.approx(ref.high, abs=1e-12)
    if 0 < k < n:
        assert low < k / n < high  # a strictly interior proportion never gets a zero-width interval


@settings(max_examples=200, deadline=None)
@given(counts())
def test_mean_of_0_1_values_reports_wilson_and_keeps_lm_eval_stderr(kn: tuple[int, int]) -> None:
    k, n = kn
    stat = RunningStat("mean")
    for i in range(n):
        stat.add(1.0 if i < k else 0.0)
    out = stat.result()
    assert out["value"] == pytest.approx(k / n)
    assert out["ci_method"] == WILSON and out["ci95"] == wilson_interval(k, n)
    if n >= 2:  # sample stderr (ddof=1) as lm-eval's mean_stderr: sqrt(p(1-p)/(n-1))
        assert out["stderr"] == pytest.approx(math.sqrt(k / n * (1 - k / n) / (n - 1)), abs=1e-12)


def test_small_and_extreme_counts_which_the_normal_interval_got_wrong() -> None:
    for values, inside in (([1.0, 1.0, 1.0], (0.43, 1.0)), ([0.0] * 20, (0.0, 0.17)), ([1.0, 0.0], (0.09, 0.91))):
        stat = RunningStat()
        for v in values:
            stat.add(v)
        low, high = stat.result()["ci95"]
        assert 0.0 <= low < high <= 1.0 and low == pytest.approx(inside[0], abs=0.01)
        assert high == pytest.approx(inside[1], abs=0.01)


def test_non_binary_means_use_the_normal_interval_clipped_only_for_values_in_0_1() -> None:
    probs, latencies = RunningStat(), RunningStat()
    for v in (0.001, 0.002, 0.0, 0.9):
        probs.add(v)
    for v in (120.0, 80.0, 95.0):
        latencies.add(v)
    p, lat = probs.result(), latencies.result()
    assert p["ci_method"] == NORMAL_CLIPPED and p["ci95"][0] == 0.0  # mean - 1.96 se < 0 is cut at 0
    assert lat["ci_method"] == NORMAL
    assert lat["ci95"][0] == pytest.approx(lat["value"] - 1.959963984540054 * lat["stderr"])
