"""Churn on every engine: the planted signal beats recency alone on a time split; value formulas by hand."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sqlalchemy import Engine as SqlEngine
from threadpoolctl import threadpool_info

from cxm.analytics import churn, risk
from cxm.analytics.churn_features import ChurnSettings, feature_names, features_at
from cxm.analytics.engines import Engine
from cxm.analytics.risk import ChurnRequest, churn_table, value_at_risk
from cxm.core.db import make_sessionmaker
from tests.analytics import churn_data
from tests.conftest import _empty

SETTINGS = ChurnSettings(horizon_days=90, lookback_days=180)


@pytest.fixture(scope="module")
def loaded(engine: SqlEngine) -> Iterator[churn_data.ChurnData]:
    """The planted customers (overrides the shared dataset, so `engines` syncs these)."""
    _empty(engine)
    with make_sessionmaker(engine)() as session, session.begin():
        data = churn_data.load(session)
    yield data
    _empty(engine)


def _features(engine: Engine) -> pd.DataFrame:
    with engine.connect() as tables:
        return features_at(tables, churn_data.TEST, SETTINGS)


def test_features_are_the_same_on_every_engine(engines: dict[str, Engine]) -> None:
    found = {kind: _features(engine) for kind, engine in engines.items()}
    columns = ["customer_id", *feature_names(), "churned", "segment", "channel", "category_spend"]
    first = next(iter(found.values()))[columns]
    for kind, frame in found.items():
        pd.testing.assert_frame_equal(frame[columns], first, check_dtype=False, rtol=1e-9, obj=kind)


def test_recency_frequency_spend_and_label_match_the_orders(
    engines: dict[str, Engine], loaded: churn_data.ChurnData
) -> None:
    frame = _features(engines["duckdb"]).set_index("customer_id")
    cutoff, start = churn_data.TEST, churn_data.TEST - timedelta(days=180)
    for person, made in list(loaded.orders.items())[:40]:
        before = [(at, amount) for at, amount in made if at < cutoff]
        if not before or before[-1][0] < start:
            assert person not in frame.index
            continue
        row = frame.loc[person]
        # Engines compare times in whole epoch seconds.
        expected = (cutoff.timestamp() - math.floor(before[-1][0].timestamp())) / 86400
        assert row["recency_days"] == pytest.approx(expected, rel=1e-12)
        assert row["orders"] == sum(1 for at, _ in before if at >= start)
        assert row["spend"] == pytest.approx(sum(amount for at, amount in before if at >= start))
        after = [at for at, _ in made if cutoff <= at < cutoff + timedelta(days=90)]
        assert row["churned"] == (not after)


def test_model_beats_recency_baseline_on_a_time_split(engines: dict[str, Engine]) -> None:
    for kind, engine in engines.items():
        summary, calibration = churn.evaluate(engine, SETTINGS, churn_data.TEST)
        model, baseline = summary.set_index("model").loc["model"], summary.set_index("model").loc["recency_baseline"]
        assert model["auc"] > baseline["auc"] + 0.05, kind
        assert model["brier"] < baseline["brier"], kind
        assert model["train_cutoff"] == churn_data.TRAIN.isoformat()
        assert calibration["n"].sum() == model["n_test"]


def test_planted_customer_top_reason_is_the_unanswered_questions(
    engines: dict[str, Engine], loaded: churn_data.ChurnData
) -> None:
    scored, model = churn.score_now(engines["duckdb"], SETTINGS, churn_data.TEST)
    row = scored.set_index("customer_id").loc[loaded.planted]
    assert str(row["reason_1"]).startswith("questions without a response: 2 ")
    assert model.coefficients[feature_names().index("unanswered")] > 0
    assert row["churn_probability"] > scored["churn_probability"].median()


def test_value_at_risk_adds_up_the_customers(engines: dict[str, Engine], loaded: churn_data.ChurnData) -> None:
    request = ChurnRequest(SETTINGS, now=churn_data.TEST)
    customers = churn_table(engines["duckdb"], request)
    grouped = value_at_risk(engines["duckdb"], request, "segment").set_index("segment")
    for segment, rows in customers.groupby("segment"):
        assert grouped.loc[segment, "revenue_at_risk"] == pytest.approx(rows["revenue_at_risk"].sum())
        assert grouped.loc[segment, "customers"] == len(rows)
    known = customers.dropna(subset=["category_spend"]).iloc[0]
    yearly = known["revenue_per_period"] * 365 / 90
    assert known["share_of_wallet"] == pytest.approx(yearly / loaded.category_spend[int(known["customer_id"])])
    assert np.isnan(customers[customers["category_spend"].isna()]["share_of_wallet"]).all()


def test_scores_are_kept_until_the_store_changes(
    engines: dict[str, Engine], loaded: churn_data.ChurnData, monkeypatch: pytest.MonkeyPatch
) -> None:
    fitted: list[object] = []
    real_score_now = churn.score_now
    monkeypatch.setattr(churn, "score_now", lambda *a: fitted.append(a) or real_score_now(*a))
    store, request = engines["duckdb"], ChurnRequest(SETTINGS, now=churn_data.TEST + timedelta(days=1))
    first = churn_table(store, request)
    monkeypatch.setattr(risk.time, "monotonic", lambda: 1e12)  # far past the live engines' minute
    pd.testing.assert_frame_equal(churn_table(store, request), first)
    assert len(fitted) == 1
    path = store.url.removeprefix("duckdb:///")
    duckdb.connect(path).execute("CREATE TABLE IF NOT EXISTS touched (n INT); INSERT INTO touched VALUES (1)").close()
    churn_table(store, request)
    assert len(fitted) == 2  # the store changed: scored again


def test_the_model_is_fitted_on_one_blas_thread_and_the_limit_is_lifted_after(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[set[int]] = []
    real_fit = LogisticRegression.fit
    monkeypatch.setattr(
        LogisticRegression, "fit", lambda self, *a, **k: seen.append(_threads()) or real_fit(self, *a, **k)
    )
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.random((80, len(feature_names()))), columns=feature_names())
    frame["churned"] = (frame["recency_days"] + rng.random(80) > 1.0).astype(int)
    before = threadpool_info()
    model = churn.fit(frame, feature_names())
    assert seen and all(threads == {1} for threads in seen)
    assert model.probability(frame).min() >= 0 and model.probability(frame).max() <= 1
    assert threadpool_info() == before


def _threads() -> set[int]:
    return {int(pool["num_threads"]) for pool in threadpool_info()}
