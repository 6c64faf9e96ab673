"""Customer value, retention-based: what a customer is worth given how likely they are to stay.

One period is the churn horizon (H days). For a customer with revenue `m` per period (their spend in the
look-back window scaled to one period), gross margin `g`, churn probability `p` per period (so retention
r = 1 - p) and discount rate `d` per period (from the annual rate: (1 + d_year)^(H / 365) - 1):

    CLV = g * m * sum_{t=1..N} (r / (1 + d))^t          N = round(years * 365 / H) periods

(revenue of period t arrives only if the customer is still there, with probability r^t, and is discounted t
periods). Revenue at risk = p * m (next period's revenue that leaves with the customer); value at risk = p * CLV.
Share of wallet = our revenue per year / the customer's total category spend per year (the `category_spend`
customer attribute), where that trait is known.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxm.core.errors import InvalidInput

YEAR_DAYS = 365.0


@dataclass(frozen=True)
class Economics:
    """The money side: gross margin (share of revenue), annual discount rate, and the horizon in years."""

    margin: float = 1.0
    discount_rate: float = 0.10
    years: float = 5.0

    def check(self) -> None:
        """Refuse values that make no sense."""
        if not 0 < self.margin <= 1 or not 0 <= self.discount_rate < 1 or not 0 < self.years <= 50:
            raise InvalidInput(
                "margin must be in (0, 1], discount_rate in [0, 1) and years in (0, 50]",
                details={"margin": self.margin, "discount_rate": self.discount_rate, "years": self.years},
            )


def period_discount(economics: Economics, horizon_days: int) -> float:
    """The discount rate of one period from the annual rate."""
    return float((1 + economics.discount_rate) ** (horizon_days / YEAR_DAYS) - 1)


def periods(economics: Economics, horizon_days: int) -> int:
    """How many periods the horizon in years holds (at least one)."""
    return max(1, round(economics.years * YEAR_DAYS / horizon_days))


def discounted_survival(retention: np.ndarray, discount: float, count: int) -> np.ndarray:
    """sum_{t=1..count} (r / (1 + d))^t for each retention r."""
    q = np.asarray(retention, dtype="float64") / (1 + discount)
    steps = np.arange(1, count + 1)
    return np.asarray((q[:, None] ** steps[None, :]).sum(axis=1))


def revenue_per_period(frame: pd.DataFrame, horizon_days: int, lookback_days: int) -> np.ndarray:
    """Spend in the look-back window scaled to one period; a newer customer's spend over the time they had."""
    observed = np.clip(frame["tenure_days"].to_numpy(dtype="float64"), horizon_days, lookback_days)
    return np.asarray(frame["spend"].to_numpy(dtype="float64") * horizon_days / observed)


def customer_values(frame: pd.DataFrame, economics: Economics, horizon_days: int, lookback_days: int) -> pd.DataFrame:
    """Add revenue per period, CLV, revenue and value at risk and share of wallet to scored customers."""
    economics.check()
    p = frame["churn_probability"].to_numpy(dtype="float64")
    revenue = revenue_per_period(frame, horizon_days, lookback_days)
    factor = discounted_survival(1 - p, period_discount(economics, horizon_days), periods(economics, horizon_days))
    valued = frame.copy()
    valued["revenue_per_period"] = revenue
    valued["clv"] = economics.margin * revenue * factor
    valued["revenue_at_risk"] = p * revenue
    valued["value_at_risk"] = p * valued["clv"]
    yearly = revenue * YEAR_DAYS / horizon_days
    spend = valued["category_spend"].to_numpy(dtype="float64")
    valued["share_of_wallet"] = np.where(spend > 0, yearly / np.where(spend > 0, spend, 1), np.nan)
    return valued


GROUPS = ("segment", "channel", "country")


def at_risk_by(valued: pd.DataFrame, by: str | None) -> pd.DataFrame:
    """Revenue and value at risk summed per group (or in total), with the expected number of churners."""
    if by is not None and by not in GROUPS:
        raise InvalidInput(f"cannot group value at risk by '{by}'", details={"allowed": list(GROUPS)})
    frame = valued.assign(group=valued[by].fillna("(none)") if by else "all")
    sums = frame.groupby("group", sort=True).agg(
        customers=("customer_id", "size"),
        expected_churners=("churn_probability", "sum"),
        revenue_per_period=("revenue_per_period", "sum"),
        revenue_at_risk=("revenue_at_risk", "sum"),
        clv=("clv", "sum"),
        value_at_risk=("value_at_risk", "sum"),
    )
    sums["mean_churn_probability"] = sums["expected_churners"] / sums["customers"]
    sums["revenue_at_risk_pct"] = (
        100 * sums["revenue_at_risk"] / sums["revenue_per_period"].where(sums["revenue_per_period"] > 0)
    )
    sums = sums.reset_index().rename(columns={"group": by or "group"})
    return sums.sort_values("revenue_at_risk", ascending=False, ignore_index=True)
