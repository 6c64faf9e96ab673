"""Periods only partly counted are marked: cut by the query's times, or not over when asked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pandas as pd

from cxm.analytics.dimensions import Query
from cxm.analytics.metrics import with_partial


def _periods(*starts: str) -> pd.DataFrame:
    return pd.DataFrame(
        {"channel": ["web"] * len(starts), "period": pd.to_datetime(list(starts)), "n": [1] * len(starts)}
    )


def test_a_period_not_over_when_asked_is_partial() -> None:
    now = datetime(2026, 12, 7, 21, 30, tzinfo=UTC)
    found = with_partial(_periods("2026-10-01", "2026-11-01", "2026-12-01"), Query(period="month"), now=now)
    assert found.columns.tolist() == ["channel", "period", "partial", "n"]
    assert found["partial"].tolist() == [False, False, True]
    daily = with_partial(_periods("2026-12-06", "2026-12-07"), Query(period="day"), now=now)
    assert daily["partial"].tolist() == [False, True]


def test_since_and_until_cut_periods_in_any_zone() -> None:
    now = datetime(2027, 1, 1, tzinfo=UTC)
    frame = _periods("2026-01-01", "2026-04-01", "2026-07-01", "2026-10-01")
    # 2026-07-01T01:00+02:00 is 2026-06-30T23:00 UTC: the second quarter loses its last hour.
    until = datetime(2026, 7, 1, 1, tzinfo=timezone(timedelta(hours=2)))
    found = with_partial(frame[:2].copy(), Query(period="quarter", until=until), now=now)
    assert found["partial"].tolist() == [False, True]
    since = Query(period="quarter", since=datetime(2026, 4, 1), until=datetime(2026, 12, 1))
    assert with_partial(frame.copy(), since, now=now)["partial"].tolist() == [True, False, False, True]
    exact = Query(period="quarter", since=datetime(2026, 1, 1), until=datetime(2027, 1, 1))
    assert not with_partial(frame.copy(), exact, now=now)["partial"].any()


def test_tables_without_periods_are_left_alone() -> None:
    frame = pd.DataFrame({"channel": ["web"], "n": [3]})
    assert with_partial(frame, Query(by=["channel"], since=datetime(2026, 1, 5))).columns.tolist() == ["channel", "n"]
