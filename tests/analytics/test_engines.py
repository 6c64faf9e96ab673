"""The shared suite: every metric on every engine equals the independent reference, and all engines agree."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from cxm.analytics import engines as engines_module
from cxm.analytics import service
from cxm.analytics.dimensions import Query
from cxm.analytics.engines import Engine
from tests.analytics import dataset, reference

TOLERANCE = 1e-9


def _all(engines: dict[str, Engine], name: str, query: Query, **options: float) -> dict[str, pd.DataFrame]:
    return {kind: service.metric(engine, name, query, **options) for kind, engine in engines.items()}


def _same_everywhere(results: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """All engines gave the same table (up to float rounding); that table."""
    frames = list(results.values())
    for kind, frame in results.items():
        pd.testing.assert_frame_equal(frame, frames[0], check_dtype=False, rtol=TOLERANCE, obj=kind)
    return frames[0]


def _check(found: pd.DataFrame, keys: list[str], expected: dict[tuple[object, ...], dict[str, float]]) -> None:
    assert len(found) == len(expected)
    for row in found.to_dict("records"):
        want = expected[tuple(row[k] for k in keys)]
        assert row["n"] == want["n"] and row["value"] == pytest.approx(want["value"], abs=TOLERANCE)
        if row.get("ci_method") == "none":  # one answer: no interval
            assert row["n"] == 1 and np.isnan(row["ci_low"]) and np.isnan(row["ci_high"])
        else:
            assert row["ci_low"] == pytest.approx(want["ci_low"], abs=1e-7)
            assert row["ci_high"] == pytest.approx(want["ci_high"], abs=1e-7)


def _label(value: object) -> object:
    return "(none)" if value is None else value


def test_times_in_any_zone_mean_the_same_moment(engines: dict[str, Engine], loaded: dataset.Dataset) -> None:
    times = sorted(record["completed_at"] for record in loaded.scores if record["kind"] == "nps")
    cut = times[len(times) // 2] + timedelta(seconds=1)
    east = cut.astimezone(timezone(timedelta(hours=5)))  # the same moment, written five hours ahead
    since = _same_everywhere(_all(engines, "nps", Query(since=east)))
    assert since["n"].tolist() == [sum(moment >= cut for moment in times)]
    until = _same_everywhere(_all(engines, "nps", Query(until=east.isoformat())))  # as text, as the library takes it
    assert until["n"].tolist() == [sum(moment < cut for moment in times)]


def test_nps_by_channel_and_month(engines: dict[str, Engine], loaded: dataset.Dataset) -> None:
    found = _same_everywhere(_all(engines, "nps", Query(by=["channel"], period="month")))
    groups = reference.grouped(loaded.scores, ["channel", "month"], "score", lambda r: r["kind"] == "nps")
    expected = {(ch, pd.Timestamp(f"{month}-01")): reference.nps(s) for (ch, month), s in groups.items()}
    _check(found, ["channel", "period"], expected)
    assert set(found["compared_with"].dropna()) == {"previous period"}


def test_csat_by_customer_segment_compares_each_with_the_rest(
    engines: dict[str, Engine], loaded: dataset.Dataset
) -> None:
    for record in loaded.scores:
        record["segment"] = _label(loaded.segments.get(record["customer_id"]))
    found = _same_everywhere(_all(engines, "csat", Query(by=["segment"])))
    groups = reference.grouped(loaded.scores, ["segment"], "score", lambda r: r["kind"] == "csat")
    _check(found, ["segment"], {key: reference.csat(s) for key, s in groups.items()})
    assert set(found["compared_with"]) == {"rest"} and found["p_value"].between(0, 1).all()


def test_ces_by_stage_and_quarter_with_filters(engines: dict[str, Engine], loaded: dataset.Dataset) -> None:
    since, until = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
    query = Query(by=["journey_stage"], period="quarter", since=since, until=until, where={"language": ["cs", "en"]})
    found = _same_everywhere(_all(engines, "ces", query))
    keep = lambda r: r["kind"] == "ces" and r["language"] in ("cs", "en") and r["month"] < "2026-04"  # noqa: E731
    groups = reference.grouped(loaded.scores, ["stage"], "score", keep)
    quarter = pd.Timestamp("2026-01-01")
    expected = {(_label(stage), quarter): reference.mean(s, (1, 7)) for (stage,), s in groups.items()}
    _check(found, ["journey_stage", "period"], expected)


def test_periods_cut_by_since_or_until_are_marked_partial(engines: dict[str, Engine], loaded: dataset.Dataset) -> None:
    # 2026-01-15 is a Thursday and 2026-03-18 a Wednesday: the first and the last week are counted in part.
    since, until = datetime(2026, 1, 15, tzinfo=UTC), datetime(2026, 3, 18, tzinfo=UTC)
    weekly = Query(period="week", since=since, until=until)
    for metric in ("nps", "response_rate", "first_response_time"):
        found = _same_everywhere(_all(engines, metric, weekly))
        assert list(found.columns[:2]) == ["period", "partial"]
        assert found["period"].min() == pd.Timestamp("2026-01-12") and found["period"].max() == pd.Timestamp(
            "2026-03-16"
        )
        cut = found.set_index("period")["partial"]
        assert cut[pd.Timestamp("2026-01-12")] and cut[pd.Timestamp("2026-03-16")], metric
        assert not cut.drop([pd.Timestamp("2026-01-12"), pd.Timestamp("2026-03-16")]).any(), metric
    whole = _same_everywhere(_all(engines, "nps", Query(by=["channel"], period="month", until=datetime(2026, 3, 1))))
    assert len(whole) > 3 and not whole["partial"].any()  # months that end where `until` does are whole
    assert "partial" not in _same_everywhere(_all(engines, "nps", Query(by=["channel"], since=since))).columns


def test_periods_in_a_time_zone_are_its_days_and_months(engines: dict[str, Engine], loaded: dataset.Dataset) -> None:
    place = ZoneInfo("America/New_York")  # UTC-5, and UTC-4 from 8 March 2026 on (summer time)
    asked = Query(period="day", since="2026-03-01", until="2026-03-15", zone="America/New_York")  # its midnights
    found = _same_everywhere(_all(engines, "nps", asked))
    start, end = datetime(2026, 3, 1, tzinfo=place), datetime(2026, 3, 15, tzinfo=place)
    days: dict[pd.Timestamp, list[int]] = {}
    for record in loaded.scores:
        if record["kind"] == "nps" and start <= record["completed_at"] < end:
            local = record["completed_at"].astimezone(place).replace(hour=0, minute=0, second=0, tzinfo=None)
            days.setdefault(pd.Timestamp(local), []).append(record["score"])
    _check(found, ["period"], {(day,): reference.nps(scores) for day, scores in days.items()})
    assert len(found) >= 12 and not found["partial"].any()  # since and until are the zone's midnights: whole days
    # Half an hour off the hour: India. January counted from the 16th there (partial), the months after whole.
    india = ZoneInfo("Asia/Kolkata")
    monthly = Query(period="month", since="2026-01-16", zone="Asia/Kolkata")
    counted = _same_everywhere(_all(engines, "responses", monthly)).set_index("period")
    begun = datetime(2026, 1, 16, tzinfo=india)
    months: dict[pd.Timestamp, int] = {}
    for record in loaded.scores + loaded.unscored:
        if record["completed_at"] >= begun:
            local = record["completed_at"].astimezone(india)
            month = pd.Timestamp(local.year, local.month, 1)
            months[month] = months.get(month, 0) + 1
    assert counted["n"].to_dict() == months
    assert counted["partial"].to_dict() == {month: month.month == 1 for month in months}


def test_responses_by_channel_and_month_with_their_rate_changes(
    engines: dict[str, Engine], loaded: dataset.Dataset
) -> None:
    since = datetime(2026, 1, 16, tzinfo=UTC)  # January counted from its 16th: 16 of its 31 days
    found = _same_everywhere(_all(engines, "responses", Query(by=["channel"], period="month", since=since)))
    # Every completed response counts, those that gave no score (a comment alone, a skipped score) too.
    responses = loaded.scores + loaded.unscored
    kept = [record for record in responses if record["completed_at"] >= since]
    groups = reference.grouped(kept, ["channel", "month"], "customer_id", lambda r: True)
    counts = {(ch, pd.Timestamp(f"{month}-01")): len(s) for (ch, month), s in groups.items()}
    _check(found, ["channel", "period"], {key: reference.poisson_count(n) for key, n in counts.items()})
    days = {1: 16, 2: 28, 3: 31, 4: 30}
    for row in found.to_dict("records"):
        month = row["period"].month
        assert row["partial"] == (month == 1)
        before = counts.get((row["channel"], row["period"] - pd.DateOffset(months=1)))
        if before is None:
            assert pd.isna(row["compared_with"]) and np.isnan(row["change"])
            continue
        want = reference.rate_change(row["n"], days[month] * 86_400.0, before, days[month - 1] * 86_400.0)
        assert row["compared_with"] == "previous period"
        assert row["change"] == pytest.approx(want["change"]) and row["p_value"] == pytest.approx(want["p_value"])
        assert row["change_ci_low"] < row["change"] < row["change_ci_high"]
    by_language = _same_everywhere(_all(engines, "responses", Query(by=["language"])))
    languages = reference.grouped(responses, ["language"], "customer_id", lambda r: True)
    _check(by_language, ["language"], {key: reference.poisson_count(len(s)) for key, s in languages.items()})
    assert by_language["compared_with"].isna().all()  # groups of different sizes are not compared


def test_responses_by_question_count_those_that_answered_it(
    engines: dict[str, Engine], loaded: dataset.Dataset
) -> None:
    found = _same_everywhere(_all(engines, "responses", Query(by=["question"])))
    # A response with no scored answer is under no question: the main questions' counts are the scored answers'.
    assert dict(zip(found["question"], found["n"], strict=True)) == {
        question: sum(record["kind"] == kind for record in loaded.scores)
        for question, kind in {"nps": "nps", "csat": "csat", "ces": "ces"}.items()
    }
    whole = _same_everywhere(_all(engines, "responses", Query()))
    assert whole["n"].tolist() == [len(loaded.scores) + len(loaded.unscored)] and len(loaded.unscored) == 28
    nps = _same_everywhere(_all(engines, "nps", Query()))
    assert nps["n"].tolist() == [sum(record["kind"] == "nps" for record in loaded.scores)]  # scores only


def test_response_rate_by_survey(engines: dict[str, Engine], loaded: dataset.Dataset) -> None:
    found = _same_everywhere(_all(engines, "response_rate", Query(by=["survey"])))
    groups = reference.grouped(loaded.invitations, ["survey"], "answered", lambda r: True)
    _check(found, ["survey"], {key: reference.wilson(sum(a), len(a)) for key, a in groups.items()})
    everyone = [answer for answers in groups.values() for answer in answers]
    for row in found.to_dict("records"):
        mine = groups[(row["survey"],)]
        assert row["compared_with"] == "rest"
        assert row["p_value"] == pytest.approx(reference.share_p_value(mine, len(everyone), sum(everyone)), rel=1e-9)


def test_first_response_time_by_channel(engines: dict[str, Engine], loaded: dataset.Dataset) -> None:
    found = _same_everywhere(_all(engines, "first_response_time", Query(by=["channel"]), target_seconds=3600))
    groups = reference.grouped(loaded.waits, ["channel"], "seconds", lambda r: True)
    assert sorted(found["channel"]) == sorted(key[0] for key in groups)
    for row in found.to_dict("records"):
        seconds = np.array(groups[(row["channel"],)])
        assert row["n"] == len(seconds)
        assert row["median_seconds"] == pytest.approx(np.percentile(seconds, 50))
        assert row["p90_seconds"] == pytest.approx(np.percentile(seconds, 90))
        assert row["within_target_pct"] == pytest.approx(100 * np.mean(seconds <= 3600))


def test_nps_and_response_times_by_store(engines: dict[str, Engine], loaded: dataset.Dataset) -> None:
    found = _same_everywhere(_all(engines, "nps", Query(by=["store"], where={"channel": ["store", "web"]})))
    keep = lambda r: r["kind"] == "nps" and r["channel"] in ("store", "web")  # noqa: E731
    groups = reference.grouped(loaded.scores, ["store"], "score", keep)
    assert len(groups) == 4  # three stores and the web, which has none
    _check(found, ["store"], {(_label(store),): reference.nps(s) for (store,), s in groups.items()})
    waits = _same_everywhere(_all(engines, "first_response_time", Query(by=["store"])))
    counted = reference.grouped(loaded.waits, ["store"], "seconds", lambda r: True)
    assert dict(zip(waits["store"], waits["n"], strict=True)) == {_label(k[0]): len(v) for k, v in counted.items()}


def _attribute_text(value: object) -> object:
    """An attribute as cxm shows it: JSON's own text for booleans and numbers, `(none)` for absent or null."""
    if value is None:
        return "(none)"
    return str(value).lower() if isinstance(value, bool) else str(value)


