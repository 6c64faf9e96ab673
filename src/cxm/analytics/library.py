"""Metrics from Python: `hub.metrics.nps(by=["channel"], period="month")` returns a DataFrame."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from cxm.analytics import service


class Metrics:
    """Every metric as a method; the same numbers as the API and `cxm report`."""

    def __init__(self, engine: Callable[[], service.Engine]) -> None:
        self._engine = engine

    def metric(
        self,
        name: str,
        *,
        by: Sequence[str] | str | None = None,
        period: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        target_seconds: float = service.DEFAULT_TARGET_SECONDS,
        **where: Sequence[str] | str,
    ) -> pd.DataFrame:
        """One metric by dimensions and period, with n, 95% CI, change and p-value; keyword filters."""
        query = service.describe_query(by=by, period=period, since=since, until=until, where=where)
        return service.metric(self._engine(), name, query, target_seconds=target_seconds)

    def nps(self, **options: object) -> pd.DataFrame:
        """Net Promoter Score in points."""
        return self.metric("nps", **options)  # type: ignore[arg-type]

    def csat(self, **options: object) -> pd.DataFrame:
        """Share of satisfied answers (4-5 on 1-5)."""
        return self.metric("csat", **options)  # type: ignore[arg-type]

    def ces(self, **options: object) -> pd.DataFrame:
        """Mean Customer Effort Score (1-7)."""
        return self.metric("ces", **options)  # type: ignore[arg-type]

    def response_rate(self, **options: object) -> pd.DataFrame:
        """Share of invitations answered."""
        return self.metric("response_rate", **options)  # type: ignore[arg-type]

    def first_response_time(self, **options: object) -> pd.DataFrame:
        """Median and p90 first-response time of inbound questions, and the share within the target."""
        return self.metric("first_response_time", **options)  # type: ignore[arg-type]


class Analyses:
    """Analyses that explain the figures: `hub.analytics.drivers(survey=..., outcome=...)`, `hub.analytics.churn()`."""

    def __init__(self, engine: Callable[[], service.Engine]) -> None:
        self._engine = engine

    def churn(self, **options: Any) -> pd.DataFrame:
        """Every active customer: calibrated churn probability, top 3 reasons, revenue per period, CLV, value at risk.

        Options: horizon_days (90; churn = no order in that many days), lookback_days (365), margin (1.0),
        discount_rate (0.10 a year), years (5), now (default: just after the newest order).
        """
        return service.churn_table(self._engine(), service.churn_request(**options))

    def churn_of(self, customer_id: int, **options: Any) -> dict[str, Any]:
        """One customer's churn probability, reasons and value (raises NotFound when not active)."""
        return service.churn_risk_of(self._engine(), customer_id, service.churn_request(**options))

    def churn_evaluation(self, *, test_cutoff: datetime | None = None, **options: Any) -> pd.DataFrame:
        """The model and the recency-only baseline trained one horizon before `test_cutoff`: AUC, Brier, rates."""
        return service.churn_evaluation(self._engine(), service.churn_request(**options), test_cutoff)[0]

    def churn_calibration(self, *, test_cutoff: datetime | None = None, **options: Any) -> pd.DataFrame:
        """Predicted vs observed churn by probability bin on the test cut-off."""
        return service.churn_evaluation(self._engine(), service.churn_request(**options), test_cutoff)[1]

    def value_at_risk(self, by: str | None = "segment", **options: Any) -> pd.DataFrame:
        """Revenue at risk (next period) and value at risk (CLV) by segment, channel or country (None: total)."""
        return service.value_at_risk(self._engine(), service.churn_request(**options), by)

    def retention_economics(
        self,
        uplift: float = 0.05,
        *,
        relative: bool = False,
        retention: float | None = None,
        revenue_per_customer: float | None = None,
        customers: float | None = None,
        acquired_per_period: float | None = None,
        **options: Any,
    ) -> pd.DataFrame:
        """What `uplift` more retention per period is worth (CLV and company value); any input can be given."""
        given = service.RetentionInputs(retention, revenue_per_customer, customers, acquired_per_period)
        request = service.churn_request(**options)
        return service.retention_economics(self._engine(), request, uplift=uplift, relative=relative, given=given)

    def drivers(
        self,
        survey: str,
        outcome: str,
        *,
        drivers: Sequence[str] = (),
        level: str = "response",
        method: str = "relative_weights",
        resamples: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        **where: Sequence[str] | str,
    ) -> pd.DataFrame:
        """Key drivers of a question: share of R^2 with 95% CI, rank, performance and quadrant per driver."""
        filters = service.describe_query(since=since, until=until, where=where)
        request = service.DriverQuery(survey, outcome, tuple(drivers), level, method, resamples, filters)
        return service.key_drivers(self._engine(), request)

    def drivers_chart(self, survey: str, outcome: str, *, image: str = "svg", **options: object) -> bytes:
        """The importance x performance quadrant as SVG (or PNG) bytes."""
        return service.quadrant_chart(self.drivers(survey, outcome, **options), image=image)  # type: ignore[arg-type]
