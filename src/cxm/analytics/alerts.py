"""Latest significant changes: groups whose latest complete month differs significantly from the month before."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pandas as pd

from cxm.analytics.dimensions import Query
from cxm.analytics.engines import Engine
from cxm.analytics.metrics import SCORE_METRICS, STEP, score_histogram, score_table

COLUMNS = ["metric", "dimension", "group", "period", "value", "n", "previous_n", "change", "change_ci_low"]
COLUMNS += ["change_ci_high", "p_value", "direction"]


def significant_changes(
    engine: Engine,
    *,
    now: datetime,
    metrics: Sequence[str] = ("nps", "csat", "ces"),
    by: Sequence[str] = ("channel", "journey_stage"),
    alpha: float = 0.05,
    min_n: int = 30,
) -> pd.DataFrame:
    """Per metric and breakdown, the groups whose latest complete month (before `now`'s) changed with p < alpha and
    n >= min_n in both months; largest change first."""
    current = pd.Timestamp(now.replace(tzinfo=None)).to_period("M").to_timestamp()
    found = []
    with engine.connect() as tables:
        for name in metrics:
            for dimension in by:
                query = Query(by=[dimension], period="month", until=current.to_pydatetime())
                table = score_table(score_histogram(tables, SCORE_METRICS[name], query), SCORE_METRICS[name], query)
                found.append(_latest(table, name, dimension, alpha, min_n))
    frame = pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=COLUMNS)
    return frame.reindex(frame["change"].abs().sort_values(ascending=False).index).reset_index(drop=True)


def _latest(table: pd.DataFrame, metric: str, dimension: str, alpha: float, min_n: int) -> pd.DataFrame:
    """The significant rows of the table's latest month, with the previous month's n."""
    if table.empty:
        return pd.DataFrame(columns=COLUMNS)
    latest = table["period"].max()
    before = table[table["period"] == latest - STEP["month"]].set_index(dimension)["n"]
    rows = table[table["period"] == latest].copy()
    rows["previous_n"] = rows[dimension].map(before).fillna(0).astype(int)
    kept = rows[(rows["p_value"] < alpha) & (rows["n"] >= min_n) & (rows["previous_n"] >= min_n)]
    kept = kept.rename(columns={dimension: "group"}).assign(metric=metric, dimension=dimension)
    kept["direction"] = ["rise" if change > 0 else "drop" for change in kept["change"]]
    result: pd.DataFrame = kept[COLUMNS]
    return result