def test_nps_by_customer_attribute_of_every_json_kind(engines: dict[str, Engine], loaded: dataset.Dataset) -> None:
    for name in ("tier", "vip", "visits"):
        for record in loaded.scores:
            record[name] = _attribute_text(loaded.attributes[record["customer_id"]].get(name))
        found = _same_everywhere(_all(engines, "nps", Query(by=[f"attr.{name}"])))
        groups = reference.grouped(loaded.scores, [name], "score", lambda r: r["kind"] == "nps")
        assert len(groups) >= 2
        _check(found, [f"attr.{name}"], {key: reference.nps(s) for key, s in groups.items()})


def test_a_filter_on_a_customer_attribute_keeps_only_its_customers(
    engines: dict[str, Engine], loaded: dataset.Dataset
) -> None:
    query = Query(by=["channel"], where={"attr.home-store": ["Brno", "(none)"], "attr.vip": ["false"]})
    found = _same_everywhere(_all(engines, "csat", query))

    def kept(record: dict[str, object]) -> bool:
        traits = loaded.attributes[record["customer_id"]]  # type: ignore[index]
        return record["kind"] == "csat" and traits.get("home-store") in ("Brno", None) and not traits["vip"]

    groups = reference.grouped(loaded.scores, ["channel"], "score", kept)
    _check(found, ["channel"], {key: reference.csat(s) for key, s in groups.items()})


