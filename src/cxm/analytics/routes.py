"""/api/v1/metrics and /api/v1/analytics/sync."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import AwareDatetime

from cxm.analytics import service
from cxm.analytics.schemas import MetricResult, SyncResult
from cxm.core.auth import Reader
from cxm.core.auth import Writer as Operator

router = APIRouter(tags=["analytics"])
Values = Annotated[list[str] | None, Query()]


def _engine(request: Request) -> service.Engine:
    engine: service.Engine | None = getattr(request.app.state, "analytics", None)
    if engine is None:
        engine = request.app.state.analytics = service.engine_for(request.app.state.settings)
    return engine


@router.get("/metrics/{metric}", response_model=MetricResult)
def get_metric(
    metric: str,
    request: Request,
    _: Reader,
    by: Annotated[str | None, Query(description="Comma-separated dimensions, e.g. channel,segment")] = None,
    period: Annotated[str | None, Query(description="day | week | month | quarter | year")] = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    channel: Values = None,
    journey_stage: Values = None,
    segment: Values = None,
    language: Values = None,
    survey: Values = None,
    target_seconds: Annotated[float, Query(gt=0)] = service.DEFAULT_TARGET_SECONDS,
) -> MetricResult:
    """A metric by any dimensions and period: value, n, 95% CI, change vs previous period (or the rest), p-value."""
    where = {"channel": channel, "journey_stage": journey_stage, "segment": segment, "language": language}
    where["survey"] = survey
    query = service.describe_query(by=by, period=period, since=since, until=until, where=where)
    engine = _engine(request)
    frame = service.metric(engine, metric, query, target_seconds=target_seconds)
    rows = service.records(frame)
    return MetricResult(
        metric=metric, unit=service.UNITS[metric], engine=engine.kind, by=list(query.by), period=period, rows=rows
    )


@router.post("/analytics/sync", response_model=SyncResult)
def sync_analytics(request: Request, _: Operator) -> SyncResult:
    """Bring the analytics store up to date now (the worker also does it every few seconds)."""
    report = service.sync_store(request.app.state.settings, request.app.state.engine)
    if report is None:
        return SyncResult(rows={}, erased_customers=0, seconds=0.0)
    return SyncResult(rows=report.rows, erased_customers=report.erased_customers, seconds=report.seconds)
