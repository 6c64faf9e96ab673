"""Metrics from Python: `hub.metrics.nps(by=["channel"], period="month")` returns a DataFrame."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from cxm.analytics import service

Values = Sequence[str] | str
Filters = dict[str, Values]


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
        attributes: Mapping[str, Sequence[str] | str] | None = None,
        zone: str | None = None,
        **where: Sequence[str] | str,
    ) -> pd.DataFrame:
        """One metric by dimensions and period, with n, 95% CI, change and p-value; keyword filters, and
        `attributes={"tier": "gold"}` filters on customer attributes (broken down by as `by="attr.tier"`); `zone`:
        the time zone of periods and of times without one (default: the settings' `timezone`)."""
        chosen = {**where, **{f"attr.{key}": values for key, values in (attributes or {}).items()}}
        engine = self._engine()
        asked = {"by": by, "period": period, "since": since, "until": until, "zone": zone or engine.zone}
        query = service.describe_query(**asked, where=chosen)
        return service.metric(engine, name, query, target_seconds=target_seconds)

    def nps(self, **options: object) -> pd.DataFrame:
        """Net Promoter Score in points."""
        return self.metric("nps", **options)  # type: ignore[arg-type]

    def csat(self, **options: object) -> pd.DataFrame:
        """Share of satisfied answers (4-5 on 1-5)."""
        return self.metric("csat", **options)  # type: ignore[arg-type]

    def ces(self, **options: object) -> pd.DataFrame:
        """Mean Customer Effort Score (1-7)."""
        return self.metric("ces", **options)  # type: ignore[arg-type]

    def responses(self, **options: object) -> pd.DataFrame:
        """Completed responses counted, with their exact Poisson CI and, per period, the change of their rate."""
        return self.metric("responses", **options)  # type: ignore[arg-type]

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

    def customer(self, customer_id: int) -> dict[str, Any]:
        """What analytics knows about one customer: loyalty rung (and why), churn risk with reasons, and value."""
        return service.customer_insight(self._engine(), customer_id)

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
        filters = service.describe_query(since=since, until=until, where=where, zone=self._engine().zone)
        request = service.DriverQuery(survey, outcome, tuple(drivers), level, method, resamples, filters)
        return service.key_drivers(self._engine(), request)

    def theme_impact(self, *, period: str = "month") -> pd.DataFrame:
        """Per theme and period: texts, mean sentiment, NPS with vs without the theme, difference and 95% CI."""
        return service.theme_impact(self._engine(), period=period)

    def drivers_chart(self, survey: str, outcome: str, *, image: str = "svg", **options: object) -> bytes:
        """The importance x performance quadrant as SVG (or PNG) bytes."""
        return service.quadrant_chart(self.drivers(survey, outcome, **options), image=image)  # type: ignore[arg-type]

    def _journeys(self, by: str | None, since: datetime | None, until: datetime | None, where: Filters,
                  **options: Any) -> service.JourneyQuery:  # fmt: skip
        filters = service.describe_query(since=since, until=until, where=where, zone=self._engine().zone)
        return service.JourneyQuery(by, filters, **options)

    def funnel(
        self, *, by: str | None = None, since: datetime | None = None, until: datetime | None = None, **where: Values
    ) -> pd.DataFrame:
        """Customers reaching awareness -> purchase -> post-purchase, conversion (95% CI) and drop-off per step.

        `by`: channel (the entry channel), segment, country or customer_language; keyword filters: channel, type,
        direction, segment, ...
        """
        return service.funnel(self._engine(), self._journeys(by, since, until, where))

    def funnel_chart(self, *, image: str = "svg", **options: Any) -> bytes:
        """The funnel as SVG (or PNG) bytes."""
        return service.funnel_chart(self.funnel(**options), image=image)

    def stage_times(
        self, *, by: str | None = None, since: datetime | None = None, until: datetime | None = None, **where: Values
    ) -> pd.DataFrame:
        """Days from first reaching each stage to first reaching the next: mean, median, p75, p90."""
        return service.stage_times(self._engine(), self._journeys(by, since, until, where))

    def paths(
        self,
        *,
        top: int = 10,
        steps: int = 5,
        detail: bool = False,
        since: datetime | None = None,
        until: datetime | None = None,
        **where: Values,
    ) -> pd.DataFrame:
        """The most common paths of stages (stage:channel with `detail`), first `steps` steps, with their share."""
        request = self._journeys(None, since, until, where, top=top, steps=steps, detail=detail)
        return service.paths(self._engine(), request)

    def _experience(self, since: datetime | None, until: datetime | None, where: Filters,
                    **options: Any) -> service.ExperienceQuery:  # fmt: skip
        filters = service.describe_query(since=since, until=until, where=where, zone=self._engine().zone)
        return service.ExperienceQuery(filters, **options)

    def stage_experience(
        self, *, by_channel: bool = False, since: datetime | None = None, until: datetime | None = None, **where: Values
    ) -> pd.DataFrame:
        """NPS, CSAT and CES of the answers tied to each stage's (x channel's) interactions, n and 95% CI."""
        return service.stage_experience(self._engine(), self._experience(since, until, where, by_channel=by_channel))

    def moments(
        self, *, min_customers: int = 5, since: datetime | None = None, until: datetime | None = None, **where: Values
    ) -> pd.DataFrame:
        """Moments that matter: stage x channel cells ranked by the NPS gap after a good vs a poor experience."""
        request = self._experience(since, until, where, min_customers=min_customers)
        return service.moments(self._engine(), request)

    def loyalty(self, *, months: int = 12, until: datetime | None = None, currency: str | None = None,
                rules: service.LadderRules | None = None) -> pd.DataFrame:  # fmt: skip
        """Customers, orders and order value per loyalty rung at each of the last `months` month ends."""
        request = service.LoyaltyQuery(months, until, currency, rules or service.LadderRules())
        return service.loyalty_ladder(self._engine(), request)

    def loyalty_transitions(self, *, months: int = 12, until: datetime | None = None,
                            rules: service.LadderRules | None = None) -> pd.DataFrame:  # fmt: skip
        """How many customers moved from each rung to each rung, month to month (`new`: first placed)."""
        request = service.LoyaltyQuery(months, until, None, rules or service.LadderRules())
        return service.loyalty_transitions(self._engine(), request)

    def ladder(self, customer_ids: Sequence[int] = (), *, until: datetime | None = None,
               rules: service.LadderRules | None = None) -> pd.DataFrame:  # fmt: skip
        """Each customer's rung at the last month end (or `until`'s month end) and the features behind it."""
        request = service.LoyaltyQuery(1, until, None, rules or service.LadderRules())
        return service.loyalty_placements(self._engine(), request, customer_ids)

    def rung_of(self, customer_id: int, *, until: datetime | None = None,
                rules: service.LadderRules | None = None) -> str:  # fmt: skip
        """One customer's rung: lost, at_risk, unknown, satisfied, loyal or advocate."""
        request = service.LoyaltyQuery(1, until, None, rules or service.LadderRules())
        return service.rung_of(self._engine(), customer_id, request)
