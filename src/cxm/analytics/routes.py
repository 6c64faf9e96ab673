"""/api/v1/metrics, /api/v1/analytics/{drivers,churn,value-at-risk,retention-economics} and /api/v1/analytics/sync."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AwareDatetime

from cxm.analytics import service
from cxm.analytics.charts import FORMATS
from cxm.analytics.parameters import Filters, Moment, Values
from cxm.analytics.schemas import (
    AnalysisTable,
    ChurnEvaluation,
    ChurnResult,
    CustomerChurn,
    CustomerInsight,
    DriverResult,
    JourneyResult,
    LoyaltyResult,
    MetricResult,
    SyncResult,
    TableResult,
    ThemeImpactResult,
)
from cxm.core.auth import Reader
from cxm.core.auth import Writer as Operator

router = APIRouter(tags=["analytics"])


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
    by: Annotated[
        list[str] | None, Query(description="Dimensions, comma-separated or repeated, e.g. channel,segment")
    ] = None,
    period: Annotated[str | None, Query(description="day | week | month | quarter | year")] = None,
    since: Moment = None,
    until: Moment = None,
    survey: Values = None,
    target_seconds: Annotated[float, Query(gt=0)] = service.DEFAULT_TARGET_SECONDS,
    tz: Annotated[
        str | None, Query(description="Time zone (IANA) of periods and of times without one; default CXM_TIMEZONE")
    ] = None,
) -> MetricResult:
    """A metric by any dimensions and period: value, n, 95% CI, change vs previous period (or the rest), p-value."""
    engine = _engine(request)
    asked = {"by": by, "period": period, "since": since, "until": until, "zone": tz or engine.zone}
    query = service.describe_query(**asked, where={**where, "survey": survey})
    frame = service.metric(engine, metric, query, target_seconds=target_seconds)
    rows = service.records(frame)
    return MetricResult(
        metric=metric, unit=service.UNITS[metric], engine=engine.kind, by=list(query.by), period=period,
        time_zone=query.zone, rows=rows,
    )  # fmt: skip


def driver_query(
    request: Request,
    survey: Annotated[str, Query(description="Key of the survey holding the outcome question")],
    outcome: Annotated[str, Query(description="Key of the outcome question, e.g. nps or overall")],
    where: Filters,
    driver: Annotated[
        list[str] | None,
        Query(
            description="Driver (repeatable): a question key, `survey.question`, `stage:X`, `channel:X`, `sentiment` or"
            " `theme:<name>`"
        ),
    ] = None,
    level: Annotated[str, Query(description="response | customer (scores averaged per customer)")] = "response",
    method: Annotated[
        str, Query(description="relative_weights (Johnson) | shapley (LMG, up to 15 drivers)")
    ] = "relative_weights",
    resamples: Annotated[
        int | None, Query(ge=0, le=2000, description="Bootstrap resamples for the CIs (0: none)")
    ] = None,
    since: Moment = None,
    until: Moment = None,
) -> service.DriverQuery:
    """The driver analysis a request asks for."""
    filters = service.describe_query(since=since, until=until, where=where, zone=_engine(request).zone)
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


def churn_options(
    horizon_days: Annotated[int, Query(ge=7, le=730, description="Churn = no order in this many days")] = 90,
    lookback_days: Annotated[int, Query(ge=7, le=3650, description="How far back features look")] = 365,
    margin: Annotated[float, Query(gt=0, le=1, description="Gross margin as a share of revenue")] = 1.0,
    discount_rate: Annotated[float, Query(ge=0, lt=1, description="Discount rate per year")] = 0.10,
    years: Annotated[float, Query(gt=0, le=50, description="Horizon of customer value in years")] = 5.0,
    now: AwareDatetime | None = None,
) -> service.ChurnRequest:
    """The churn definition and money side a request asks for."""
    return service.churn_request(
        horizon_days=horizon_days, lookback_days=lookback_days, margin=margin, discount_rate=discount_rate,
        years=years, now=now,
    )  # fmt: skip


ChurnOptions = Annotated[service.ChurnRequest, Depends(churn_options)]


@router.get("/analytics/churn", response_model=ChurnResult)
def get_churn(
    request: Request, _: Reader, asked: ChurnOptions, limit: Annotated[int, Query(ge=1, le=100_000)] = 1000
) -> ChurnResult:
    """Active customers by value at risk: calibrated churn probability, top 3 reasons, revenue, CLV, share of wallet."""
    engine = _engine(request)
    frame = service.churn_table(engine, asked)
    return ChurnResult(
        engine=engine.kind,
        as_of=frame.attrs.get("as_of"),
        trained_at=frame.attrs.get("trained_at"),
        horizon_days=asked.settings.horizon_days,
        customers=len(frame),
        rows=service.records(frame.head(limit)),
    )


@router.get("/analytics/churn/evaluation", response_model=ChurnEvaluation)
def get_churn_evaluation(
    request: Request, _: Reader, asked: ChurnOptions, test_cutoff: AwareDatetime | None = None
) -> ChurnEvaluation:
    """Trained one horizon before the test cut-off: AUC and Brier of the model and the recency-only baseline."""
    engine = _engine(request)
    summary, calibration = service.churn_evaluation(engine, asked, test_cutoff)
    return ChurnEvaluation(
        engine=engine.kind,
        horizon_days=asked.settings.horizon_days,
        models=service.records(summary),
        calibration=service.records(calibration),
    )


@router.get("/analytics/customers/{customer_id}", response_model=CustomerInsight)
def get_customer_insight(customer_id: int, request: Request, _: Reader) -> CustomerInsight:
    """One customer's loyalty rung with the features behind it, churn risk with reasons, and value."""
    return CustomerInsight(**service.customer_insight(_engine(request), customer_id))


