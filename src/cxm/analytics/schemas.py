"""What crosses the API about metrics."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class MetricResult(BaseModel):
    """A metric's table: one row per group (and period) with value, n, CI, change and p-value."""

    metric: str
    unit: str
    engine: str
    by: list[str]
    period: str | None
    time_zone: str  # the zone periods are cut in (their starts are its wall-clock times)
    rows: list[dict[str, Any]]


class SyncResult(BaseModel):
    """What a sync moved into the analytics store."""

    rows: dict[str, int]
    erased_customers: int
    seconds: float


class DriverResult(BaseModel):
    """Key drivers of one outcome: one row per driver with its share of R^2, performance and quadrant."""

    survey: str
    outcome: str
    level: str
    method: str
    engine: str
    n: int
    r_squared: float
    rows: list[dict[str, Any]]


class AnalysisTable(BaseModel):
    """One journey or loyalty table: which view, on which engine, its rows."""

    view: str
    engine: str
    rows: list[dict[str, Any]]


class JourneyResult(BaseModel):
    """Journeys at a glance: the funnel, the time between stages and the most common paths."""

    engine: str
    by: str | None
    funnel: list[dict[str, Any]]
    times: list[dict[str, Any]]
    paths: list[dict[str, Any]]


class LoyaltyResult(BaseModel):
    """The loyalty ladder (or its transitions) with the rules and the currency order value is counted in."""

    view: str
    engine: str
    currency: str | None
    rules: dict[str, Any]
    rows: list[dict[str, Any]]


class ChurnResult(BaseModel):
    """Every active customer's churn probability, reasons and value (riskiest by value at risk first)."""

    engine: str
    as_of: str | None
    trained_at: str | None
    horizon_days: int
    customers: int
    rows: list[dict[str, Any]]


class ChurnEvaluation(BaseModel):
    """The model vs the recency-only baseline on a later cut-off, and the model's calibration table."""

    engine: str
    horizon_days: int
    models: list[dict[str, Any]]
    calibration: list[dict[str, Any]]


class CustomerChurn(BaseModel):
    """One customer's churn risk, reasons and value."""

    customer_id: int
    churn_probability: float
    reasons: list[str]
    segment: str | None
    channel: str | None
    recency_days: float
    orders: float
    spend: float
    revenue_per_period: float
    clv: float
    revenue_at_risk: float
    value_at_risk: float
    category_spend: float | None
    share_of_wallet: float | None
    as_of: str | None


class CustomerInsight(BaseModel):
    """What analytics knows about one customer (None where it cannot say: no activity, no recent order)."""

    customer_id: int
    loyalty: dict[str, Any] | None
    churn: CustomerChurn | None
    churn_note: str | None


class TableResult(BaseModel):
    """An analysis as rows (value at risk by group, retention economics)."""

    engine: str
    rows: list[dict[str, Any]]


class ThemeImpactResult(BaseModel):
    """Themes over time: one row per theme and period with texts, sentiment and NPS impact (with its CI)."""

    engine: str
    period: str
    rows: list[dict[str, Any]]
