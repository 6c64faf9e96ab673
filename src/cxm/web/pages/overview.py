"""Overview: the headline metrics with CIs, trends and change, and volume by channel."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from cxm.analytics import service as analytics_service
from cxm.core.auth import Permission, Principal, SessionDep, require_user
from cxm.interactions import service as interactions_service
from cxm.web.cache import remembered, sharing
from cxm.web.figures import CARDS, AnalyticsEngine, Card, metric_card, with_widths
from cxm.web.filters import FilterBar, Filters, filter_options
from cxm.web.rendering import render
from cxm.web.tables import PageTable, table_download

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Principal, Depends(require_user(Permission.read))]


def channel_volume(session: SessionDep) -> list[dict[str, Any]]:
    """Interactions per channel (all time), largest first, with bar widths."""
    totals: dict[str, int] = {}
    for channel, _stage, count in interactions_service.counts_by_channel_and_stage(session):
        totals[channel] = totals.get(channel, 0) + count
    rows = [{"label": channel, "n": n} for channel, n in sorted(totals.items(), key=lambda item: -item[1])]
    return with_widths(rows, "n")


def volume(session: SessionDep, engine: analytics_service.Engine) -> list[dict[str, Any]]:
    """Interactions per channel, counted again when the analytics store changes (like every figure on the page)."""
    return remembered(engine, "channel_volume", lambda: channel_volume(session))


def metric_cards(engine: analytics_service.Engine, filters: FilterBar) -> list[Card]:
    """The headline cards; their queries share one connection to the analytics store."""
    with sharing(engine):
        return [metric_card(engine, metric, filters) for metric in CARDS]


METRIC_COLUMNS = (
    ("metric", "metric"),
    ("value", "value"),
    ("ci_low", "ci_low"),
    ("ci_high", "ci_high"),
    ("n", "n"),
    ("change", "change_last_month"),
    ("significant", "significant"),
    ("p_value", "p_value"),
    ("median_seconds", "median_seconds"),
)


def overview_tables(
    session: SessionDep, engine: analytics_service.Engine, filters: FilterBar
) -> dict[str, Callable[[], PageTable]]:
    """The overview's downloadable tables, by name (built only when asked for)."""
    return {
        "metrics": lambda: PageTable("metrics", METRIC_COLUMNS, [asdict(c) for c in metric_cards(engine, filters)]),
        "volume": lambda: PageTable("volume", (("label", "channel"), ("n", "interactions")), volume(session, engine)),
    }


def overview_context(session: SessionDep, engine: AnalyticsEngine, filters: FilterBar) -> dict[str, Any]:
    """Everything the overview (and its printable report) shows."""
    return {
        "cards": metric_cards(engine, filters),
        "volume": volume(session, engine),
        "filters": filters,
        "options": filter_options(session),
    }


@router.get("/overview")
def overview(
    request: Request,
    user: Viewer,
    session: SessionDep,
    engine: AnalyticsEngine,
    filters: Filters,
    format: str = "html",
    table: str = "metrics",
) -> Response:
    """The overview page (`?format=csv&table=metrics|volume`: one of its tables as CSV)."""
    if format == "csv":
        return table_download("overview", overview_tables(session, engine, filters), table)
    context = overview_context(session, engine, filters)
    return render(request, user, "overview.html", title="Overview", **context)
