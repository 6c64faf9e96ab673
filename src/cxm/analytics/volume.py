"""Response volume: how many responses each group got per period, and whether that changed beyond chance."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any

import pandas as pd
from ibis.expr.types import Table

from cxm.analytics import stats
from cxm.analytics.dimensions import SCORE_DIMENSIONS, Query, check_query, group_columns, shaped
from cxm.analytics.engines import RESPONSE_ROWS
from cxm.analytics.metrics import STEP, Tables, counted_spans, labelled, period_bounds, with_partial

ANSWER_DIMENSIONS = {"question"}  # what a response's own row (no scored answer) has no value for
COLUMNS = ["value", "n", "ci_low", "ci_high", "ci_method", "small_sample"]
CHANGES = ["change", "change_ci_low", "change_ci_high", "p_value", "compared_with"]


def response_counts(tables: Tables, query: Query) -> pd.DataFrame:
    """Completed responses per group, each counted once however many questions it answered (or none scored); per
    period also the time of the group's first response ever (its days are counted from then)."""
    check_query(query, SCORE_DIMENSIONS)
    table = shaped(_rows(tables, query), tables, query, "completed_at")
    keys = group_columns(query)
    measures = {"count": table.response_id.nunique()}
    counted = table.group_by(keys).aggregate(**measures) if keys else table.aggregate(**measures)
    found: pd.DataFrame = labelled(counted.execute(), keys) if keys else counted.execute()
    if query.period is None:
        return found
    begun = _first_responses(tables, query)
    return found.merge(begun, on=list(query.by), how="left") if query.by else found.assign(**begun.iloc[0])


def _first_responses(tables: Tables, query: Query) -> pd.DataFrame:
    """Each group's first response under the query's filters but at any time: when its counting began."""
    # Not the first inside `since`: the group was answering before, and its first period there is whole.
    whole = replace(query, period=None, since=None, until=None)
    table = shaped(_rows(tables, whole), tables, whole, "completed_at")
    groups = list(query.by)
    measures = {"first_seen": table.completed_at.min()}
    counted = table.group_by(groups).aggregate(**measures) if groups else table.aggregate(**measures)
    return labelled(counted.execute(), groups) if groups else counted.execute()


def _rows(tables: Tables, query: Query) -> Table:
    """The rows responses are counted from: every completed response's, or, by question, the answers to it."""
    # A response that answered no scored question has no question to be counted under (nor to be kept by a filter).
    return tables("scores") if ANSWER_DIMENSIONS & set(query.columns()) else tables(RESPONSE_ROWS)


def volume_table(counts: pd.DataFrame, query: Query, now: datetime | None = None) -> pd.DataFrame:
    """One row per group (and period): the count with its exact Poisson 95% CI; per period (each group's from its
    first response on, periods without any included) the change of the rate per day counted against the period
    before, with its CI and exact p-value."""
    keys = group_columns(query)
    if query.period is None:
        counted = counts[counts["count"].fillna(0) > 0] if keys else counts.fillna({"count": 0})
        frame = _counted(counted, keys)
        frame[CHANGES] = None  # groups are not compared by volume: a bigger channel simply gets more
        return frame.sort_values(keys, ignore_index=True) if keys else frame
    rows = _every_period(counts[counts["count"].fillna(0) > 0], keys, query)
    first, last = counted_spans(pd.to_datetime(rows["period"]), query, now, rows["first_seen"])
    seconds = (last - first).dt.total_seconds().tolist()
    frame = with_partial(_counted(rows, keys), query, now, rows["first_seen"])
    frame[CHANGES] = pd.DataFrame(list(_changes(frame, seconds, keys[:-1])), columns=CHANGES, index=frame.index)
    return frame


def _counted(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Each row's count with its exact interval (a whole number, needing no large-sample warning)."""
    found = [stats.count(int(events)) for events in rows["count"]]
    figures = [[e.n, e.n, e.ci_low, e.ci_high, e.method, False] for e in found]
    return pd.concat([rows[keys].reset_index(drop=True), pd.DataFrame(figures, columns=COLUMNS)], axis=1)


def _every_period(counts: pd.DataFrame, keys: list[str], query: Query) -> pd.DataFrame:
    """Every group's periods from its first response to the table's last period, those without responses at 0 (a
    drop to nothing is news), in order; with each group's first response's time (plain UTC)."""
    groups, period = keys[:-1], str(query.period)
    if counts.empty:
        return counts.assign(first_seen=pd.Series(dtype="datetime64[ns]"))
    # Live PostgreSQL hands times over with their zone, the store without: both as plain UTC, as periods are.
    seen_at = pd.to_datetime(counts["first_seen"], utc=True).dt.tz_localize(None)
    periods = pd.to_datetime(counts["period"])
    # A group the all-time query did not name (it should always) starts with its first period rather than vanish.
    counts = counts.assign(period=periods, first_seen=seen_at.fillna(periods))
    seen = counts.groupby(groups, dropna=False)["first_seen"].min() if groups else counts["first_seen"].min()
    starts = _periods(periods.min(), periods.max(), period)
    rows = []
    ends = dict(zip(starts, _utc_ends(starts, query), strict=True))
    for key, begun in seen.items() if groups else [((), seen)]:
        named = key if isinstance(key, tuple) else (key,)
        rows += [(*named, start, begun) for start in starts if ends[start] > begun]
    grid = pd.DataFrame(rows, columns=[*keys, "first_seen"])
    found = grid.merge(counts.drop(columns="first_seen"), on=keys, how="left")
    return found.fillna({"count": 0}).sort_values(keys, ignore_index=True)


def _utc_ends(starts: list[pd.Timestamp], query: Query) -> list[pd.Timestamp]:
    """When each period ended, as a plain UTC time (its start is a wall-clock time of the query's zone)."""
    return period_bounds(pd.Series(starts, dtype="datetime64[ns]"), query)[1].tolist()


def _periods(earliest: pd.Timestamp, latest: pd.Timestamp, period: str) -> list[pd.Timestamp]:
    """The starts of every period from the earliest to the latest."""
    found = [earliest]
    while found[-1] < latest:
        found.append(found[-1] + STEP[period])
    return found


def _changes(frame: pd.DataFrame, seconds: list[float], groups: list[str]) -> Iterator[list[Any]]:
    """Each period against the group's period before (the row before, as every period is there), as rates per
    second counted."""
    named = list(frame[groups].itertuples(index=False, name=None)) if groups else [()] * len(frame)
    counts = frame["n"].astype(int).tolist()
    for index, events in enumerate(counts):
        before = index - 1
        if index == 0 or named[before] != named[index] or events + counts[before] == 0:
            yield [None, None, None, None, None]
            continue
        if min(seconds[index], seconds[before]) <= 0:  # a period wholly after now (a clock ahead): nothing to weigh
            yield [None, None, None, None, None]
            continue
        found = stats.rate_compare(stats.count(events), seconds[index], stats.count(counts[before]), seconds[before])
        finite = [value if math.isfinite(value) else None for value in (found.difference, found.ci_low, found.ci_high)]
        yield [*finite, found.p_value, "previous period"]  # from none at all, no % change: its p-value still tells
