"""Customer value, value at risk and the retention calculator against hand computations."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from cxm.analytics.churn_features import ChurnSettings
from cxm.analytics.retention import Measured, RetentionInputs, economics_table
from cxm.analytics.value import Economics, at_risk_by, customer_values
from cxm.core.errors import InvalidInput

ECONOMICS = Economics(margin=0.3, discount_rate=0.10, years=5)


def _by_hand_clv(revenue: float, retention: float, margin: float, periods: int, per_period: float) -> float:
    """Expected discounted margin, period by period: earned only while the customer is still there."""
    total, alive = 0.0, 1.0
    for t in range(1, periods + 1):
        alive *= retention
        total += margin * revenue * alive / (1 + per_period) ** t
    return total


def _customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "segment": ["retail", "retail", "business"],
            "channel": ["web", "store", "web"],
            "churn_probability": [0.2, 0.5, 0.1],
            "spend": [400.0, 120.0, 1000.0],
            "tenure_days": [500.0, 30.0, 200.0],
            "category_spend": [3000.0, None, 0.0],
        }
    )


def test_clv_revenue_and_value_at_risk_match_a_hand_computation() -> None:
    valued = customer_values(_customers(), ECONOMICS, horizon_days=90, lookback_days=365)
    per_period = 1.1 ** (90 / 365) - 1
    # Revenue per 90 days: spend over the time observed (at least one period, at most the look-back window).
    revenues = [400 * 90 / 365, 120 * 90 / 90, 1000 * 90 / 200]
    for row, revenue in zip(valued.to_dict("records"), revenues, strict=True):
        p = row["churn_probability"]
        assert row["revenue_per_period"] == pytest.approx(revenue)
        assert row["clv"] == pytest.approx(_by_hand_clv(revenue, 1 - p, 0.3, 20, per_period))
        assert row["revenue_at_risk"] == pytest.approx(p * revenue)
        assert row["value_at_risk"] == pytest.approx(p * row["clv"])
    assert valued["share_of_wallet"].iloc[0] == pytest.approx(400 * 90 / 365 * 365 / 90 / 3000)
    assert math.isnan(valued["share_of_wallet"].iloc[1]) and math.isnan(valued["share_of_wallet"].iloc[2])


def test_value_at_risk_sums_per_group() -> None:
    valued = customer_values(_customers(), ECONOMICS, horizon_days=90, lookback_days=365)
    grouped = at_risk_by(valued, "segment").set_index("segment")
    retail = valued[valued["segment"] == "retail"]
    assert grouped.loc["retail", "revenue_at_risk"] == pytest.approx(retail["revenue_at_risk"].sum())
    assert grouped.loc["retail", "expected_churners"] == pytest.approx(0.7)
    assert at_risk_by(valued, None)["value_at_risk"].iloc[0] == pytest.approx(valued["value_at_risk"].sum())
    with pytest.raises(InvalidInput):
        at_risk_by(valued, "colour")


def _company_by_hand(retention: float, margin_per_customer: float, per_period: float) -> float:
    customers, total = 1000.0, 0.0
    for t in range(1, 21):
        customers = customers * retention + 50
        total += margin_per_customer * customers / (1 + per_period) ** t
    return total


def test_retention_calculator_matches_a_hand_computation() -> None:
    given = RetentionInputs(retention=0.8, revenue_per_customer=100.0, customers=1000.0, acquired_per_period=50.0)
    table = economics_table(Measured(0, 0, 0, 0), given, ECONOMICS, ChurnSettings(90, 365), 0.05, False)
    rows = table.set_index("figure")
    per_period = 1.1 ** (90 / 365) - 1
    assert rows.loc["retention per period", "with_uplift"] == pytest.approx(0.85)
    clv = (_by_hand_clv(100, 0.8, 0.3, 20, per_period), _by_hand_clv(100, 0.85, 0.3, 20, per_period))
    assert rows.loc["customer lifetime value", "base"] == pytest.approx(clv[0])
    assert rows.loc["customer lifetime value", "with_uplift"] == pytest.approx(clv[1])
    company = (_company_by_hand(0.8, 30, per_period), _company_by_hand(0.85, 30, per_period))
    assert rows.loc["company value", "base"] == pytest.approx(company[0])
    assert rows.loc["company value", "change_pct"] == pytest.approx(100 * (company[1] / company[0] - 1))
    assert set(rows.loc[["retention per period", "customers now"], "source"]) == {"given"}


def test_relative_uplift_and_bad_inputs() -> None:
    given = RetentionInputs(retention=0.5, revenue_per_customer=10.0, customers=10.0, acquired_per_period=0.0)
    table = economics_table(Measured(0, 0, 0, 0), given, Economics(), ChurnSettings(), 0.1, True)
    assert table.set_index("figure").loc["retention per period", "with_uplift"] == pytest.approx(0.55)
    with pytest.raises(InvalidInput):
        economics_table(Measured(0, 0, 0, 0), given, Economics(margin=2.0), ChurnSettings(), 0.1, False)
    with pytest.raises(InvalidInput):
        bad = RetentionInputs(retention=1.0, revenue_per_customer=10.0, customers=1.0, acquired_per_period=0.0)
        economics_table(Measured(0, 0, 0, 0), bad, Economics(), ChurnSettings(), 0.1, False)
