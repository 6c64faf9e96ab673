"""The landing page: what the hub holds, and where to go next."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from cxm.core.auth import SessionDep
from cxm.customers import service as customers_service
from cxm.interactions import service as interactions_service

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


@router.get("/", response_class=HTMLResponse)
def landing(request: Request, session: SessionDep) -> HTMLResponse:
    """Counts by channel and journey stage, with links to the API docs."""
    counts = interactions_service.counts_by_channel_and_stage(session)
    channels = sorted({channel for channel, _, _ in counts})
    stages = ["awareness", "purchase", "post_purchase", None]
    grid = {(channel, stage): count for channel, stage, count in counts}
    context = {
        "totals": {**interactions_service.totals(session), "customers": customers_service.count_customers(session)},
        "channels": channels,
        "stages": stages,
        "grid": grid,
        "stage_totals": {stage: sum(grid.get((channel, stage), 0) for channel in channels) for stage in stages},
    }
    return templates.TemplateResponse(request, "landing.html", context)


@router.get("/healthz")
def health() -> dict[str, str]:
    """Liveness probe."""
    return {"status": "ok"}
