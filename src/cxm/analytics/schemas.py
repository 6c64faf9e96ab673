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


class ThemeImpactResult(BaseModel):
    """Themes over time: one row per theme and period with texts, sentiment and NPS impact (with its CI)."""

    engine: str
    period: str
    rows: list[dict[str, Any]]