def test_response_rate_and_response_times_by_customer_attribute(
    engines: dict[str, Engine], loaded: dataset.Dataset
) -> None:
    for record in [*loaded.invitations, *loaded.waits]:
        record["tier"] = _attribute_text(loaded.attributes[record["customer_id"]].get("tier"))
    rates = _same_everywhere(_all(engines, "response_rate", Query(by=["attr.tier"])))
    groups = reference.grouped(loaded.invitations, ["tier"], "answered", lambda r: True)
    _check(rates, ["attr.tier"], {key: reference.wilson(sum(a), len(a)) for key, a in groups.items()})
    waits = _same_everywhere(_all(engines, "first_response_time", Query(by=["attr.tier"])))
    counted = reference.grouped(loaded.waits, ["tier"], "seconds", lambda r: True)
    assert {row["attr.tier"]: row["n"] for row in waits.to_dict("records")} == {
        k[0]: len(v) for k, v in counted.items()
    }


def test_a_malformed_attribute_name_is_refused(engines: dict[str, Engine]) -> None:
    from cxm.core.errors import InvalidInput

    for name in ("attr.", "attr.a b", "attr.x'); DROP TABLE customers; --"):
        with pytest.raises(InvalidInput, match="attribute name"):
            service.metric(next(iter(engines.values())), "nps", Query(by=[name]))


