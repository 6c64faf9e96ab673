"""Response volume: how many responses each group got per period, and whether that changed beyond chance."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pandas as pd

from cxm.analytics import stats
from cxm.analytics.dimensions import SCORE_DIMENSIONS, Query, check_query, group_columns, shaped
from cxm.analytics.metrics import STEP, Tables, counted_spans, labelled, with_partial

COLUMNS = ["value", "n", "ci_low", "ci_high", "ci_method", "small_sample"]
CHANGES = ["change", "change_ci_low", "change_ci_high", "p_value", "compared_with"]


def response_counts(tables: Tables, query: Query) -> pd.DataFrame:
    """Completed responses (with a scored answer) per group, each counted once however many questions it answered."""
    check_query(query, SCORE_DIMENSIONS)
    table = shaped(tables("scores"), tables, query, "completed_at")
    keys = group_columns(query)
    measures = {"count": table.response_id.nunique()}
    counted = table.group_by(keys).aggregate(**measures) if keys else table.aggregate(**measures)
    found: pd.DataFrame = counted.execute()
    return labelled(found, keys) if keys else found


def volume_table(counts: pd.DataFrame, query: Query, now: datetime | None = None) -> pd.DataFrame:
    """One row per group (and period): the count with its exact Poisson 95% CI and, per period, the change of the
    rate per day counted against the previous period, with its CI and exact p-value."""
    keys = group_columns(query)
    counts = counts[counts["count"].fillna(0) > 0]
    estimates = {tuple(row[k] for k in keys): stats.count(int(row["count"])) for row in counts.to_dict("records")}
    # A count is a whole number, and its exact interval needs no large-sample warning.
    rows = [[*key, e.n, e.n, e.ci_low, e.ci_high, e.method, False] for key, e in estimates.items()]
    frame = pd.DataFrame(rows, columns=[*keys, *COLUMNS])
    changes = list(_changes(estimates, query, now)) if query.period is not None else []
    frame[CHANGES] = pd.DataFrame(changes, columns=CHANGES, index=frame.index) if changes else None
    return with_partial(frame.sort_values(keys, ignore_index=True), query, now) if keys else frame


def _changes(
    estimates: dict[tuple[Any, ...], stats.Estimate], query: Query, now: datetime | None
) -> Iterator[list[Any]]:
    """Each group's period against its previous one, as rates per second counted (groups are never compared with
    each other: a channel with more customers simply gets more responses)."""
    assert query.period is not None
    starts = pd.Series(sorted({key[-1] for key in estimates}), dtype="datetime64[ns]")
    first, last = counted_spans(starts, query, now)
    counted = dict(zip(starts, (last - first).dt.total_seconds(), strict=True))
    for key, estimate in estimates.items():
        before = (*key[:-1], key[-1] - STEP[query.period])
        other = estimates.get(before)
        if other is None or counted.get(key[-1], 0) <= 0 or counted.get(before[-1], 0) <= 0:
            yield [None, None, None, None, None]
            continue
        found = stats.rate_compare(estimate, counted[key[-1]], other, counted[before[-1]])
        yield [found.difference, found.ci_low, found.ci_high, found.p_value, "previous period"]
