"""Channels and Journey: the metrics by channel and by journey stage, and where interactions happen."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from cxm.analytics import service as analytics_service
from cxm.core.auth import Permission, Principal, SessionDep, require_user
from cxm.web.cache import remember, store_version
from cxm.web.figures import TITLES, AnalyticsEngine, breakdowns, touch_counts
from cxm.web.filters import FilterBar, Filters, filter_options
from cxm.web.rendering import render
from cxm.web.tables import csv_response

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Principal, Depends(require_user(Permission.read))]
METRICS = ("nps", "csat", "ces", "first_response_time")
STAGES = ("awareness", "purchase", "post_purchase")
FUNNEL_FILTERS = ("since", "until", "channel", "store", "segment")  # what the stage funnel can be filtered by


def metric_table(engine: analytics_service.Engine, filters: FilterBar, by: str) -> dict[str, Any]:
    """Each metric by one dimension: {"labels": [...], "metrics": [{"metric", "title", "cells": {label: row}}]}."""
    found = breakdowns(engine, METRICS, filters, by)
    metrics: list[dict[str, Any]] = [{"metric": m, "title": TITLES[m], "rows": found[m]} for m in METRICS]
    labels = sorted({row["label"] for m in metrics for row in m["rows"]}, key=_order(by))
    for m in metrics:
        m["cells"] = {row["label"]: row for row in m["rows"]}
    return {"labels": labels, "metrics": metrics}


def store_table(engine: analytics_service.Engine, filters: FilterBar) -> dict[str, Any]:
    """Each metric by store (the shop, branch or site of the interaction), the stores named only."""
    table = metric_table(engine, filters, "store")
    table["labels"] = [label for label in table["labels"] if label != analytics_service.NONE_LABEL]
    return table


def _order(by: str) -> Any:
    if by == "journey_stage":
        return lambda label: STAGES.index(label) if label in STAGES else len(STAGES)
    return lambda label: label


def interaction_grid(engine: analytics_service.Engine) -> dict[str, Any]:
    """Interactions by channel (rows) and journey stage (columns)."""
    counts = touch_counts(engine)
    channels = sorted({channel for channel, _, _ in counts})
    stages: list[str | None] = [*STAGES, None]
    grid = {(channel, stage): count for channel, stage, count in counts}
    return {"channels": channels, "stages": stages, "grid": grid}


def journey_funnel(engine: analytics_service.Engine, filters: FilterBar) -> list[dict[str, Any]]:
    """The stage funnel of the customers whose touchpoints pass the filter bar's dates, channel, store and segment."""
    base = filters.query("nps")
    where: dict[str, Sequence[str]] = {
        name: [str(getattr(filters, name))] for name in ("channel", "store", "segment") if getattr(filters, name)
    }
    query = analytics_service.Query(since=base.since, until=base.until, where=where)
    asked = analytics_service.JourneyQuery(filters=query)
    key = (store_version(engine), "funnel", tuple(sorted(filters.params().items())))
    rows = remember(key, lambda: analytics_service.records(analytics_service.funnel(engine, asked)))
    for row in rows:
        row["width"] = row["of_first_pct"] or 0
    return rows


def _csv(table: dict[str, Any], by: str) -> Response:
    header = [by, *(f"{m['metric']}_{part}" for m in table["metrics"] for part in ("value", "ci_low", "ci_high", "n"))]
    rows = []
    for label in table["labels"]:
        cells = [label]
        for m in table["metrics"]:
            row = m["cells"].get(label, {})
            cells += [row.get("value"), row.get("ci_low"), row.get("ci_high"), row.get("n")]
        rows.append(cells)
    return csv_response(f"metrics-by-{by}.csv", header, rows)


def _page(
    request: Request,
    user: Principal,
    session: SessionDep,
    engine: Any,
    filters: FilterBar,
    by: str,
    template: str,
    fmt: str,
) -> Response:
    with engine.holding():
        if fmt == "stores.csv":
            return _csv(store_table(engine, filters), "store")
        table = metric_table(engine, filters, by)
        if fmt == "csv":
            return _csv(table, by)
        context: dict[str, Any] = {"table": table, "grid": interaction_grid(engine)}
        if by == "channel":
            context["stores"] = store_table(engine, filters)
        if by == "journey_stage":
            context["funnel"] = journey_funnel(engine, filters)
            context["funnel_unapplied"] = filters.unapplied(FUNNEL_FILTERS)
    title = "Channels" if by == "channel" else "Journey"
    context |= {"filters": filters, "options": filter_options(session, engine)}
    return render(request, user, template, title=title, by=by, **context)


@router.get("/channels")
def channels(
    request: Request, user: Viewer, session: SessionDep, engine: AnalyticsEngine, filters: Filters, format: str = "html"
) -> Response:
    """The metrics in every channel and in every store, and the interactions by channel and stage."""
    return _page(request, user, session, engine, filters, "channel", "channels.html", format)


@router.get("/journey")
def journey(
    request: Request, user: Viewer, session: SessionDep, engine: AnalyticsEngine, filters: Filters, format: str = "html"
) -> Response:
    """The metrics at each journey stage: awareness, purchase, post-purchase."""
    return _page(request, user, session, engine, filters, "journey_stage", "journey.html", format)
