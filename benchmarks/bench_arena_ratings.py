"""Arena ratings: bootstrap speed and interval coverage on synthetic tournaments with known strengths.

6 players (Elo strengths -250..250), 3000 games each tournament, ties possible. Prints the time of a
1000-round Bradley-Terry bootstrap (target < 5 s on 2 cores) and the share of 95% intervals that contain
the true (mean-centred) strength over repeated tournaments (nominal 0.95).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.test_arena_ratings import NAMES, STRENGTHS, tournament  # noqa: E402

from gage_eval.arena.ratings import bootstrap_ratings  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tournaments", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=1000)
    args = ap.parse_args()
    times, covered, total = [], 0, 0
    for seed in range(args.tournaments):
        battles = tournament(np.random.default_rng(seed))
        t0 = time.perf_counter()
        intervals = bootstrap_ratings(battles, "bt", rounds=args.rounds, seed=seed, init_rating=0.0)
        times.append(time.perf_counter() - t0)
        for name, truth in zip(NAMES, STRENGTHS - STRENGTHS.mean()):
            covered += intervals[name].ci_low <= truth <= intervals[name].ci_high
            total += 1
    times.sort()
    print(f"bootstrap of {args.rounds} rounds on 3000 battles: median {times[len(times) // 2]:.2f} s, "
          f"max {times[-1]:.2f} s (target < 5 s)")
    print(f"95% interval coverage of the true strengths: {covered / total:.3f} over {total} intervals "
          f"({args.tournaments} tournaments x 6 players)")


if __name__ == "__main__":
    main()
