"""The loyalty ladder on every engine puts planted customers on the expected rung and finds their transitions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pandas as pd
import pytest
from sqlalchemy import Engine as SqlEngine

from cxm.analytics import service
from cxm.analytics.engines import Engine
from cxm.analytics.loyalty import RUNGS, LadderRules, LoyaltyQuery
from cxm.core.db import make_sessionmaker
from cxm.core.errors import InvalidInput, NotFound
from tests.analytics import journey_data
from tests.conftest import _empty

JUNE = LoyaltyQuery(months=2, until=datetime(2026, 6, 15, tzinfo=UTC))


@pytest.fixture(scope="module")
def loaded(engine: SqlEngine) -> Iterator[dict[str, int]]:
    """The planted ladder customers (overrides the shared dataset, so `engines` syncs these)."""
    _empty(engine)
    with make_sessionmaker(engine)() as session, session.begin():
        ids = journey_data.load_ladder(session)
    yield ids
    _empty(engine)


def _everywhere(engines: dict[str, Engine], compute: object) -> pd.DataFrame:
    results = {kind: compute(engine) for kind, engine in engines.items()}  # type: ignore[operator]
    first: pd.DataFrame = next(iter(results.values()))
    for kind, frame in results.items():
        pd.testing.assert_frame_equal(frame, first, check_dtype=False, obj=kind)
    return first


def test_planted_customers_land_on_their_rungs(engines: dict[str, Engine], loaded: dict[str, int]) -> None:
    may = replace(JUNE, until=datetime(2026, 5, 31, tzinfo=UTC))
    for request, position in ((may, 0), (JUNE, 1)):
        found = _everywhere(engines, lambda e, r=request: service.loyalty_placements(e, r)).set_index("customer_id")
        expected = {loaded[name]: rungs[position] for name, rungs in journey_data.RUNGS.items() if rungs[position]}
        assert found["rung"].to_dict() == expected
    assert set(RUNGS) == {rungs[1] for rungs in journey_data.RUNGS.values()}
    assert service.rung_of(engines["duckdb"], loaded["referrer"], JUNE) == "advocate"
    with pytest.raises(NotFound):
        service.rung_of(engines["duckdb"], loaded["satisfied"], may)


def test_rung_counts_and_the_value_each_holds(engines: dict[str, Engine], loaded: dict[str, int]) -> None:
    found = _everywhere(engines, lambda e: service.loyalty_ladder(e, JUNE)).set_index(["month", "rung"])
    june = found.loc["2026-06"]
    assert june["customers"].to_dict() == {
        "lost": 1, "at_risk": 4, "unknown": 1, "satisfied": 1, "loyal": 1, "advocate": 2,
    }  # fmt: skip
    assert june["customers_pct"].sum() == pytest.approx(100.0)
    # EUR is the currency of most orders; the newcomer's CZK order counts as an order but not as EUR value.
    assert (june["currency"] == "EUR").all() and june.loc["unknown", "orders"] == 1
    assert june.loc["advocate", "value"] == 80 and june.loc["satisfied", "value"] == 30
    assert june.loc["advocate", "value_pct"] == pytest.approx(100 * 80 / 110)
    may = found.loc["2026-05"]
    assert may["customers"].sum() == 7 and may.loc["loyal", "value_pct"] == pytest.approx(100.0)
    crowns = service.loyalty_ladder(engines["duckdb"], replace(JUNE, currency="CZK")).set_index(["month", "rung"])
    assert crowns.loc[("2026-06", "unknown"), "value"] == 1000


def test_planted_transitions(engines: dict[str, Engine], loaded: dict[str, int]) -> None:
    found = _everywhere(engines, lambda e: service.loyalty_transitions(e, JUNE))
    moves = {(row["from_rung"], row["to_rung"]): row["customers"] for row in found.to_dict("records")}
    assert moves == {
        ("lost", "lost"): 1, ("unknown", "advocate"): 2, ("unknown", "at_risk"): 1, ("loyal", "loyal"): 1,
        ("new", "satisfied"): 1, ("new", "unknown"): 1, ("at_risk", "at_risk"): 1, ("new", "at_risk"): 1,
        ("satisfied", "at_risk"): 1,
    }  # fmt: skip
    movement = found.set_index(["from_rung", "to_rung"])["movement"]
    assert movement[("unknown", "advocate")] == "up" and movement[("satisfied", "at_risk")] == "down"
    assert (found["month"] == "2026-06").all()
    assert found.set_index(["from_rung", "to_rung"]).loc[("unknown", "advocate"), "share_of_from_pct"] == pytest.approx(
        100 * 2 / 3
    )


def test_rules_are_configurable(engines: dict[str, Engine], loaded: dict[str, int]) -> None:
    strict = replace(JUNE, rules=LadderRules(lost_days=30, referral_types=("nothing",)))
    found = service.loyalty_placements(engines["duckdb"], strict).set_index("customer_id")["rung"]
    assert found[loaded["fading"]] == "lost" and found[loaded["referrer"]] == "unknown"
    assert found[loaded["promoter"]] == "advocate"
    lenient = replace(JUNE, rules=LadderRules(repeat_orders=1))
    assert service.rung_of(engines["duckdb"], loaded["satisfied"], lenient) == "loyal"
    with pytest.raises(InvalidInput, match="at least 1 day"):
        service.loyalty_ladder(engines["duckdb"], replace(JUNE, rules=LadderRules(recent_days=0)))
    with pytest.raises(InvalidInput, match="months must be"):
        service.loyalty_ladder(engines["duckdb"], replace(JUNE, months=0))
