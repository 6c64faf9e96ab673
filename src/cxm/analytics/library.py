"""Metrics from Python: `hub.metrics.nps(by=["channel"], period="month")` returns a DataFrame."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

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
    """Analyses that explain the figures: `hub.analytics.drivers(survey=..., outcome=...)`."""

    def __init__(self, engine: Callable[[], service.Engine]) -> None:
        self._engine = engine

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

    def theme_impact(self, *, period: str = "month") -> pd.DataFrame:
        """Per theme and period: texts, mean sentiment, NPS with vs without the theme, difference and 95% CI."""
        return service.theme_impact(self._engine(), period=period)

    def drivers_chart(self, survey: str, outcome: str, *, image: str = "svg", **options: object) -> bytes:
        """The importance x performance quadrant as SVG (or PNG) bytes."""
        return service.quadrant_chart(self.drivers(survey, outcome, **options), image=image)  # type: ignore[arg-type]