def test_unknown_dimension_and_metric_are_refused(engines: dict[str, Engine]) -> None:
    from cxm.core.errors import InvalidInput

    engine = next(iter(engines.values()))
    with pytest.raises(InvalidInput, match="cannot break down"):
        service.metric(engine, "nps", Query(by=["shoe_size"]))
    with pytest.raises(InvalidInput, match="unknown metric"):
        service.metric(engine, "happiness", Query())
    with pytest.raises(InvalidInput, match="unknown period"):
        service.metric(engine, "nps", Query(period="fortnight"))


def test_a_held_store_answers_several_queries_on_one_connection(
    engines: dict[str, Engine], loaded: dataset.Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = engines["duckdb"]
    alone = [service.metric(store, name, Query(by=["channel"])) for name in ("nps", "csat")]
    opened: list[str] = []
    real_open = engines_module._open_duckdb
    monkeypatch.setattr(engines_module, "_open_duckdb", lambda *a: opened.append(a[0]) or real_open(*a))
    with store.holding():
        held = [service.metric(store, name, Query(by=["channel"])) for name in ("nps", "csat", "nps")]
    assert len(opened) == 1
    for before, after in zip(alone, held, strict=False):
        pd.testing.assert_frame_equal(before, after)
    service.metric(store, "nps", Query(by=["channel"]))
    assert len(opened) == 2  # released with the block
