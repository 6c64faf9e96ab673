"""Overview: the headline metrics with CIs, trends and change, and volume by channel."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from cxm.core.auth import Permission, Principal, SessionDep, require_user
from cxm.interactions import service as interactions_service
from cxm.web.figures import CARDS, AnalyticsEngine, metric_card, with_widths
from cxm.web.filters import FilterBar, Filters, filter_options
from cxm.web.rendering import render

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Principal, Depends(require_user(Permission.read))]


def channel_volume(session: SessionDep) -> list[dict[str, Any]]:
    """Interactions per channel (all time), largest first, with bar widths."""
    totals: dict[str, int] = {}
    for channel, _stage, count in interactions_service.counts_by_channel_and_stage(session):
        totals[channel] = totals.get(channel, 0) + count
    rows = [{"label": channel, "n": n} for channel, n in sorted(totals.items(), key=lambda item: -item[1])]
    return with_widths(rows, "n")


def overview_context(session: SessionDep, engine: AnalyticsEngine, filters: FilterBar) -> dict[str, Any]:
    """Everything the overview (and its printable report) shows."""
    return {
        "cards": [metric_card(engine, metric, filters) for metric in CARDS],
        "volume": channel_volume(session),
        "filters": filters,
        "options": filter_options(session),
    }


@router.get("/overview")
def overview(
    request: Request, user: Viewer, session: SessionDep, engine: AnalyticsEngine, filters: Filters
) -> Response:
    """The overview page."""
    context = overview_context(session, engine, filters)
    return render(request, user, "overview.html", title="Overview", **context)
