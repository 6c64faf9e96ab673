"""/api/v1/metrics and /api/v1/analytics/sync."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AwareDatetime

from cxm.analytics import service
from cxm.analytics.charts import FORMATS
from cxm.analytics.schemas import DriverResult, MetricResult, SyncResult, ThemeImpactResult
from cxm.core.auth import Reader
from cxm.core.auth import Writer as Operator

router = APIRouter(tags=["analytics"])
Values = Annotated[list[str] | None, Query()]


def metric_filters(
    channel: Values = None, journey_stage: Values = None, segment: Values = None, language: Values = None
) -> dict[str, list[str] | None]:
    """The dimension filters of a request (`?channel=web&channel=app&segment=retail`)."""
    return {"channel": channel, "journey_stage": journey_stage, "segment": segment, "language": language}


Filters = Annotated[dict[str, list[str] | None], Depends(metric_filters)]


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
    where: Filters,
    by: Annotated[str | None, Query(description="Comma-separated dimensions, e.g. channel,segment")] = None,
    period: Annotated[str | None, Query(description="day | week | month | quarter | year")] = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    survey: Values = None,
    target_seconds: Annotated[float, Query(gt=0)] = service.DEFAULT_TARGET_SECONDS,
) -> MetricResult:
    """A metric by any dimensions and period: value, n, 95% CI, change vs previous period (or the rest), p-value."""
    query = service.describe_query(by=by, period=period, since=since, until=until, where={**where, "survey": survey})
    engine = _engine(request)
    frame = service.metric(engine, metric, query, target_seconds=target_seconds)
    rows = service.records(frame)
    return MetricResult(
        metric=metric, unit=service.UNITS[metric], engine=engine.kind, by=list(query.by), period=period, rows=rows
    )


def driver_query(
    survey: Annotated[str, Query(description="Key of the survey holding the outcome question")],
    outcome: Annotated[str, Query(description="Key of the outcome question, e.g. nps or overall")],
    where: Filters,
    driver: Annotated[
        list[str] | None, Query(description="Driver question (repeatable); `survey.question` for another survey's")
    ] = None,
    level: Annotated[str, Query(description="response | customer (scores averaged per customer)")] = "response",
    method: Annotated[
        str, Query(description="relative_weights (Johnson) | shapley (LMG, up to 15 drivers)")
    ] = "relative_weights",
    resamples: Annotated[
        int | None, Query(ge=0, le=2000, description="Bootstrap resamples for the CIs (0: none)")
    ] = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
) -> service.DriverQuery:
    """The driver analysis a request asks for."""
    filters = service.describe_query(since=since, until=until, where=where)
    return service.DriverQuery(survey, outcome, tuple(driver or ()), level, method, resamples, filters)


Drivers = Annotated[service.DriverQuery, Depends(driver_query)]


@router.get("/analytics/drivers", response_model=DriverResult)
def get_drivers(request: Request, _: Reader, asked: Drivers) -> DriverResult:
    """Key drivers: each driver's share of R^2 (95% bootstrap CI), rank, performance (0-100) and quadrant."""
    engine = _engine(request)
    frame = service.key_drivers(engine, asked)
    return DriverResult(
        survey=asked.survey,
        outcome=asked.outcome,
        level=asked.level,
        method=asked.method,
        engine=engine.kind,
        n=int(frame["n"].iloc[0]),
        r_squared=float(frame["r_squared"].iloc[0]),
        rows=service.records(frame),
    )


@router.get(
    "/analytics/drivers/chart",
    response_class=Response,
    responses={200: {"content": {kind: {} for kind in FORMATS.values()}}},
)
def get_drivers_chart(
    request: Request, _: Reader, asked: Drivers, image: Annotated[str, Query(pattern="^(svg|png)$")] = "svg"
) -> Response:
    """The importance x performance quadrant as an SVG (or PNG) image."""
    frame = service.key_drivers(_engine(request), asked)
    return Response(service.quadrant_chart(frame, image=image), media_type=FORMATS[image])


@router.post("/analytics/sync", response_model=SyncResult)
def sync_analytics(request: Request, _: Operator) -> SyncResult:
    """Bring the analytics store up to date now (the worker also does it every few seconds)."""
    report = service.sync_store(request.app.state.settings, request.app.state.engine)
    if report is None:
        return SyncResult(rows={}, erased_customers=0, seconds=0.0)
    return SyncResult(rows=report.rows, erased_customers=report.erased_customers, seconds=report.seconds)


@router.get("/analytics/themes", response_model=ThemeImpactResult)
def theme_impact(
    request: Request,
    _: Reader,
    period: Annotated[str, Query(description="day | week | month | quarter | year")] = "month",
) -> ThemeImpactResult:
    """Each theme's volume, mean sentiment and impact on NPS (with vs without the theme, 95% CI) per period."""
    engine = _engine(request)
    rows = service.records(service.theme_impact(engine, period=period))
    return ThemeImpactResult(engine=engine.kind, period=period, rows=rows)
