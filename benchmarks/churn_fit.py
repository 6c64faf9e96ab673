"""Churn model speed: the fit and scoring alone on one BLAS/OpenMP thread (what cxm does) vs the libraries' default
thread pools, on the default demo company.

Reads the demo database's synced store (`benchmarks/pages.py --database` makes one), computes the two cut-offs'
features once, then alternates the two ways --rounds times, timing fit + probabilities + reasons. Prints the load
with every figure; asserts nothing.

    .venv/bin/python benchmarks/churn_fit.py --database cxm.db [--rounds 6]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pandas as pd

from cxm.analytics import churn
from cxm.analytics import service as analytics_service
from cxm.analytics.churn_features import ChurnSettings, feature_names, features_at
from cxm.config import Settings

WAYS: dict[str, Callable[[], AbstractContextManager[None]]] = {
    "one thread": churn.one_thread,
    "default threads": contextlib.nullcontext,
}


def fit_and_score_ms(train: pd.DataFrame, scored: pd.DataFrame) -> float:
    """Milliseconds of one fit, scoring and reasons."""
    started = time.perf_counter()
    model = churn.fit(train, feature_names())
    model.probability(scored)
    churn.reasons(model, scored)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    """Time both ways, alternating, and print each run and the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    engine = analytics_service.engine_for(Settings(database_url=f"sqlite:///{args.database}"))
    settings, now = ChurnSettings(), churn.data_now(engine)
    with engine.connect() as tables:
        train, scored = features_at(tables, now - settings.horizon, settings), features_at(tables, now, settings)
    print(f"{len(train)} customers to train on, {len(scored)} scored")
    times: dict[str, list[float]] = {name: [] for name in WAYS}
    for _ in range(args.rounds):
        for name, limit in WAYS.items():
            churn.one_thread = limit  # fit() looks it up when it runs
            times[name].append(fit_and_score_ms(train, scored))
            print(f"{name:<16} {times[name][-1]:7.0f} ms   load {os.getloadavg()[0]:.1f}")
    churn.one_thread = WAYS["one thread"]
    for name, found in times.items():
        print(f"{name:<16} median {statistics.median(found):.0f} ms (min {min(found):.0f}, max {max(found):.0f})")


if __name__ == "__main__":
    main()
