"""Overview: the headline metrics with CIs, trends and change, and volume by channel."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from cxm.analytics import service as analytics_service
from cxm.core.auth import Permission, Principal, SessionDep, require_user
from cxm.web.cache import remember, store_version
from cxm.web.charts import FORMATS, trend_chart
from cxm.web.figures import (
    CARDS,
    TITLES,
    AnalyticsEngine,
    metric_cards,
    metric_frame,
    touch_counts,
    value_columns,
    with_widths,
)
from cxm.web.filters import FilterBar, Filters, filter_options
from cxm.web.rendering import render
from cxm.web.tables import PageTable, csv_response

router = APIRouter(include_in_schema=False)
VOLUME_COLUMNS = (("label", "channel"), ("n", "interactions"))
Viewer = Annotated[Principal, Depends(require_user(Permission.read))]


def channel_volume(engine: AnalyticsEngine) -> list[dict[str, Any]]:
    """Interactions per channel (all time), largest first, with bar widths."""
    totals: dict[str, int] = {}
    for channel, _stage, count in touch_counts(engine):
        totals[channel] = totals.get(channel, 0) + count
    rows = [{"label": channel, "n": n} for channel, n in sorted(totals.items(), key=lambda item: -item[1])]
    return with_widths(rows, "n")


# Where a change is shown filtered to its group (changes by invitation channel have no such page).
ALERT_PAGES = {"channel": "/channels", "journey_stage": "/journey", "survey": "/overview"}
ALERTS_SHOWN = 5


def latest_alerts(engine: AnalyticsEngine) -> list[dict[str, Any]]:
    """The latest significant changes by channel and stage (at most five), each linked to its filtered page."""
    now = datetime.now(UTC)
    key = ("alerts", store_version(engine), now.strftime("%Y-%m"))
    return remember(key, lambda: _alerts(analytics_service.significant_changes(engine, now=now)))


def _alerts(frame: Any) -> list[dict[str, Any]]:
    rows = frame.head(ALERTS_SHOWN).to_dict("records")
    for row in rows:
        page = ALERT_PAGES.get(row["dimension"])
        row["url"] = FilterBar(**{row["dimension"]: row["group"]}).url(page) if page else None
        row["title"] = TITLES[row["metric"]]
    return list(rows)


def overview_context(session: SessionDep, engine: AnalyticsEngine, filters: FilterBar) -> dict[str, Any]:
    """Everything the overview (and its printable report) shows."""
    with engine.holding():
        cards, volume = metric_cards(engine, CARDS, filters), channel_volume(engine)
    return {"cards": cards, "volume": volume, "filters": filters, "options": filter_options(session, engine)}


def _cards_csv(cards: list[Any]) -> Response:
    header = ["metric", "value", "ci_low", "ci_high", "n", "last_month_change", "p_value", "significant"]
    rows = [[c.metric, c.value, c.ci_low, c.ci_high, c.n, c.change, c.p_value, c.significant] for c in cards]
    return csv_response("overview.csv", header, rows)


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
    """The overview page (or one of its tables as CSV: `?format=csv&table=metrics|volume`)."""
    context = overview_context(session, engine, filters)
    if format == "csv" and table == "volume":
        return PageTable("volume", VOLUME_COLUMNS, context["volume"]).download("overview")
    if format == "csv":
        return _cards_csv(context["cards"])
    return render(request, user, "overview.html", title="Overview", **context)


@router.get("/overview/alerts")
def overview_alerts(request: Request, user: Viewer, engine: AnalyticsEngine, fragment: bool = False) -> Response:
    """The latest significant changes: the Overview loads them after the page (this page without JavaScript)."""
    template = "alerts_card.html" if fragment else "alerts.html"
    with engine.holding():
        alerts = latest_alerts(engine)
    return render(request, user, template, title="Latest significant changes", alerts=alerts)


@router.get("/report/overview")
def overview_report(
    request: Request, user: Viewer, session: SessionDep, engine: AnalyticsEngine, filters: Filters
) -> Response:
    """The overview laid out for printing (the browser's print dialog makes a PDF)."""
    context = overview_context(session, engine, filters)
    return render(request, user, "report.html", title="Overview report", standalone=False, **context)


@router.get("/overview/chart/{metric}.{image}")
def overview_chart(
    user: Viewer,
    engine: AnalyticsEngine,
    filters: Filters,
    metric: Annotated[str, Path(pattern="^(nps|csat|ces|response_rate|first_response_time|responses)$")],
    image: Annotated[str, Path(pattern="^(svg|png)$")],
) -> Response:
    """A metric's monthly trend with its 95% CI band, as SVG or PNG."""
    frame = metric_frame(engine, metric, filters.query(metric, period="month"))
    chart = trend_chart(frame, TITLES[metric], value_columns(metric), image=image)
    headers = {"Content-Disposition": f'inline; filename="{metric}.{image}"'}
    return Response(chart, media_type=FORMATS[image], headers=headers)
