"""Figures for the pages, asked of the analytics engine: metric cards with CIs, trends and breakdowns."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Annotated, Any

import pandas as pd
from fastapi import Depends, Request

from cxm.analytics import service as analytics_service
from cxm.config import Settings
from cxm.web.cache import remember, store_version
from cxm.web.filters import FilterBar
from cxm.web.i18n import N_

CARDS = ("nps", "csat", "ces", "response_rate", "first_response_time", "responses")
TITLES = {
    "nps": N_("NPS"),
    "csat": N_("CSAT"),
    "ces": N_("CES"),
    "response_rate": N_("Response rate"),
    "first_response_time": N_("First response within 1 h"),
    "responses": N_("Responses"),
}
# How a card's value is written: points, percent, a mean, or a share of answered questions.
STYLES = {
    "nps": "points",
    "csat": "percent",
    "ces": "mean",
    "response_rate": "percent",
    "first_response_time": "percent",
    "responses": "count",
}
SIGNIFICANCE = 0.05


def analytics_engine(request: Request) -> analytics_service.Engine:
    """The configured analytics engine (the DuckDB store is synced once when this process first asks)."""
    engine: analytics_service.Engine | None = getattr(request.app.state, "analytics", None)
    if engine is None:
        settings: Settings = request.app.state.settings
        analytics_service.sync_if_changed(settings, request.app.state.engine)
        engine = request.app.state.analytics = analytics_service.engine_for(settings)
    return engine


AnalyticsEngine = Annotated[analytics_service.Engine, Depends(analytics_engine)]


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


@dataclass
class Card:
    """One metric on a page: value with 95% CI, the monthly trend, and the last month's change."""

    metric: str
    title: str
    style: str
    value: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    n: int = 0
    spark: list[str] = field(default_factory=list)
    change: float | None = None
    significant: bool | None = None
    p_value: float | None = None
    median_seconds: float | None = None
    partial: bool = False  # only part of the last month is counted (not over yet, or cut by the filters)
    ignored: list[str] = field(default_factory=list)


def metric_frame(engine: analytics_service.Engine, metric: str, query: analytics_service.Query) -> pd.DataFrame:
    """A metric's table, empty when there is nothing to measure yet."""
    try:
        return analytics_service.metric(engine, metric, query)
    except ZeroDivisionError:  # no invitations at all in the filtered range
        return pd.DataFrame()


def value_columns(metric: str) -> tuple[str, str, str]:
    """The value and CI columns of a metric's table."""
    if metric == "first_response_time":
        return "within_target_pct", "within_ci_low", "within_ci_high"
    return "value", "ci_low", "ci_high"


def spark_points(values: list[float]) -> list[str]:
    """Polyline points of a sparkline in a 100 x 30 box (higher values drawn higher)."""
    if len(values) < 2:
        return []
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = 100 / (len(values) - 1)
    return [f"{i * step:.1f},{28 - 26 * (v - low) / span:.1f}" for i, v in enumerate(values)]


def _headline(card: Card, frame: pd.DataFrame) -> None:
    if frame.empty or int(frame["n"].iloc[0]) == 0:
        return
    row = frame.iloc[0]
    value, low, high = value_columns(card.metric)
    card.value, card.ci_low, card.ci_high = _number(row[value]), _number(row[low]), _number(row[high])
    card.n = int(row["n"])
    if "median_seconds" in frame:
        card.median_seconds = _number(row["median_seconds"])


def _trend(card: Card, frame: pd.DataFrame) -> None:
    if frame.empty:
        return
    value, low, high = value_columns(card.metric)
    values = [v for v in (_number(x) for x in frame[value]) if v is not None]
    card.spark = spark_points(values)
    if len(frame) < 2:
        return
    card.partial = bool(frame["partial"].iloc[-1]) if "partial" in frame else False
    last, before = frame.iloc[-1], frame.iloc[-2]
    if "p_value" in frame and _number(last.get("p_value")) is not None:
        card.change, card.p_value = _number(last["change"]), _number(last["p_value"])
        card.significant = card.p_value is not None and card.p_value < SIGNIFICANCE
        return
    now, then = _number(last[value]), _number(before[value])
    if now is not None and then is not None:
        card.change = now - then
        card.significant = _apart(last, before, low, high)


def _apart(last: Any, before: Any, low: str, high: str) -> bool:
    """95% CIs that do not overlap: a conservative sign of a real change (rates and times have no test here)."""
    bounds = [_number(last[low]), _number(last[high]), _number(before[low]), _number(before[high])]
    if any(bound is None for bound in bounds):
        return False
    last_low, last_high, before_low, before_high = (float(b or 0) for b in bounds)
    return last_low > before_high or last_high < before_low


def metric_cards(engine: analytics_service.Engine, metrics: tuple[str, ...], filters: FilterBar) -> list[Card]:
    """The cards of several metrics under the page's filters: asked on one connection, remembered per store version."""
    return remember(("cards", store_version(engine), metrics, filters), lambda: _cards(engine, metrics, filters))


def _cards(engine: analytics_service.Engine, metrics: tuple[str, ...], filters: FilterBar) -> list[Card]:
    pairs = analytics_service.metrics_with_trend(engine, [(m, filters.query(m)) for m in metrics], "month")
    cards = []
    for metric, (whole, trend) in zip(metrics, pairs, strict=True):
        card = Card(metric, TITLES[metric], STYLES[metric], ignored=filters.ignored(metric))
        _headline(card, whole)
        _trend(card, trend)
        cards.append(card)
    return cards


def breakdowns(
    engine: analytics_service.Engine, metrics: tuple[str, ...], filters: FilterBar, by: str
) -> dict[str, list[dict[str, Any]]]:
    """Several metrics by one dimension, asked on one connection and remembered per store version."""

    def compute() -> dict[str, list[dict[str, Any]]]:
        frames = analytics_service.metrics(engine, [(m, filters.query(m, by=(by,))) for m in metrics])
        return {m: _breakdown(frame, m, by) for m, frame in zip(metrics, frames, strict=True)}

    return remember(("breakdowns", store_version(engine), metrics, filters, by), compute)


def _breakdown(frame: pd.DataFrame, metric: str, by: str) -> list[dict[str, Any]]:
    if frame.empty:
        return []
    value, low, high = value_columns(metric)
    rows = [
        {
            "label": str(r[by]),
            "value": _number(r[value]),
            "ci_low": _number(r[low]),
            "ci_high": _number(r[high]),
            "n": int(r["n"]),
        }
        for r in frame.to_dict("records")
    ]
    return with_widths(rows, "n")


def touch_counts(engine: analytics_service.Engine) -> list[tuple[str, str | None, int]]:
    """Interactions per (channel, journey stage or None), from the analytics store like every other figure."""

    def compute() -> list[tuple[str, str | None, int]]:
        rows = analytics_service.touchpoint_counts(engine).to_dict("records")
        found = [(str(r["channel"]), _stage(r["journey_stage"]), int(r["n"])) for r in rows]
        return sorted(found, key=lambda row: (row[0], row[1] or ""))

    return remember(("touch counts", store_version(engine)), compute)


def _stage(value: Any) -> str | None:
    return None if pd.isna(value) else str(value)


def with_widths(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Each row with `width`: its `key` as a share (0-100) of the largest."""
    largest = max((abs(r[key] or 0) for r in rows), default=0) or 1
    return [{**r, "width": round(100 * abs(r[key] or 0) / largest, 1)} for r in rows]