@router.get("/analytics/churn/customers/{customer_id}", response_model=CustomerChurn)
def get_customer_churn(customer_id: int, request: Request, _: Reader, asked: ChurnOptions) -> CustomerChurn:
    """One customer's churn probability, reasons and value (404 when they have no recent order)."""
    return CustomerChurn(**service.churn_risk_of(_engine(request), customer_id, asked))


@router.get("/analytics/value-at-risk", response_model=TableResult)
def get_value_at_risk(
    request: Request,
    _: Reader,
    asked: ChurnOptions,
    by: Annotated[str | None, Query(description="segment | channel (of the last order) | country")] = "segment",
) -> TableResult:
    """Revenue at risk next period and value (CLV) at risk, summed by group."""
    engine = _engine(request)
    return TableResult(engine=engine.kind, rows=service.records(service.value_at_risk(engine, asked, by or None)))


@router.get("/analytics/retention-economics", response_model=TableResult)
def get_retention_economics(
    request: Request,
    _: Reader,
    asked: ChurnOptions,
    uplift: Annotated[float, Query(ge=0, le=1, description="Retention points per period to add (0.05)")] = 0.05,
    relative: Annotated[bool, Query(description="Uplift as a share of retention instead of points")] = False,
    retention: Annotated[float | None, Query(ge=0, lt=1)] = None,
    revenue_per_customer: Annotated[float | None, Query(ge=0)] = None,
    customers: Annotated[float | None, Query(ge=0)] = None,
    acquired_per_period: Annotated[float | None, Query(ge=0)] = None,
) -> TableResult:
    """What more retention is worth in CLV and company value; inputs measured from orders unless given."""
    engine = _engine(request)
    given = service.RetentionInputs(retention, revenue_per_customer, customers, acquired_per_period)
    frame = service.retention_economics(engine, asked, uplift=uplift, relative=relative, given=given)
    return TableResult(engine=engine.kind, rows=service.records(frame))


