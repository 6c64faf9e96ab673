"""Response volume: periods without responses, each group's days counted from its first response, totals of none."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from cxm.analytics import stats
from cxm.analytics.dimensions import Query
from cxm.analytics.volume import volume_table

NOW = datetime(2026, 12, 7, tzinfo=UTC)
DAY = 86_400.0


def _counts(rows: list[tuple[str, str, int]], first: dict[str, str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["channel", "period", "count"])
    return frame.assign(period=pd.to_datetime(frame["period"]), first_seen=pd.to_datetime(frame["channel"].map(first)))


def test_a_month_without_responses_is_shown_and_compared() -> None:
    counts = _counts([("web", "2026-01-01", 62), ("web", "2026-03-01", 31)], {"web": "2025-06-01"})
    found = volume_table(counts, Query(by=["channel"], period="month"), now=NOW).set_index("period")
    assert found["n"].tolist() == [62, 0, 31] and not found["partial"].any()
    february = found.loc[pd.Timestamp("2026-02-01")]
    assert (february["ci_low"], february["ci_high"]) == pytest.approx((0.0, 3.6889), abs=1e-4)
    assert february["change"] == pytest.approx(-100) and february["p_value"] < 1e-10
    march = found.loc[pd.Timestamp("2026-03-01")]
    # From none at all there is no % change; the exact test still says how unlikely 31 against 0 is.
    assert pd.isna(march["change"]) and march["p_value"] == pytest.approx(
        stats.rate_compare(stats.count(31), 31 * DAY, stats.count(0), 28 * DAY).p_value
    )


def test_each_group_is_counted_from_its_first_response() -> None:
    # The app channel opened on 16 January: its January is 16 days, not 31, and February's change says so.
    counts = _counts(
        [("app", "2026-01-01", 16), ("app", "2026-02-01", 28), ("web", "2026-01-01", 31), ("web", "2026-02-01", 28)],
        {"app": "2026-01-16", "web": "2025-06-01"},
    )
    found = volume_table(counts, Query(by=["channel"], period="month"), now=NOW)
    app = found[found["channel"] == "app"].set_index("period")
    assert app["partial"].tolist() == [True, False]  # January only from the first response on
    assert app.loc[pd.Timestamp("2026-02-01"), "change"] == pytest.approx(0)  # one a day, both months
    web = found[found["channel"] == "web"].set_index("period")
    assert not web["partial"].any() and web.loc[pd.Timestamp("2026-02-01"), "change"] == pytest.approx(0)


def test_a_group_starts_at_its_first_period_and_the_table_ends_at_its_last() -> None:
    counts = _counts([("web", "2026-01-01", 5), ("app", "2026-03-01", 7)], {"web": "2026-01-01", "app": "2026-03-02"})
    found = volume_table(counts, Query(by=["channel"], period="month"), now=NOW)
    periods = {channel: rows["period"].dt.strftime("%m").tolist() for channel, rows in found.groupby("channel")}
    assert periods == {"app": ["03"], "web": ["01", "02", "03"]}


def test_no_responses_at_all_is_a_count_of_none() -> None:
    empty = pd.DataFrame({"count": [0]})
    total = volume_table(empty, Query(until=datetime(2020, 1, 1)), now=NOW)
    assert total["n"].tolist() == [0] and total["ci_high"].iloc[0] == pytest.approx(3.6889, abs=1e-4)
    by_channel = volume_table(pd.DataFrame({"channel": [], "count": []}), Query(by=["channel"]), now=NOW)
    assert by_channel.empty
