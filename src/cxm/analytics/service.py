"""Analytics: the one way the API, the CLI and the library ask for figures or sync the store."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, replace
from typing import Any

import ibis
import pandas as pd

from cxm.analytics import experience, journeys, loyalty, stats
from cxm.analytics.alerts import significant_changes
from cxm.analytics.charts import funnel_chart, quadrant_chart
from cxm.analytics.churn_features import ChurnSettings
from cxm.analytics.dimensions import (
    INVITATION_DIMENSIONS,
    NONE_LABEL,
    PERIODS,
    SCORE_DIMENSIONS,
    TIME_DIMENSIONS,
    Query,
    check_query,
    group_columns,
)
from cxm.analytics.drivers import DriverQuery, key_drivers
from cxm.analytics.engines import AnalyticsUnavailable, Engine, analytics_url, open_engine
from cxm.analytics.experience import ExperienceQuery
from cxm.analytics.freshness import sync_if_changed, sync_store, warm_up
from cxm.analytics.journeys import JourneyQuery
from cxm.analytics.loyalty import RUNGS, LadderRules, LoyaltyQuery
from cxm.analytics.metrics import (
    RESPONSE_RATE,
    SCORE_METRICS,
    Tables,
    kind_histograms,
    response_rate_counts,
    response_time_stats,
    response_time_values,
    scaled,
    score_counts,
    score_histogram,
    score_table,
    with_partial,
)
from cxm.analytics.profiles import customer_insight, insight_ready, prepare_insights
from cxm.analytics.retention import RetentionInputs
from cxm.analytics.risk import (
    ChurnRequest,
    churn_evaluation,
    churn_request,
    churn_risk_of,
    churn_scored,
    churn_table,
    retention_economics,
    value_at_risk,
)
from cxm.analytics.sync import SyncReport
from cxm.analytics.themes import theme_impact as _theme_impact
from cxm.analytics.value import Economics
from cxm.analytics.volume import response_counts, volume_table
from cxm.analytics.zones import checked_zone
from cxm.config import Settings
from cxm.core.errors import InvalidInput, NotFound

METRICS = (*SCORE_METRICS, "responses", "response_rate", "first_response_time")
DEFAULT_TARGET_SECONDS = 3600.0
ALLOWED = {"response_rate": INVITATION_DIMENSIONS, "first_response_time": TIME_DIMENSIONS}

__all__ = [
    "METRICS",
    "NONE_LABEL",
    "PERIODS",
    "RUNGS",
    "AnalyticsUnavailable",
    "ChurnRequest",
    "ChurnSettings",
    "DriverQuery",
    "Economics",
    "Engine",
    "ExperienceQuery",
    "JourneyQuery",
    "LadderRules",
    "LoyaltyQuery",
    "Query",
    "RetentionInputs",
    "SyncReport",
    "churn_evaluation",
    "churn_request",
    "churn_risk_of",
    "churn_scored",
    "churn_table",
    "customer_insight",
    "distribution",
    "engine_for",
    "funnel_chart",
    "insight_ready",
    "key_drivers",
    "metric",
    "metrics",
    "metrics_with_trend",
    "prepare_insights",
    "quadrant_chart",
    "retention_economics",
    "significant_changes",
    "sync_if_changed",
    "sync_store",
    "theme_impact",
    "touchpoint_counts",
    "value_at_risk",
    "warm_up",
]


def engine_for(settings: Settings) -> Engine:
    """The analytics engine the settings name (DuckDB beside SQLite by default)."""
    found = open_engine(analytics_url(settings), keep_open=settings.analytics_keep_open)
    found.zone = checked_zone(settings.timezone)
    return found


def metric(engine: Engine, name: str, query: Query, *, target_seconds: float = DEFAULT_TARGET_SECONDS) -> pd.DataFrame:
    """A metric as a table: one row per group (and period) with value, n, 95% CI, change and p-value."""
    return metrics(engine, [(name, query)], target_seconds=target_seconds)[0]


def metrics(
    engine: Engine, asked: Sequence[tuple[str, Query]], *, target_seconds: float = DEFAULT_TARGET_SECONDS
) -> list[pd.DataFrame]:
    """Several metrics on one connection to the engine (a dashboard page asks for many at once)."""
    for name, query in asked:
        if name not in METRICS:
            raise InvalidInput(f"unknown metric '{name}'", details={"metrics": list(METRICS)})
        check_query(query, ALLOWED.get(name, SCORE_DIMENSIONS))
    if not (math.isfinite(target_seconds) and target_seconds > 0):
        raise InvalidInput(f"the first-response target must be a positive number of seconds, not {target_seconds}")
    with engine.connect() as tables:
        counted = _score_histograms(tables, asked)
        return [
            _computed(tables, engine, name, query, target_seconds, counted.get(index))
            for index, (name, query) in enumerate(asked)
        ]


def _score_histograms(tables: Tables, asked: Sequence[tuple[str, Query]]) -> dict[int, pd.DataFrame]:
    """The histogram of each score metric asked (by position): metrics asking the same query share one engine
    query grouped by kind of score (a page's NPS, CSAT and CES cost one query, not three)."""
    shared: dict[str, list[int]] = {}
    for index, (name, query) in enumerate(asked):
        if name in SCORE_METRICS:
            shared.setdefault(repr(query), []).append(index)
    found = {}
    for indexes in shared.values():
        kinds = [SCORE_METRICS[asked[i][0]].kind for i in indexes]
        counted = kind_histograms(tables, kinds, asked[indexes[0]][1])
        for i in indexes:
            rows = counted[counted["kind"] == SCORE_METRICS[asked[i][0]].kind]
            found[i] = rows.drop(columns="kind").reset_index(drop=True)
    return found


def metrics_with_trend(
    engine: Engine, asked: Sequence[tuple[str, Query]], period: str
) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    """Each metric over its whole query and per period, on one connection; score metrics and the response rate
    are counted once per period and summed for the whole (one engine query instead of two)."""
    for name, query in asked:
        check_query(replace(query, period=period), ALLOWED.get(name, SCORE_DIMENSIONS))
    by_period = [(name, replace(query, period=period)) for name, query in asked]
    with engine.connect() as tables:
        counted = _score_histograms(tables, by_period)
        return [
            _with_trend(tables, engine, name, query, period, counted.get(index))
            for index, (name, query) in enumerate(asked)
        ]


def _with_trend(
    tables: Tables, engine: Engine, name: str, query: Query, period: str, histogram: pd.DataFrame | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    by_period = replace(query, period=period)
    keys = list(query.by)
    if name in SCORE_METRICS:
        metric = scaled(tables, SCORE_METRICS[name], query)
        assert histogram is not None
        summed: pd.DataFrame = histogram.groupby([*keys, "score"], as_index=False)[["count"]].sum()
        return score_table(summed, metric, query), score_table(histogram, metric, by_period)
    if name == "response_rate":
        counts = response_rate_counts(tables, by_period)
        return _rates(_summed_counts(counts, keys, ["invited", "answered"]), query), _rates(counts, by_period)
    if name == "responses":  # each response lies in one period: the whole is the periods' sum, not another DISTINCT
        counts = response_counts(tables, by_period)
        return volume_table(_summed_counts(counts, keys, ["count"]), query), volume_table(counts, by_period)
    target = DEFAULT_TARGET_SECONDS
    whole = _computed(tables, engine, name, query, target, None)
    return whole, _computed(tables, engine, name, by_period, target, None)


def _summed_counts(counts: pd.DataFrame, keys: list[str], columns: list[str]) -> pd.DataFrame:
    """Counts per period added up over the periods."""
    if keys:
        grouped: pd.DataFrame = counts.groupby(keys, as_index=False)[columns].sum()
        return grouped
    sums = counts[columns].fillna(0)
    return pd.DataFrame([{column: int(sums[column].sum()) for column in columns}])


def _computed(
    tables: Tables, engine: Engine, name: str, query: Query, target_seconds: float, histogram: pd.DataFrame | None
) -> pd.DataFrame:
    if name in SCORE_METRICS:
        found = histogram if histogram is not None else score_histogram(tables, SCORE_METRICS[name], query)
        return score_table(found, scaled(tables, SCORE_METRICS[name], query), query)
    if name == "responses":
        return volume_table(response_counts(tables, query), query)
    if name == "response_rate":
        return _rates(response_rate_counts(tables, query), query)
    return _response_times(tables, engine, query, target_seconds)


def touchpoint_counts(engine: Engine) -> pd.DataFrame:
    """Interactions per channel and journey stage (channel, journey_stage, n), erased people's left out."""
    with engine.connect() as tables:
        touchpoints = tables("touchpoints")
        counted = touchpoints.group_by(["channel", "journey_stage"]).aggregate(n=touchpoints.count())
        found: pd.DataFrame = counted.execute()
    return found


def stores(engine: Engine, limit: int = 500) -> list[str]:
    """The stores interactions name, the busiest first (at most `limit`, for filter menus)."""
    with engine.connect() as tables:
        touchpoints = tables("touchpoints")
        named = touchpoints.filter(touchpoints.store.notnull())
        busiest = named.group_by("store").aggregate(n=named.count()).order_by([ibis.desc("n"), "store"]).limit(limit)
        found: pd.DataFrame = busiest.execute()
    return [str(store) for store in found["store"]]


def distribution(engine: Engine, query: Query) -> pd.DataFrame:
    """Answers per score of every scored question (survey, question, kind, score, count) under a query's filters."""
    with engine.connect() as tables:
        return score_counts(tables, query)


def _rates(counts: pd.DataFrame, query: Query) -> pd.DataFrame:
    """Response rate per group with its Wilson CI, and its change (vs the previous period or the rest)."""
    keys = group_columns(query)
    counts = counts[counts["invited"] > 0]  # an empty selection: no invitations, no rate
    answered = counts.assign(score=1, count=counts["answered"])
    missed = counts.assign(score=0, count=counts["invited"] - counts["answered"])
    histogram = pd.concat([answered, missed], ignore_index=True)[[*keys, "score", "count"]]
    return score_table(histogram[histogram["count"] > 0], RESPONSE_RATE, query)


def _response_times(tables: Tables, engine: Engine, query: Query, target_seconds: float) -> pd.DataFrame:
    table = response_time_values(tables, query)
    found = response_time_stats(table, query, target_seconds, quantiles_in_engine=engine.kind != "sqlite")
    found = found[found["n"].fillna(0) > 0]  # an empty selection aggregates to one row of nothing
    keys = group_columns(query)
    shares = [stats.proportion(int(w), int(n)) for w, n in zip(found["within"], found["n"], strict=True)]
    frame = found[keys].copy() if keys else pd.DataFrame(index=found.index)
    frame["n"] = found["n"].astype(int)
    frame["median_seconds"] = found["median"].astype(float)
    frame["p90_seconds"] = found["p90"].astype(float)
    frame["within_target_pct"] = [s.value for s in shares]
    frame["within_ci_low"] = [s.ci_low for s in shares]
    frame["within_ci_high"] = [s.ci_high for s in shares]
    frame["target_seconds"] = target_seconds
    return with_partial(frame.sort_values(keys, ignore_index=True), query) if keys else frame


def describe_query(**given: Any) -> Query:
    """A Query from loosely typed arguments (lists or comma-separated strings; `zone`: the time zone, UTC if none)."""
    by = given.get("by") or []
    by = [part for item in ([by] if isinstance(by, str) else by) for part in str(item).split(",") if part]
    where: dict[str, Sequence[str]] = {str(k): _values(v) for k, v in (given.get("where") or {}).items() if v}
    period, since, until = given.get("period"), given.get("since"), given.get("until")
    return Query(by=by, period=period, since=since, until=until, where=where, zone=given.get("zone") or "UTC")


def _values(value: Any) -> list[str]:
    """A filter's values as text: one value or several (`True` as JSON writes it, as attributes are matched)."""
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, str | int | float):
        return [str(value)]
    return [item for part in value for item in _values(part)]


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A result table as JSON-ready records (NaN as null, times in ISO 8601)."""
    import orjson

    rows: list[dict[str, Any]] = orjson.loads(frame.to_json(orient="records", date_format="iso"))
    return rows


UNITS = {
    "nps": "points (-100..100)",
    "csat": "% satisfied (4-5 of 5)",
    "ces": "mean (1-7)",
    "rating": "mean score",
    "responses": "completed responses (change: % per day counted)",
    "response_rate": "% of invitations answered",
    "first_response_time": "seconds",
}


def funnel(engine: Engine, request: JourneyQuery) -> pd.DataFrame:
    """The stage funnel: customers reaching each stage (at all and in order), conversion and drop-off, by group."""
    with engine.connect() as tables:
        return journeys.funnel(journeys.customer_stages(tables, request))


def stage_times(engine: Engine, request: JourneyQuery) -> pd.DataFrame:
    """Days from first reaching one stage to first reaching the next: mean, median, p75, p90, by group."""
    with engine.connect() as tables:
        return journeys.stage_times(journeys.customer_stages(tables, request))


def paths(engine: Engine, request: JourneyQuery) -> pd.DataFrame:
    """The most common paths (stages, or stage:channel with `detail`) with customers and share."""
    with engine.connect() as tables:
        return journeys.common_paths(tables, request)


def stage_experience(engine: Engine, request: ExperienceQuery) -> pd.DataFrame:
    """NPS, CSAT and CES of answers tied to each stage's (x channel's) interactions, with n and 95% CI."""
    with engine.connect() as tables:
        return experience.stage_experience(tables, request)


def moments(engine: Engine, request: ExperienceQuery) -> pd.DataFrame:
    """Stage x channel cells ranked by the NPS gap between customers with a good and a poor experience there."""
    with engine.connect() as tables:
        return experience.moments(tables, request)


def loyalty_ladder(engine: Engine, request: LoyaltyQuery) -> pd.DataFrame:
    """Customers, orders and order value per rung at each month end."""
    with engine.connect() as tables:
        return loyalty.ladder(tables, request)


def loyalty_transitions(engine: Engine, request: LoyaltyQuery) -> pd.DataFrame:
    """Customers moving between rungs from one month end to the next."""
    with engine.connect() as tables:
        return loyalty.transitions(tables, request)


def loyalty_placements(engine: Engine, request: LoyaltyQuery, customer_ids: Sequence[int] = ()) -> pd.DataFrame:
    """Each customer's rung at the last month end with the features behind it."""
    with engine.connect() as tables:
        return loyalty.placements(tables, request, customer_ids)


def rung_of(engine: Engine, customer_id: int, request: LoyaltyQuery | None = None) -> str:
    """One customer's rung at the last month end."""
    found = loyalty_placements(engine, request or LoyaltyQuery(), [customer_id])
    if found.empty:
        raise NotFound(f"customer {customer_id} has no activity to place on the loyalty ladder")
    return str(found["rung"].iloc[0])


def records_of_rules(rules: LadderRules) -> dict[str, Any]:
    """Ladder rules as JSON-ready values."""
    return {name: list(value) if isinstance(value, tuple) else value for name, value in asdict(rules).items()}


def theme_impact(engine: Engine, *, period: str = "month") -> pd.DataFrame:
    """Per theme and period (the engine's time zone's): texts, mean sentiment, NPS with vs without the theme, the
    difference and its 95% CI."""
    with engine.connect() as tables:
        return _theme_impact(tables, period=period, zone=engine.zone)