@router.post("/analytics/sync", response_model=SyncResult)
def sync_analytics(request: Request, _: Operator) -> SyncResult:
    """Bring the analytics store up to date now (the worker also does it every few seconds)."""
    report = service.sync_store(request.app.state.settings, request.app.state.engine)
    if report is None:
        return SyncResult(rows={}, erased_customers=0, seconds=0.0)
    return SyncResult(rows=report.rows, erased_customers=report.erased_customers, seconds=report.seconds)


def journey_query(
    request: Request,
    where: Filters,
    by: Annotated[str | None, Query(description="channel (the entry channel) | segment | country")] = None,
    top: Annotated[int, Query(ge=1, le=1000, description="paths: how many")] = 10,
    steps: Annotated[int, Query(ge=1, le=20, description="paths: first N steps of each customer's path")] = 5,
    detail: Annotated[bool, Query(description="paths: steps as stage:channel")] = False,
    since: Moment = None,
    until: Moment = None,
) -> service.JourneyQuery:
    """The journeys a request asks for (touchpoint filters: channel, segment)."""
    filters = service.describe_query(since=since, until=until, where=where, zone=_engine(request).zone)
    return service.JourneyQuery(by, filters, top, steps, detail)


Journeys = Annotated[service.JourneyQuery, Depends(journey_query)]


@router.get("/analytics/journeys", response_model=JourneyResult)
def get_journeys(request: Request, _: Reader, asked: Journeys) -> JourneyResult:
    """The stage funnel (conversion, drop-off), days between stages and the most common paths."""
    engine = _engine(request)
    funnel, times = service.funnel(engine, asked), service.stage_times(engine, asked)
    paths = service.records(service.paths(engine, asked))
    return JourneyResult(
        engine=engine.kind, by=asked.by, funnel=service.records(funnel), times=service.records(times), paths=paths
    )


@router.get("/analytics/journeys/funnel", response_model=AnalysisTable)
def get_funnel(request: Request, _: Reader, asked: Journeys) -> AnalysisTable:
    """Customers reaching each stage (at all, and in order), conversion from the stage before (95% CI), drop-off."""
    engine = _engine(request)
    return AnalysisTable(view="funnel", engine=engine.kind, rows=service.records(service.funnel(engine, asked)))


@router.get(
    "/analytics/journeys/funnel/chart",
    response_class=Response,
    responses={200: {"content": {kind: {} for kind in FORMATS.values()}}},
)
def get_funnel_chart(
    request: Request, _: Reader, asked: Journeys, image: Annotated[str, Query(pattern="^(svg|png)$")] = "svg"
) -> Response:
    """The funnel as an SVG (or PNG) image."""
    frame = service.funnel(_engine(request), asked)
    return Response(service.funnel_chart(frame, image=image), media_type=FORMATS[image])


@router.get("/analytics/journeys/times", response_model=AnalysisTable)
def get_stage_times(request: Request, _: Reader, asked: Journeys) -> AnalysisTable:
    """Days from first reaching each stage to first reaching the next: mean, median, p75, p90."""
    engine = _engine(request)
    return AnalysisTable(view="times", engine=engine.kind, rows=service.records(service.stage_times(engine, asked)))


@router.get("/analytics/journeys/paths", response_model=AnalysisTable)
def get_paths(request: Request, _: Reader, asked: Journeys) -> AnalysisTable:
    """The most common paths through the stages (stage:channel with detail=true), with customers and share."""
    engine = _engine(request)
    return AnalysisTable(view="paths", engine=engine.kind, rows=service.records(service.paths(engine, asked)))


def experience_query(
    request: Request,
    where: Filters,
    by_channel: Annotated[bool, Query(description="stage x channel instead of stage")] = False,
    min_customers: Annotated[int, Query(ge=1, description="moments: cells with fewer customers are left out")] = 5,
    since: Moment = None,
    until: Moment = None,
) -> service.ExperienceQuery:
    """The answers a stage-experience request counts."""
    filters = service.describe_query(since=since, until=until, where=where, zone=_engine(request).zone)
    return service.ExperienceQuery(filters, by_channel, min_customers)


