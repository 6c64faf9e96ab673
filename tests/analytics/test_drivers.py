"""Key driver analysis on every engine recovers the planted driver; weights equal an independent implementation."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine as SqlEngine

from cxm.analytics import importance, service
from cxm.analytics.charts import quadrant_chart
from cxm.analytics.dimensions import Query
from cxm.analytics.drivers import DriverQuery, key_drivers
from cxm.analytics.engines import Engine
from cxm.core.db import make_sessionmaker
from cxm.core.errors import InvalidInput
from tests.analytics import driver_data
from tests.conftest import _empty

TOLERANCE = 1e-9


@pytest.fixture(scope="module")
def loaded(engine: SqlEngine) -> Iterator[driver_data.DriverData]:
    """The planted ratings (overrides the shared dataset, so `engines` syncs these)."""
    _empty(engine)
    with make_sessionmaker(engine)() as session, session.begin():
        data = driver_data.load(session)
    yield data
    _empty(engine)


def johnson_by_svd(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Johnson (2000) as published: orthogonal Z* = P Q' from the SVD of Z, regress, map back through Lambda."""
    z = (x - x.mean(axis=0)) / np.linalg.norm(x - x.mean(axis=0), axis=0)
    zy = (y - y.mean()) / np.linalg.norm(y - y.mean())
    p, _, qt = np.linalg.svd(z, full_matrices=False)
    orthogonal = p @ qt
    beta = np.linalg.lstsq(orthogonal, zy, rcond=None)[0]
    lam = np.linalg.lstsq(orthogonal, z, rcond=None)[0]
    return np.asarray((lam**2).T @ (beta**2))


def ols_r2(x: np.ndarray, y: np.ndarray) -> float:
    """R^2 of least squares with an intercept."""
    design = np.column_stack([np.ones(len(y)), x])
    fitted = design @ np.linalg.lstsq(design, y, rcond=None)[0]
    return float(1 - ((y - fitted) ** 2).sum() / ((y - y.mean()) ** 2).sum())


