"""Latest significant changes: groups whose latest month with data differs from the month before, judged after a
Benjamini-Hochberg adjustment of the p-values for the many groups tested at once."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from scipy import stats as scipy_stats

from cxm.analytics import stats
from cxm.analytics.dimensions import Query
from cxm.analytics.engines import Engine
from cxm.analytics.metrics import SCORE_METRICS, STEP, Tables, kind_histograms, response_rate_counts

CORRECTION = "Benjamini-Hochberg"
# What each metric is broken down by: score answers by where they happened, invitations by what they have.
BREAKDOWNS = {"score": ("channel", "journey_stage"), "response_rate": ("survey", "sent_via")}
COLUMNS = ["metric", "dimension", "group", "period", "value", "n", "previous_n", "change", "change_ci_low"]
COLUMNS += ["change_ci_high", "p_value", "p_adjusted", "direction"]
Counts = dict[tuple[str, pd.Timestamp], Any]  # (group, month) -> a score histogram or (answered, invited)


def significant_changes(
    engine: Engine,
    *,
    now: datetime,
    metrics: Sequence[str] = ("nps", "csat", "ces", "response_rate"),
    alpha: float = 0.05,
    min_n: int = 30,
) -> pd.DataFrame:
    """Per metric and breakdown, the groups whose latest month with data (before `now`'s month) changed from the
    month before, with n >= min_n in both; every such test's p-value is adjusted (Benjamini-Hochberg, so about
    `alpha` of the listed changes may be chance) and those under `alpha` kept, largest change first. Months are
    those of the engine's time zone."""
    # Months before `now`'s, in the engine's zone (grouped by what each metric is broken down by).
    months = Query(period="month", until=_month_start(now, engine.zone).to_pydatetime(), zone=engine.zone)
    with engine.connect() as tables:
        tested = [*_score_tests(tables, metrics, months, min_n), *_rate_tests(tables, metrics, months, min_n)]
    frame = pd.DataFrame(tested, columns=[c for c in COLUMNS if c not in ("p_adjusted", "direction")])
    frame["p_adjusted"] = adjusted(frame["p_value"].tolist())
    kept = frame[frame["p_adjusted"] < alpha].copy()
    kept["direction"] = ["rise" if change > 0 else "drop" for change in kept["change"]]
    return kept.reindex(kept["change"].abs().sort_values(ascending=False).index).reset_index(drop=True)[COLUMNS]


def _month_start(now: datetime, zone: str) -> pd.Timestamp:
    """The start of `now`'s month in the zone (a moment without a zone is UTC), as an aware time."""
    moment = pd.Timestamp(now if now.tzinfo else now.replace(tzinfo=UTC)).tz_convert(zone)
    return moment.tz_localize(None).to_period("M").to_timestamp().tz_localize(zone)


def adjusted(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (the false discovery rate at which each test would be listed)."""
    if not p_values:
        return []
    return [float(p) for p in scipy_stats.false_discovery_control(list(p_values), method="bh")]


def _score_tests(tables: Tables, metrics: Sequence[str], months: Query, min_n: int) -> Iterator[list[Any]]:
    """Every score metric counted in one engine query by channel x stage x month, then summed per breakdown."""
    wanted = [SCORE_METRICS[name] for name in metrics if name in SCORE_METRICS]
    if not wanted:
        return
    query = replace(months, by=BREAKDOWNS["score"])
    counted = kind_histograms(tables, [metric.kind for metric in wanted], query)
    for metric in wanted:
        rows = _latest_two(counted[counted["kind"] == metric.kind])
        for dimension in BREAKDOWNS["score"]:
            summed: pd.DataFrame = rows.groupby([dimension, "period", "score"], as_index=False)[["count"]].sum()
            histograms: Counts = {}
            for record in summed.to_dict("records"):
                key = (str(record[dimension]), record["period"])
                histograms.setdefault(key, {})[int(record["score"])] = int(record["count"])
            yield from _compared(metric.name, dimension, histograms, metric.estimate, metric.compare, min_n)


def _rate_tests(tables: Tables, metrics: Sequence[str], months: Query, min_n: int) -> Iterator[list[Any]]:
    """The response rate by survey and by the channel invitations went out through, in one engine query."""
    if "response_rate" not in metrics:
        return
    query = replace(months, by=BREAKDOWNS["response_rate"])
    rows = _latest_two(response_rate_counts(tables, query))
    for dimension in BREAKDOWNS["response_rate"]:
        summed = rows.groupby([dimension, "period"], as_index=False)[["answered", "invited"]].sum()
        counts: Counts = {
            (str(r[dimension]), r["period"]): (int(r["answered"]), int(r["invited"])) for r in summed.to_dict("records")
        }
        yield from _compared("response_rate", dimension, counts, _rate, stats.proportion_compare, min_n)


def _rate(counts: tuple[int, int]) -> stats.Estimate:
    return stats.proportion(*counts)


def _latest_two(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows of the latest month with data and of the calendar month before it."""
    if rows.empty:
        return rows
    latest = rows["period"].max()
    return rows[rows["period"].isin([latest, latest - STEP["month"]])]


def _compared(
    metric: str, dimension: str, counts: Counts, estimate: Any, compare: Any, min_n: int
) -> Iterator[list[Any]]:
    """Each group's latest month against its month before, where both have n >= min_n (smaller ones not tested)."""
    latest = max((period for _, period in counts), default=None)
    for (group, period), found in counts.items():
        before = counts.get((group, period - STEP["month"]))
        if period != latest or before is None or min(_size(found), _size(before)) < min_n:
            continue
        now, then = estimate(found), estimate(before)
        change = compare(now, then)
        tested = [now.value, now.n, then.n, change.difference, change.ci_low, change.ci_high, change.p_value]
        yield [metric, dimension, group, latest, *tested]


def _size(counts: Any) -> int:
    """Answers in a histogram, or invitations in (answered, invited)."""
    return int(counts[1]) if isinstance(counts, tuple) else sum(counts.values())