Experience = Annotated[service.ExperienceQuery, Depends(experience_query)]


@router.get("/analytics/journeys/experience", response_model=AnalysisTable)
def get_stage_experience(request: Request, _: Reader, asked: Experience) -> AnalysisTable:
    """NPS, CSAT and CES of the answers tied to each stage's (x channel's) interactions, with n and 95% CI."""
    engine = _engine(request)
    frame = service.stage_experience(engine, asked)
    return AnalysisTable(view="experience", engine=engine.kind, rows=service.records(frame))


@router.get("/analytics/journeys/moments", response_model=AnalysisTable)
def get_moments(request: Request, _: Reader, asked: Experience) -> AnalysisTable:
    """Moments that matter: stage x channel cells ranked by the NPS gap after a good vs a poor experience."""
    engine = _engine(request)
    return AnalysisTable(view="moments", engine=engine.kind, rows=service.records(service.moments(engine, asked)))


DEFAULT_RULES = service.LadderRules()


def loyalty_query(
    months: Annotated[int, Query(ge=1, le=120, description="How many month ends")] = 12,
    until: Annotated[AwareDatetime | None, Query(description="Last month end: this date's month")] = None,
    currency: Annotated[str | None, Query(description="Order value in this currency (default: most orders')")] = None,
    lost_days: Annotated[int, Query(ge=1)] = DEFAULT_RULES.lost_days,
    repurchase_days: Annotated[int, Query(ge=1)] = DEFAULT_RULES.repurchase_days,
    repeat_orders: Annotated[int, Query(ge=1)] = DEFAULT_RULES.repeat_orders,
    feedback_days: Annotated[int, Query(ge=1)] = DEFAULT_RULES.feedback_days,
    recent_days: Annotated[int, Query(ge=1)] = DEFAULT_RULES.recent_days,
) -> service.LoyaltyQuery:
    """The ladder a request asks for, with any rule windows changed from their defaults."""
    rules = replace(DEFAULT_RULES, lost_days=lost_days, repurchase_days=repurchase_days, repeat_orders=repeat_orders,
                    feedback_days=feedback_days, recent_days=recent_days)  # fmt: skip
    return service.LoyaltyQuery(months, until, currency, rules)


Loyalty = Annotated[service.LoyaltyQuery, Depends(loyalty_query)]


def _loyalty(view: str, engine: service.Engine, asked: service.LoyaltyQuery, frame: Any) -> LoyaltyResult:
    currency = str(frame["currency"].iloc[0]) if "currency" in frame and len(frame) else asked.currency
    rules = service.records_of_rules(asked.rules)
    return LoyaltyResult(view=view, engine=engine.kind, currency=currency, rules=rules, rows=service.records(frame))


@router.get("/analytics/loyalty", response_model=LoyaltyResult)
def get_loyalty(request: Request, _: Reader, asked: Loyalty) -> LoyaltyResult:
    """Customers, orders and order value per loyalty rung at each month end."""
    engine = _engine(request)
    return _loyalty("ladder", engine, asked, service.loyalty_ladder(engine, asked))


@router.get("/analytics/loyalty/transitions", response_model=LoyaltyResult)
def get_loyalty_transitions(request: Request, _: Reader, asked: Loyalty) -> LoyaltyResult:
    """Customers moving from each rung to each rung, month to month (`new`: placed for the first time)."""
    engine = _engine(request)
    return _loyalty("transitions", engine, asked, service.loyalty_transitions(engine, asked))


@router.get("/analytics/loyalty/customers", response_model=LoyaltyResult)
def get_loyalty_customers(
    request: Request, _: Reader, asked: Loyalty, customer_id: Annotated[list[int] | None, Query()] = None
) -> LoyaltyResult:
    """Each customer's rung at the last month end with the features behind it (all customers, or those named)."""
    engine = _engine(request)
    return _loyalty("customers", engine, asked, service.loyalty_placements(engine, asked, customer_id or []))


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
