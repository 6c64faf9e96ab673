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