def shapley_by_orders(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """LMG by brute force: each driver's R^2 gain averaged over every order of entry."""
    p, gains = x.shape[1], np.zeros(x.shape[1])
    orders = list(itertools.permutations(range(p)))
    for order in orders:
        for position, j in enumerate(order):
            before = list(order[:position])
            gains[j] += ols_r2(x[:, [*before, j]], y) - (ols_r2(x[:, before], y) if before else 0.0)
    return gains / len(orders)


def _response_matrix(data: driver_data.DriverData) -> tuple[np.ndarray, np.ndarray]:
    keep = [row for row in data.rows if all(row[k] is not None for k in driver_data.DRIVERS)]
    x = np.array([[row[k] for k in driver_data.DRIVERS] for row in keep], dtype=float)
    return x, np.array([row["overall"] for row in keep], dtype=float)


def _everywhere(engines: dict[str, Engine], request: DriverQuery) -> pd.DataFrame:
    """The driver table, asserted the same on every engine."""
    results = {kind: key_drivers(engine, request) for kind, engine in engines.items()}
    first = next(iter(results.values()))
    for kind, frame in results.items():
        pd.testing.assert_frame_equal(frame, first, check_dtype=False, rtol=TOLERANCE, obj=kind)
    return first


def test_planted_driver_ranks_first_with_johnson_weights(
    engines: dict[str, Engine], loaded: driver_data.DriverData
) -> None:
    found = _everywhere(engines, DriverQuery(survey="store-visit", outcome="overall"))
    x, y = _response_matrix(loaded)
    expected = dict(zip(driver_data.DRIVERS, johnson_by_svd(x, y), strict=True))
    assert found["driver"].iloc[0] == "waiting" and found["driver"].iloc[-1] == "tidiness"
    for row in found.to_dict("records"):
        assert row["weight"] == pytest.approx(expected[row["driver"]], abs=TOLERANCE)
        assert row["weight_ci_low"] <= row["weight"] <= row["weight_ci_high"]
        assert 0 <= row["importance_ci_low"] <= row["importance_pct"] <= row["importance_ci_high"] <= 100
        assert row["n"] == len(y)
    assert found["weight"].sum() == pytest.approx(ols_r2(x, y), abs=TOLERANCE)
    assert found["importance_pct"].sum() == pytest.approx(100.0)
    assert found.set_index("driver").loc["waiting", "quadrant"] in ("fix first", "keep")


def test_performance_is_the_mean_on_each_scale(engines: dict[str, Engine], loaded: driver_data.DriverData) -> None:
    found = key_drivers(engines["duckdb"], DriverQuery(survey="store-visit", outcome="overall", resamples=0))
    x, _ = _response_matrix(loaded)
    for j, name in enumerate(driver_data.DRIVERS):
        row = found.set_index("driver").loc[name]
        assert row["mean_score"] == pytest.approx(x[:, j].mean(), abs=TOLERANCE)
        assert row["performance"] == pytest.approx(100 * (x[:, j].mean() - 1) / 4, abs=TOLERANCE)
    assert found["weight_ci_low"].isna().all()


def test_shapley_equals_brute_force_over_orders(engines: dict[str, Engine], loaded: driver_data.DriverData) -> None:
    request = DriverQuery(survey="store-visit", outcome="overall", method="shapley", resamples=50)
    found = _everywhere(engines, request).set_index("driver")
    x, y = _response_matrix(loaded)
    for name, weight in zip(driver_data.DRIVERS, shapley_by_orders(x, y), strict=True):
        assert found.loc[name, "weight"] == pytest.approx(weight, abs=TOLERANCE)
    assert found.index[0] == "waiting"


def test_customer_level_drivers_across_surveys(engines: dict[str, Engine], loaded: driver_data.DriverData) -> None:
    request = DriverQuery(survey="store-visit", outcome="overall", drivers=["waiting", "purchase.csat"],
                          level="customer", resamples=0)  # fmt: skip
    found = _everywhere(engines, request).set_index("driver")
    table = pd.DataFrame(loaded.rows).groupby("customer_id")[["overall", "waiting"]].mean()
    table["csat"] = pd.Series({c: np.mean(s) for c, s in loaded.customers.items()})
    table = table.dropna()
    expected = johnson_by_svd(table[["waiting", "csat"]].to_numpy(), table["overall"].to_numpy())
    assert found.loc["waiting", "weight"] == pytest.approx(expected[0], abs=TOLERANCE)
    assert found.loc["purchase.csat", "weight"] == pytest.approx(expected[1], abs=TOLERANCE)
    assert found["n"].iloc[0] == len(table)


def test_filters_narrow_the_answers(engines: dict[str, Engine], loaded: driver_data.DriverData) -> None:
    request = DriverQuery(
        survey="store-visit", outcome="overall", resamples=0, filters=Query(where={"segment": ["retail"]})
    )
    found = _everywhere(engines, request)
    retail = [r for r in loaded.rows if loaded.segments[int(r["customer_id"] or 0)] == "retail"]
    x, y = _response_matrix(driver_data.DriverData(rows=retail))
    assert found["n"].iloc[0] == len(y)
    assert found.set_index("driver")["weight"].to_dict() == pytest.approx(
        dict(zip(driver_data.DRIVERS, johnson_by_svd(x, y), strict=True)), abs=TOLERANCE
    )


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (DriverQuery(survey="store-visit", outcome="nope"), "no scored question 'store-visit.nope'"),
        (DriverQuery(survey="store-visit", outcome="overall", drivers=["overall"]), "other than the outcome"),
        (DriverQuery(survey="store-visit", outcome="overall", drivers=["purchase.csat"]), "customer level only"),
        (DriverQuery(survey="store-visit", outcome="overall", method="magic"), "unknown importance method"),
        (DriverQuery(survey="store-visit", outcome="overall", level="store"), "unknown level"),
    ],
)
def test_bad_requests_are_refused(
    engines: dict[str, Engine], loaded: driver_data.DriverData, request_: DriverQuery, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        key_drivers(engines["duckdb"], request_)


def test_relative_weights_sum_to_r_squared_and_survive_collinear_noise() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(400, 6))
    x[:, 1] = x[:, 0] + 0.1 * rng.normal(size=400)
    y = x[:, 0] + 0.5 * x[:, 2] + rng.normal(size=400)
    weights = importance.relative_weights(x, y)
    assert weights == pytest.approx(johnson_by_svd(x, y), abs=TOLERANCE)
    assert weights.sum() == pytest.approx(ols_r2(x, y), abs=TOLERANCE) and (weights >= 0).all()
    assert importance.shapley_weights(x, y).sum() == pytest.approx(ols_r2(x, y), abs=TOLERANCE)
    with pytest.raises(InvalidInput, match="collinear"):
        importance.check_fit(np.column_stack([x, x[:, 0]]), y, [f"d{i}" for i in range(7)], "relative_weights")


def test_bootstrap_intervals_are_reproducible() -> None:
    rng = np.random.default_rng(9)
    x = rng.normal(size=(200, 3))
    y = x[:, 0] + rng.normal(size=200)
    first, again = importance.importance(x, y, resamples=100), importance.importance(x, y, resamples=100)
    assert np.array_equal(first.ci_low, again.ci_low) and np.array_equal(first.ci_high, again.ci_high)
    assert not math.isnan(first.ci_low[0]) and first.ci_low[0] > first.ci_high[1]


def test_quadrant_chart_is_an_svg_naming_every_driver(
    engines: dict[str, Engine], loaded: driver_data.DriverData
) -> None:
    found = key_drivers(engines["duckdb"], DriverQuery(survey="store-visit", outcome="overall", resamples=0))
    found.loc[0, "driver"] = "<script>x</script>"
    svg = quadrant_chart(found).decode()
    assert svg.startswith("<?xml") and "<svg" in svg and "<script>" not in svg and "&lt;script&gt;" in svg
    for name in ("staff", "price", "tidiness", "fix first", "overkill"):
        assert name in svg
    assert quadrant_chart(found) == quadrant_chart(found)
    assert quadrant_chart(found, image="png").startswith(b"\x89PNG")


def test_a_response_answering_several_questions_counts_once(
    engines: dict[str, Engine], loaded: driver_data.DriverData
) -> None:
    answered = [row for row in loaded.rows if any(score is not None for score in row.values())]
    purchases = sum(len(scores) for scores in loaded.customers.values())
    for kind, engine in engines.items():
        found = service.metric(engine, "responses", Query(by=["survey"])).set_index("survey")["n"]
        assert found.to_dict() == {"store-visit": len(answered), "purchase": purchases}, kind
        by_question = service.metric(engine, "responses", Query(by=["question"], where={"survey": ["store-visit"]}))
        assert by_question["n"].sum() > len(answered) and by_question["n"].max() <= len(answered), kind
