"""Journeys: how customers move from information search to purchase to service, and where they drop off.

Engines reduce the touchpoints to one row per customer (the first time each stage was reached, the entry channel)
or to a few steps per customer (their path); rates, intervals and quantiles are computed here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

import ibis
import numpy as np
import pandas as pd
from ibis.expr.types import Table

from cxm.analytics import stats
from cxm.analytics.dimensions import CUSTOMER_DIMENSIONS, NONE_LABEL, Query, check_query, shaped
from cxm.analytics.metrics import Tables
from cxm.core.errors import InvalidInput

STAGES = ("awareness", "purchase", "post_purchase")
JOURNEY_DIMENSIONS = ("channel", "store", "type", "direction")
FUNNEL_BREAKDOWNS = ("channel", *CUSTOMER_DIMENSIONS)
DAY = 86_400.0


@dataclass(frozen=True)
class JourneyQuery:
    """Which touchpoints make the journeys (filters, time window) and how to break the funnel down.

    `by` = channel groups customers by their entry channel (of their first awareness touchpoint); segment,
    country or customer_language by the customer's trait.
    """

    by: str | None = None
    filters: Query = field(default_factory=Query)
    top: int = 10
    steps: int = 5
    detail: bool = False


def check_journey(request: JourneyQuery) -> None:
    """Refuse unknown breakdowns, filters and sizes, naming what is allowed."""
    check_query(request.filters, JOURNEY_DIMENSIONS)
    if request.filters.by or request.filters.period:
        raise InvalidInput("journeys take filters and one `by`, not a metric breakdown or a period")
    if request.by is not None and request.by not in FUNNEL_BREAKDOWNS:
        raise InvalidInput(
            f"cannot break journeys down by '{request.by}'", details={"allowed": list(FUNNEL_BREAKDOWNS)}
        )
    if not 1 <= request.top <= 1000 or not 1 <= request.steps <= 20:
        raise InvalidInput("top must be 1-1000 and steps 1-20")


def staged_touchpoints(tables: Tables, request: JourneyQuery) -> Table:
    """The touchpoints of known stages, filtered, with their time in epoch seconds."""
    t = shaped(tables("touchpoints"), tables, request.filters, "occurred_at")
    t = t.filter(t.journey_stage.isin(STAGES), t.customer_id.notnull())
    return t.mutate(at=t.occurred_at.epoch_seconds().cast("int64"))


def stage_table(tables: Tables, request: JourneyQuery) -> Table:
    """One row per customer: when each stage was first reached (epoch seconds) and the breakdown's group."""
    t = staged_touchpoints(tables, request)
    firsts = t.group_by("customer_id").aggregate(
        **{f"{stage}_at": ibis.ifelse(t.journey_stage == stage, t.at, ibis.null("int64")).min() for stage in STAGES}
    )
    if request.by == "channel":
        entry = t.filter(t.journey_stage == STAGES[0]).select(person=t.customer_id, first=t.at, channel=t.channel)
        joined = firsts.left_join(entry, (firsts.customer_id == entry.person) & (firsts.awareness_at == entry.first))
        # Two touchpoints in the same second: the alphabetically first channel, the same on every engine.
        firsts = joined.group_by(["customer_id", *(f"{s}_at" for s in STAGES)]).aggregate(group=joined.channel.min())
    elif request.by is not None:
        people = tables("customers")
        joined = firsts.left_join(people, firsts.customer_id == people.customer_id)
        firsts = joined.select(*[firsts[c] for c in firsts.columns], group=joined[request.by])
    return firsts.order_by("customer_id")


def customer_stages(tables: Tables, request: JourneyQuery) -> pd.DataFrame:
    """The stage table as a DataFrame, with a `group` column (one group, "all", without a breakdown)."""
    check_journey(request)
    frame: pd.DataFrame = stage_table(tables, request).execute()
    # A stage nobody reached comes back as a column of None objects on some engines: numbers (NaN) everywhere.
    frame = frame.astype({f"{stage}_at": "float64" for stage in STAGES})
    if "group" not in frame.columns:
        frame["group"] = "all"
    frame["group"] = frame["group"].astype("object").where(frame["group"].notna(), NONE_LABEL)
    return frame


def funnel_flags(frame: pd.DataFrame) -> pd.DataFrame:
    """Per customer, whether each stage was reached in order (each first reached no earlier than the one before)."""
    flags = pd.DataFrame(index=frame.index)
    previous = None
    for stage in STAGES:
        at = frame[f"{stage}_at"]
        reached = at.notna() if previous is None else flags[previous] & (at >= frame[f"{previous}_at"])
        flags[stage] = reached.fillna(False).astype(bool)
        previous = stage
    return flags


