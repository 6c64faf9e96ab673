"""Retention economics: what a few points more retention are worth, from the company's own numbers.

Per period (the churn horizon, H days): retention r (share of customers active at the start who ordered again
within the period), revenue m per active customer, gross margin g, discount d (from the annual rate), N periods
in the horizon, N0 customers active now and A newly acquired per period. Then

    CLV(r)           = g * m * sum_{t=1..N} (r / (1 + d))^t
    customers_t      = customers_{t-1} * r + A,  customers_0 = N0
    company value(r) = sum_{t=1..N} g * m * customers_t / (1 + d)^t

The uplift is in points of retention per period (r + x, capped below 1), or relative when asked (r * (1 + x)); with
`horizon_days=365` retention is yearly. (Churn here is "no order in the next period": a customer who skips a period
may come back, so a per-period rate is not compounded into a yearly one.)
Any input can be given instead of measured; each row says where its figure came from. The folklore "5-10% more
retention, 25-95% (or 30%) more value" is then a figure to check, not a constant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from cxm.analytics.churn_features import ChurnSettings, features_at
from cxm.analytics.engines import Engine
from cxm.analytics.value import Economics, discounted_survival, period_discount, periods, revenue_per_period
from cxm.core.errors import InvalidInput

MOST = 0.999  # retention of exactly 1 would make every customer immortal
COLUMNS = ["figure", "base", "with_uplift", "change_pct", "source", "note"]


@dataclass(frozen=True)
class RetentionInputs:
    """Inputs that override what the data says (None: measured)."""

    retention: float | None = None
    revenue_per_customer: float | None = None
    customers: float | None = None
    acquired_per_period: float | None = None


@dataclass(frozen=True)
class Measured:
    """What the data says, per period."""

    retention: float
    revenue_per_customer: float
    customers: float
    acquired_per_period: float


def measure(engine: Engine, settings: ChurnSettings, now: datetime) -> Measured:
    """Retention, revenue per customer, customers now and acquisitions in the last period, from orders."""
    with engine.connect() as tables:
        before, current = features_at(tables, now - settings.horizon, settings), features_at(tables, now, settings)
    if before.empty or current.empty:
        raise InvalidInput("not enough order history to measure retention: give retention and revenue instead")
    revenue = revenue_per_period(current, settings.horizon_days, settings.lookback_days)
    return Measured(
        retention=float(1 - before["churned"].mean()),
        revenue_per_customer=float(revenue.mean()),
        customers=float(len(current)),
        acquired_per_period=float((current["tenure_days"] < settings.horizon_days).sum()),
    )


def company_value(retention: float, m: float, customers: float, acquired: float, discount: float, count: int) -> float:
    """Discounted margin of today's customers and each period's new ones, over `count` periods (m: margin/customer)."""
    active, total = customers, 0.0
    for t in range(1, count + 1):
        active = active * retention + acquired
        total += m * active / (1 + discount) ** t
    return total


def uplifted(retention: float, uplift: float, *, relative: bool) -> float:
    """The retention per period after raising it by `uplift` points (or by that share), kept below 1."""
    raised = retention * (1 + uplift) if relative else retention + uplift
    return float(min(raised, MOST))


def _picked(found: Measured, given: RetentionInputs) -> dict[str, tuple[float, str]]:
    """Each input with where it came from: given by the user, else measured."""
    names = ("retention", "revenue_per_customer", "customers", "acquired_per_period")
    return {n: (v, "given") if (v := getattr(given, n)) is not None else (getattr(found, n), "data") for n in names}


def economics_table(
    found: Measured,
    given: RetentionInputs,
    economics: Economics,
    settings: ChurnSettings,
    uplift: float,
    relative: bool,
) -> pd.DataFrame:
    """The calculator's inputs and results with the uplift applied, each row saying where its figure came from."""
    economics.check()
    pick = _picked(found, given)
    (r, r_from), (m, m_from) = pick["retention"], pick["revenue_per_customer"]
    (people, people_from), (new, new_from) = pick["customers"], pick["acquired_per_period"]
    if not 0 <= r < 1:
        raise InvalidInput("retention per period must be in [0, 1)", details={"retention": r})
    h = settings.horizon_days
    d, n, g = period_discount(economics, h), periods(economics, h), economics.margin
    r2 = uplifted(r, uplift, relative=relative)
    clv = [float(g * m * discounted_survival(np.array([x]), d, n)[0]) for x in (r, r2)]
    value = [company_value(x, g * m, people, new, d, n) for x in (r, r2)]
    how = f"x(1+{uplift:g})" if relative else f"+{uplift:g}"
    rows = [
        ("retention per period", r, r2, r_from, f"ordered again within {h} days; uplift {how}"),
        ("revenue per customer per period", m, m, m_from, f"mean over customers active now, {h}-day period"),
        ("gross margin", g, g, "given" if g != 1 else "default", "1.0 counts revenue, not profit"),
        ("discount rate per year", economics.discount_rate, economics.discount_rate, "given", f"{d:.4f} per period"),
        ("periods", float(n), float(n), "given", f"{economics.years:g} years of {h}-day periods"),
        ("customers now", people, people, people_from, "active: ordered in the look-back window"),
        ("acquired per period", new, new, new_from, "first order in the last period"),
        ("customer lifetime value", clv[0], clv[1], "computed", "g * m * sum (r / (1 + d))^t"),
        ("company value", value[0], value[1], "computed", "discounted margin of today's and new customers"),
    ]
    return pd.DataFrame([(f, b, u, _change(b, u), s, note) for f, b, u, s, note in rows], columns=COLUMNS)


def _change(base: float, new: float) -> float | None:
    return None if base == 0 else 100 * (new - base) / base
