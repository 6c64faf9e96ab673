"""Journey analytics on every engine find the planted funnel, paths, stage times and moments that matter."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine as SqlEngine

from cxm.analytics import experience, journeys, service
from cxm.analytics.dimensions import Query
from cxm.analytics.engines import Engine
from cxm.analytics.journeys import JourneyQuery
from cxm.core.db import make_sessionmaker
from cxm.core.errors import InvalidInput
from tests.analytics import journey_data
from tests.conftest import _empty


@pytest.fixture(scope="module")
def loaded(engine: SqlEngine) -> Iterator[journey_data.JourneyData]:
    """The planted journeys (overrides the shared dataset, so `engines` syncs these)."""
    _empty(engine)
    with make_sessionmaker(engine)() as session, session.begin():
        data = journey_data.load_journeys(session)
    yield data
    _empty(engine)


def _everywhere(engines: dict[str, Engine], compute: Callable[[Engine], pd.DataFrame]) -> pd.DataFrame:
    """One result, asserted the same on every engine."""
    results = {kind: compute(engine) for kind, engine in engines.items()}
    first = next(iter(results.values()))
    for kind, frame in results.items():
        pd.testing.assert_frame_equal(frame, first, check_dtype=False, obj=kind)
    return first


def _rows(frame: pd.DataFrame, *keys: str) -> dict[Any, dict[str, Any]]:
    return {tuple(row[k] for k in keys) if len(keys) > 1 else row[keys[0]]: row for row in frame.to_dict("records")}


def test_planted_drop_off_appears_in_the_funnel_by_entry_channel(
    engines: dict[str, Engine], loaded: journey_data.JourneyData
) -> None:
    found = _rows(_everywhere(engines, lambda e: service.funnel(e, JourneyQuery(by="channel"))), "group", "stage")
    expected = {"web": (50, 40, 36), "social": (40, 10, 5), "app": (4, 0, 0)}
    for group, counts in expected.items():
        assert [found[(group, stage)]["customers"] for stage in journeys.STAGES] == list(counts)
    assert found[("social", "purchase")]["conversion_pct"] == pytest.approx(25.0)
    assert found[("social", "purchase")]["dropoff_pct"] == pytest.approx(75.0)
    assert found[("web", "purchase")]["conversion_pct"] == pytest.approx(80.0)
    assert found[("web", "post_purchase")]["conversion_pct"] == pytest.approx(90.0)
    low, high = found[("social", "purchase")]["conversion_ci_low"], found[("social", "purchase")]["conversion_ci_high"]
    assert low < 25.0 < high < found[("web", "purchase")]["conversion_ci_low"]
    # Bought in a store before browsing the app: reached purchase, but not in the funnel's order.
    assert found[("app", "purchase")]["reached"] == 4 and found[("app", "purchase")]["customers"] == 0


def test_funnel_overall_and_by_segment(engines: dict[str, Engine], loaded: journey_data.JourneyData) -> None:
    overall = _rows(service.funnel(engines["duckdb"], JourneyQuery()), "stage")
    assert [overall[s]["customers"] for s in journeys.STAGES] == [94, 50, 41]
    assert overall["purchase"]["reached"] == 54 and overall["post_purchase"]["of_first_pct"] == pytest.approx(
        100 * 41 / 94
    )
    by_segment = _rows(_everywhere(engines, lambda e: service.funnel(e, JourneyQuery(by="segment"))), "group", "stage")
    assert by_segment[("business", "purchase")]["conversion_pct"] == pytest.approx(25.0)
    assert by_segment[("(none)", "awareness")]["customers"] == 4


def test_filters_narrow_the_touchpoints(engines: dict[str, Engine], loaded: journey_data.JourneyData) -> None:
    retail = JourneyQuery(filters=Query(where={"segment": ["retail"]}))
    found = _rows(_everywhere(engines, lambda e: service.funnel(e, retail)), "stage")
    assert [found[s]["customers"] for s in journeys.STAGES] == [50, 40, 36]


def test_stage_times_are_the_planted_gaps(engines: dict[str, Engine], loaded: journey_data.JourneyData) -> None:
    found = _rows(
        _everywhere(engines, lambda e: service.stage_times(e, JourneyQuery(by="channel"))), "group", "from_stage"
    )
    assert found[("web", "awareness")]["median_days"] == pytest.approx(2.0)
    assert found[("social", "awareness")]["p90_days"] == pytest.approx(3.0)
    assert found[("web", "purchase")]["n"] == 36 and found[("web", "purchase")]["mean_days"] == pytest.approx(3.0)


def test_planted_common_path_ranks_first(engines: dict[str, Engine], loaded: journey_data.JourneyData) -> None:
    stages = _everywhere(engines, lambda e: service.paths(e, JourneyQuery(top=3)))
    assert stages["path"].tolist() == ["awareness > purchase > post_purchase", "awareness", "awareness > purchase"]
    assert stages["customers"].tolist() == [41, 40, 9]
    assert stages["share_pct"].iloc[0] == pytest.approx(100 * 41 / 94)
    assert stages["purchased"].tolist() == [True, False, True]
    detail = _everywhere(engines, lambda e: service.paths(e, JourneyQuery(detail=True, steps=2)))
    assert detail["path"].iloc[0] == "awareness:web > purchase:web" and detail["customers"].iloc[0] == 40
    assert "purchase:store > awareness:app" in detail["path"].tolist()


def test_experience_at_each_stage(engines: dict[str, Engine], loaded: journey_data.JourneyData) -> None:
    request = experience.ExperienceQuery()
    found = _rows(_everywhere(engines, lambda e: service.stage_experience(e, request)), "journey_stage", "metric")
    assert set(found) == {("purchase", "csat"), ("post_purchase", "csat")}
    assert found[("purchase", "csat")]["value"] == pytest.approx(50.0) and found[("purchase", "csat")]["n"] == 50
    good = sum(loaded.post_good.values())
    assert found[("post_purchase", "csat")]["value"] == pytest.approx(100 * good / 41)
    low, high = found[("post_purchase", "csat")]["ci_low"], found[("post_purchase", "csat")]["ci_high"]
    assert low < 100 * good / 41 < high
    by_channel = service.stage_experience(engines["duckdb"], experience.ExperienceQuery(by_channel=True))
    assert set(zip(by_channel["journey_stage"], by_channel["channel"], strict=True)) == {
        ("purchase", "web"),
        ("post_purchase", "email"),
    }


def test_the_moment_that_matters_ranks_first(engines: dict[str, Engine], loaded: journey_data.JourneyData) -> None:
    found = _everywhere(engines, lambda e: service.moments(e, experience.ExperienceQuery()))
    first = found.iloc[0]
    assert (first["journey_stage"], first["channel"], first["rank"]) == ("post_purchase", "email", 1)
    assert first["nps_good"] == 100 and first["nps_poor"] == -100 and first["nps_gap"] == 200
    assert first["customers"] == 41 and first["poor_pct"] == pytest.approx(100 * 14 / 41)
    second = found.iloc[1]
    assert (second["journey_stage"], second["channel"]) == ("purchase", "web")
    assert second["gap_ci_low"] < 0 < second["gap_ci_high"] and second["p_value"] > 0.05


def test_stage_and_channel_experiences_are_key_drivers(
    engines: dict[str, Engine], loaded: journey_data.JourneyData
) -> None:
    stages = ("stage:purchase", "stage:post_purchase")
    asked = service.DriverQuery("relationship-nps", "nps", stages, level="customer", resamples=50)
    found = _everywhere(engines, lambda e: service.key_drivers(e, asked)).set_index("driver")
    # The planted post-purchase CSAT decides NPS; the purchase CSAT alternates independently of it.
    assert found.loc["stage:post_purchase", "rank"] == 1 and found.loc["stage:purchase", "rank"] == 2
    assert found.loc["stage:purchase", "importance_pct"] < 10 and (found["n"] == 41).all()
    served = loaded.post_good
    assert found.loc["stage:post_purchase", "performance"] == pytest.approx(100 * sum(served.values()) / len(served))
    # Post-purchase service happens by e-mail: the channel experience carries the same weight.
    by_channel = service.DriverQuery("relationship-nps", "nps", ("stage:purchase", "channel:email"), level="customer")
    assert service.key_drivers(engines["duckdb"], by_channel).iloc[0]["driver"] == "channel:email"
    with pytest.raises(InvalidInput, match="customer level"):
        service.key_drivers(engines["duckdb"], service.DriverQuery("relationship-nps", "nps", stages[:1]))
    with pytest.raises(InvalidInput, match="unknown experience"):
        service.key_drivers(engines["duckdb"], service.DriverQuery("relationship-nps", "nps", ("stage:x",), "customer"))


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (JourneyQuery(by="agent"), "cannot break journeys down by 'agent'"),
        (JourneyQuery(filters=Query(where={"journey_stage": ["purchase"]})), "cannot break down or filter"),
        (JourneyQuery(top=0), "top must be"),
        (JourneyQuery(filters=Query(period="month")), "not a metric breakdown or a period"),
    ],
)
def test_bad_journey_requests_are_refused(
    engines: dict[str, Engine], loaded: journey_data.JourneyData, request_: JourneyQuery, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        service.funnel(engines["duckdb"], request_)