FUNNEL_COLUMNS = [
    "group", "stage", "step", "reached", "customers", "conversion_pct", "conversion_ci_low", "conversion_ci_high",
    "dropoff_pct", "of_first_pct",
]  # fmt: skip


def funnel(frame: pd.DataFrame) -> pd.DataFrame:
    """Per group and stage: customers who reached it (at all, and in order), conversion from the step before."""
    flags = funnel_flags(frame)
    rows = []
    for group, members in frame.groupby("group", sort=True).groups.items():
        counts = [int(flags.loc[members, stage].sum()) for stage in STAGES]
        for step, stage in enumerate(STAGES):
            reached = int(frame.loc[members, f"{stage}_at"].notna().sum())
            rows.append([group, stage, step + 1, reached, counts[step], *_conversion(counts, step)])
    return pd.DataFrame(rows, columns=FUNNEL_COLUMNS)


def _conversion(counts: list[int], step: int) -> list[float]:
    """Conversion from the step before (Wilson CI), drop-off, and the share of the funnel's first step kept."""
    of_first = 100.0 * counts[step] / counts[0] if counts[0] else np.nan
    if step == 0 or counts[step - 1] == 0:
        return [np.nan, np.nan, np.nan, np.nan, of_first]
    share = stats.proportion(counts[step], counts[step - 1])
    return [share.value, share.ci_low, share.ci_high, 100.0 - share.value, of_first]


def stage_times(frame: pd.DataFrame) -> pd.DataFrame:
    """Time from first reaching a stage to first reaching the next (customers who went on, in order), in days."""
    flags = funnel_flags(frame)
    rows = []
    for group, members in frame.groupby("group", sort=True).groups.items():
        for before, after in pairwise(STAGES):
            went = members[flags.loc[members, after].to_numpy()]
            days = ((frame.loc[went, f"{after}_at"] - frame.loc[went, f"{before}_at"]) / DAY).to_numpy(float)
            rows.append([group, before, after, len(days), *_quantiles(days)])
    columns = ["group", "from_stage", "to_stage", "n", "mean_days", "median_days", "p75_days", "p90_days"]
    return pd.DataFrame(rows, columns=columns)


def _quantiles(days: np.ndarray) -> list[float]:
    """Mean, median, p75, p90 (linear interpolation, as the engines' continuous quantiles)."""
    if not len(days):
        return [np.nan] * 4
    return [float(days.mean()), *(float(q) for q in np.quantile(days, [0.5, 0.75, 0.9]))]


def path_steps(tables: Tables, request: JourneyQuery) -> Table:
    """Each customer's first `steps` steps: consecutive touchpoints of the same stage (or stage:channel) are one."""
    t = staged_touchpoints(tables, request)
    label = t.journey_stage + ":" + t.channel if request.detail else t.journey_stage
    t = t.mutate(label=label)
    ordered = ibis.window(group_by=t.customer_id, order_by=[t.at, t.interaction_id])
    t = t.mutate(previous=t.label.lag().over(ordered))
    kept = t.filter(t.previous.isnull() | (t.label != t.previous))
    numbered = ibis.window(group_by=kept.customer_id, order_by=[kept.at, kept.interaction_id])
    kept = kept.mutate(position=ibis.row_number().over(numbered))
    kept = kept.filter(kept.position < request.steps)
    return kept.select("customer_id", "position", "label").order_by(["customer_id", "position"])


def joined_paths(steps: pd.DataFrame, most: int) -> pd.Series:
    """One path text per customer from their numbered steps (column by column: fast for many customers)."""
    wide = steps.pivot(index="customer_id", columns="position", values="label")
    # Ibis numbers rows from 0 on every engine.
    paths = wide[0].astype("object") if 0 in wide.columns else pd.Series(dtype="object")
    for position in range(1, most):
        if position in wide.columns:
            step = wide[position]
            paths = paths.where(step.isna(), paths + " > " + step)
    return paths


def common_paths(tables: Tables, request: JourneyQuery) -> pd.DataFrame:
    """The most common paths: customers taking each, share of all customers with a journey, rank."""
    check_journey(request)
    paths = joined_paths(path_steps(tables, request).execute(), request.steps)
    counted = paths.value_counts().rename_axis("path").reset_index(name="customers")
    counted = counted.sort_values(["customers", "path"], ascending=[False, True], ignore_index=True)
    counted["share_pct"] = 100.0 * counted["customers"] / max(len(paths), 1)
    counted["steps"] = counted["path"].str.count(" > ") + 1
    counted["rank"] = counted["customers"].rank(ascending=False, method="min").astype(int)
    counted["purchased"] = counted["path"].str.contains("(?:^|> )purchase", regex=True)
    top: pd.DataFrame = counted.head(request.top)[["rank", "path", "customers", "share_pct", "steps", "purchased"]]
    return top
