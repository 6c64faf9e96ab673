"""The DuckDB store and the Parquet lake follow the operational database: new, edited and erased data."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine as SqlEngine
from sqlalchemy.orm import Session

from cxm.analytics import extract, freshness, service
from cxm.analytics import lake as lake_module
from cxm.analytics import store as store_module
from cxm.analytics import sync as sync_module
from cxm.analytics.dimensions import Query
from cxm.analytics.engines import open_engine
from cxm.analytics.sync import FACT_TABLES, sync
from cxm.config import Settings
from cxm.core.db import make_sessionmaker
from cxm.customers import service as customers_service
from cxm.customers.schemas import CustomerUpsert
from cxm.feedback import service as feedback_service
from tests.analytics import journey_data


def _answer(session: Session, email: str, score: int, when: datetime) -> int:
    survey = feedback_service.get_survey(session, "relationship-nps")
    [customer] = customers_service.resolve(session, [customers_service.Claim(keys=(("email", email),))], actor="t")
    who = feedback_service.Respondent(customer_id=customer, channel="email", language="en")
    feedback_service.record_response(session, survey, {"nps": score}, who, started_at=when, completed_at=when)
    return customer


def _nps_n(store: Path) -> int:
    found = service.metric(open_engine(f"duckdb:///{store}"), "nps", Query())
    return int(found["n"].sum()) if len(found) else 0


def _synced_with_one_answer(db: SqlEngine, tmp_path: Path) -> Path:
    """A store synced once with one NPS answer (Ann's 10)."""
    store = tmp_path / "store.duckdb"
    with make_sessionmaker(db)() as session, session.begin():
        feedback_service.install_templates(session)
        _answer(session, "ann@example.com", 10, datetime(2026, 3, 3, tzinfo=UTC))
    sync(db, str(store))
    return store


def test_sync_is_incremental_and_forgets_erased_people(db: SqlEngine, tmp_path: Path) -> None:
    factory, store, lake = make_sessionmaker(db), tmp_path / "store.duckdb", tmp_path / "lake"
    when = datetime(2026, 3, 3, tzinfo=UTC)
    with factory() as session, session.begin():
        feedback_service.install_templates(session)
        ann = _answer(session, "ann@example.com", 10, when)
        _answer(session, "bob@example.com", 2, when)
    first = sync(db, str(store), lake=lake)
    assert first.rows["score answers"] == 2 and _nps_n(store) == 2
    with factory() as session, session.begin():
        _answer(session, "cyd@example.com", 9, when)
    second = sync(db, str(store), lake=lake)
    assert second.rows["score answers"] <= 2 and _nps_n(store) == 3
    again = sync(db, str(store), lake=lake)
    assert again.rows["response times"] == 0 and _nps_n(store) == 3
    with factory() as session, session.begin():
        customers_service.erase_person(session, ann, actor="test")
    erased = sync(db, str(store), lake=lake)
    assert erased.erased_customers == 1 and _nps_n(store) == 2
    assert ann not in _customer_ids_in_store(store)
    assert ann not in _customer_ids_in_lake(lake) and len(_customer_ids_in_lake(lake)) == 2


def _customer_ids_in_store(store: Path) -> set[int]:
    with duckdb.connect(str(store), read_only=True) as con:
        return {row[0] for row in con.execute("SELECT customer_id FROM scores").fetchall()}


def _customer_ids_in_lake(lake: Path) -> set[int]:
    files = list((lake / "scores").rglob("*.parquet"))
    columns = [pq.read_table(path, columns=["customer_id"])["customer_id"].to_pylist() for path in files]
    return {value for column in columns for value in column}


def _by_segment(store: Path) -> dict[str, int]:
    found = service.metric(open_engine(f"duckdb:///{store}"), "nps", Query(by=["segment"]))
    return {str(row.segment): int(row.n) for row in found.itertuples()}


def _move(session: Session, email: str, segment: str) -> None:
    update = customers_service.CustomerUpsert(identities={"email": email}, segment=segment)
    customers_service.upsert_customers(session, [update], actor="test")


def test_answers_follow_their_customer_into_a_new_segment(db: SqlEngine, tmp_path: Path) -> None:
    factory, store = make_sessionmaker(db), tmp_path / "store.duckdb"
    when = datetime(2026, 3, 3, tzinfo=UTC)
    with factory() as session, session.begin():
        feedback_service.install_templates(session)
        for email, segment in (("ann@example.com", "retail"), ("bob@example.com", "vip")):
            _answer(session, email, 9, when)
            _move(session, email, segment)
    sync(db, str(store))
    assert _by_segment(store) == {"retail": 1, "vip": 1}
    with factory() as session, session.begin():
        _move(session, "ann@example.com", "vip")
    sync(db, str(store))
    assert _by_segment(store) == {"vip": 2}
    with duckdb.connect(str(store)) as con:  # a store built before answers carried traits
        con.execute("ALTER TABLE scores DROP COLUMN segment")
    sync(db, str(store))
    assert _by_segment(store) == {"vip": 2}


def test_edited_response_is_re_read(db: SqlEngine, tmp_path: Path) -> None:
    factory, store = make_sessionmaker(db), tmp_path / "store.duckdb"
    when = datetime(2026, 3, 3, tzinfo=UTC)
    with factory() as session, session.begin():
        survey = feedback_service.install_templates(session)[1]
        response = feedback_service.start_response(session, survey, feedback_service.Respondent(language="cs"), at=when)
        feedback_service.save_answers(session, response, {"nps": 3}, complete=True, at=when)
        response_id = response.id
    sync(db, str(store))
    assert service.metric(open_engine(f"duckdb:///{store}"), "nps", Query())["value"].iloc[0] == -100
    with factory() as session, session.begin():
        edited = feedback_service.get_response(session, response_id)
        feedback_service.save_answers(session, edited, {"nps": 10}, complete=True, at=datetime.now(UTC))
    sync(db, str(store))
    assert service.metric(open_engine(f"duckdb:///{store}"), "nps", Query())["value"].iloc[0] == 100


@pytest.mark.parametrize("small", [20_000, 0], ids=["in-process", "child-processes"])
def test_a_partial_response_is_left_out_until_it_is_completed(
    db: SqlEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small: int
) -> None:
    monkeypatch.setattr(extract, "SMALL", small)  # 0: a first sync reads its whole tables in child processes
    factory, store = make_sessionmaker(db), tmp_path / "store.duckdb"
    when = datetime(2026, 3, 3, tzinfo=UTC)
    with factory() as session, session.begin():
        survey = feedback_service.install_templates(session)[1]
        _answer(session, "ann@example.com", 10, when)
        partial = feedback_service.start_response(session, survey, feedback_service.Respondent(language="cs"), at=when)
        feedback_service.save_answers(session, partial, {"nps": 3}, complete=False, at=when)
        partial_id = partial.id
    assert sync(db, str(store)).rows["score answers"] == 1 and _nps_n(store) == 1
    with factory() as session, session.begin():
        completed = feedback_service.get_response(session, partial_id)
        feedback_service.save_answers(session, completed, {}, complete=True, at=datetime.now(UTC))
    sync(db, str(store))
    found = service.metric(open_engine(f"duckdb:///{store}"), "nps", Query())
    assert (int(found["n"].iloc[0]), float(found["value"].iloc[0])) == (2, 0.0)


def test_touchpoints_and_orders_of_an_erased_person_leave_the_store_and_lake(db: SqlEngine, tmp_path: Path) -> None:
    factory, store, lake = make_sessionmaker(db), tmp_path / "store.duckdb", tmp_path / "lake"
    with factory() as session, session.begin():
        ids = journey_data.load_ladder(session)
    first = sync(db, str(store), lake=lake)
    assert first.rows["touchpoints"] == 14 and first.rows["orders"] == 6
    with factory() as session, session.begin():
        journey_data.touch(session, ids["loyal"], journey_data.at(6, 28), "awareness", "web", "page_view")
        journey_data.order(session, ids["newcomer"], journey_data.at(6, 29), 5)
    again = sync(db, str(store), lake=lake)
    assert again.rows["touchpoints"] == 1 and again.rows["orders"] == 1
    with factory() as session, session.begin():
        customers_service.erase_person(session, ids["loyal"], actor="test")
    sync(db, str(store), lake=lake)
    with duckdb.connect(str(store), read_only=True) as con:
        for fact in ("touchpoints", "orders"):
            people = {row[0] for row in con.execute(f"SELECT DISTINCT customer_id FROM {fact}").fetchall()}
            assert ids["loyal"] not in people and people
            in_lake = con.execute(f"SELECT count(*) FROM read_parquet('{lake / fact}/**/*.parquet')").fetchone()
            assert in_lake is not None and in_lake[0] == con.execute(f"SELECT count(*) FROM {fact}").fetchone()[0]  # type: ignore[index]
        assert con.execute("SELECT count(*) FROM orders").fetchone() == (5,)


def _lake_folders(lake: Path) -> dict[str, dict[str, frozenset[tuple[str, int]]]]:
    """Each fact's month folders (or its one file) in the lake with their files' names and inodes (a rewritten file
    is a new one)."""
    return {
        fact.name: {part.name: _files(part) for part in fact.iterdir()}
        for fact in lake.iterdir()
        if not fact.name.startswith(".")
    }


def _files(part: Path) -> frozenset[tuple[str, int]]:
    files = part.iterdir() if part.is_dir() else [part]
    return frozenset((file.name, file.stat().st_ino) for file in files)


def test_the_lake_rewrites_only_the_months_a_sync_changed(db: SqlEngine, tmp_path: Path) -> None:
    factory, store, lake = make_sessionmaker(db), tmp_path / "store.duckdb", tmp_path / "lake"
    with factory() as session, session.begin():
        feedback_service.install_templates(session)
        ann = _answer(session, "ann@example.com", 10, datetime(2026, 1, 5, tzinfo=UTC))
        _answer(session, "bob@example.com", 3, datetime(2026, 2, 5, tzinfo=UTC))
    sync(db, str(store), lake=lake)
    before = _lake_folders(lake)["scores"]
    assert set(before) == {"month=2026-01", "month=2026-02"}
    with factory() as session, session.begin():
        _answer(session, "cyd@example.com", 9, datetime(2026, 2, 20, tzinfo=UTC))
        _answer(session, "dan@example.com", 7, datetime(2026, 4, 1, tzinfo=UTC))
    sync(db, str(store), lake=lake)
    after = _lake_folders(lake)["scores"]
    assert set(after) == {"month=2026-01", "month=2026-02", "month=2026-04"}
    # Only new rows: February gets a file more, its own left as it was.
    assert after["month=2026-01"] == before["month=2026-01"] and after["month=2026-02"] > before["month=2026-02"]
    assert len(after["month=2026-02"]) == 2
    with factory() as session, session.begin():
        customers_service.erase_person(session, ann, actor="test")  # January's only answer
    sync(db, str(store), lake=lake)
    erased = _lake_folders(lake)["scores"]
    assert set(erased) == {"month=2026-02", "month=2026-04"} and erased["month=2026-02"] == after["month=2026-02"]
    assert sorted(_customer_ids_in_lake(lake)) == sorted(row[0] for row in _rows(store, "scores"))
    in_lake = pq.read_table(lake / "scores", columns=["score", "month"]).to_pylist()
    expected = [(3, "2026-02"), (7, "2026-04"), (9, "2026-02")]
    assert sorted((row["score"], str(row["month"])) for row in in_lake) == expected


def test_the_lake_rewrites_only_the_facts_a_sync_changed(db: SqlEngine, tmp_path: Path) -> None:
    factory, store, lake = make_sessionmaker(db), tmp_path / "store.duckdb", tmp_path / "lake"
    with factory() as session, session.begin():
        ids = journey_data.load_ladder(session)
        _answer(session, "ann@example.com", 10, datetime(2026, 3, 3, tzinfo=UTC))
    sync(db, str(store), lake=lake)
    before = _lake_folders(lake)
    with factory() as session, session.begin():
        journey_data.touch(session, ids["loyal"], journey_data.at(6, 28), "awareness", "web", "page_view")
    sync(db, str(store), lake=lake)
    after = _lake_folders(lake)
    assert after["scores"] == before["scores"] and after["orders"] == before["orders"]
    assert after["questions"] == before["questions"]  # refreshed whole, but the same rows
    assert after["touchpoints"] != before["touchpoints"]
    with factory() as session, session.begin():
        _answer(session, "bob@example.com", 3, datetime(2026, 3, 4, tzinfo=UTC))
    sync(db, str(store), lake=lake)
    assert _lake_folders(lake)["scores"] != after["scores"]
    assert _customer_ids_in_lake(lake) == {row[0] for row in _rows(store, "scores")}
    # A new segment, the same one saved again, another: the answers carry it, so the lake's follow when it changes.
    for segment, rewritten in (("retail", True), ("retail", False), ("vip", True)):
        scores = _lake_folders(lake)["scores"]
        with factory() as session, session.begin():
            _move(session, "ann@example.com", segment)
        sync(db, str(store), lake=lake)
        assert (_lake_folders(lake)["scores"] != scores) == rewritten, segment
    in_lake = pq.read_table(lake / "scores", columns=["customer_id", "segment"]).to_pylist()
    with duckdb.connect(str(store), read_only=True) as con:
        in_store = con.execute("SELECT customer_id, segment FROM scores").fetchall()
    assert sorted((row["customer_id"], str(row["segment"])) for row in in_lake) == sorted(
        (customer, str(segment)) for customer, segment in in_store
    )
    assert ("vip",) in {(segment,) for _, segment in in_store}


def test_the_lake_holds_what_the_store_holds_after_any_run_of_changes(db: SqlEngine, tmp_path: Path) -> None:
    factory, store, lake = make_sessionmaker(db), tmp_path / "store.duckdb", tmp_path / "lake"
    rng = random.Random(3)
    with factory() as session, session.begin():
        feedback_service.install_templates(session)
    month_of: dict[int, int] = {}  # each person's one answer's month
    for round_ in range(12):
        with factory() as session, session.begin():
            for index in range(rng.randint(1, 2)):  # new answers in any month of a year
                when = datetime(2026, rng.randint(1, 12), rng.randint(1, 28), tzinfo=UTC)
                month_of[_answer(session, f"p{round_}-{index}@example.com", rng.randint(0, 10), when)] = when.month
            if month_of and rng.random() < 0.5:  # someone erased
                _erase(session, rng.choice(sorted(month_of)), month_of)
        sync(db, str(store), lake=lake if rng.random() < 0.7 else None)  # some syncs keep no lake
    sync(db, str(store), lake=lake)
    alone = [person for person, month in month_of.items() if list(month_of.values()).count(month) == 1]
    with factory() as session, session.begin():  # the only answer of its month: the month's folder must go
        _erase(session, alone[0], month_of)
    sync(db, str(store), lake=lake)
    in_lake = pq.read_table(lake / "scores", columns=["customer_id", "score", "month"]).to_pylist()
    with duckdb.connect(str(store), read_only=True) as con:
        in_store = con.execute("SELECT customer_id, score, strftime(completed_at, '%Y-%m') FROM scores").fetchall()
    assert sorted((r["customer_id"], r["score"], str(r["month"])) for r in in_lake) == sorted(in_store)
    assert sorted(customer for customer, _, _ in in_store) == sorted(month_of)
    assert len(list((lake / "scores").glob("month=*"))) == len(set(month_of.values()))


def _erase(session: Session, person: int, month_of: dict[int, int]) -> None:
    customers_service.erase_person(session, person, actor="test")
    del month_of[person]


def _lake_synced_then_bob_answers(db: SqlEngine, store: Path, lake: Path) -> int:
    """A store and lake synced with Ann's answer; Bob answers after (not synced yet). Bob's customer id."""
    factory = make_sessionmaker(db)
    with factory() as session, session.begin():
        feedback_service.install_templates(session)
        _answer(session, "ann@example.com", 10, datetime(2026, 3, 3, tzinfo=UTC))
    sync(db, str(store), lake=lake)
    with factory() as session, session.begin():
        return _answer(session, "bob@example.com", 3, datetime(2026, 3, 4, tzinfo=UTC))


def test_a_lake_the_store_moved_past_or_a_new_lake_is_written_whole(db: SqlEngine, tmp_path: Path) -> None:
    store, lake = tmp_path / "store.duckdb", tmp_path / "lake"
    bob = _lake_synced_then_bob_answers(db, store, lake)
    sync(db, str(store))  # the store moves on without the lake (as if a sync had failed before writing it)
    sync(db, str(store), lake=lake)
    assert bob in _customer_ids_in_lake(lake) and len(_customer_ids_in_lake(lake)) == 2
    elsewhere = tmp_path / "elsewhere"
    sync(db, str(store), lake=elsewhere)
    assert _customer_ids_in_lake(elsewhere) == _customer_ids_in_lake(lake)
    assert set(_lake_folders(elsewhere)) == set(_lake_folders(lake))


def _lake_matches_store(lake: Path, store: Path) -> bool:
    in_lake = pq.read_table(lake / "scores", columns=["customer_id", "score", "segment", "month"]).to_pylist()
    with duckdb.connect(str(store), read_only=True) as con:
        query = "SELECT customer_id, score, segment, strftime(completed_at, '%Y-%m') FROM scores"
        in_store = con.execute(query).fetchall()
    found = sorted((r["customer_id"], r["score"], r["segment"], str(r["month"])) for r in in_lake)
    return found == sorted(in_store)


def test_appends_that_crowd_a_month_or_meet_other_changes_rewrite_it(
    db: SqlEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lake_module, "MONTH_FILES", 2)
    factory, store, lake = make_sessionmaker(db), tmp_path / "store.duckdb", tmp_path / "lake"
    with factory() as session, session.begin():
        feedback_service.install_templates(session)
    files = []
    for email in ("ann@example.com", "bob@example.com", "cyd@example.com"):
        with factory() as session, session.begin():
            _answer(session, email, 9, datetime(2026, 2, 5, tzinfo=UTC))
        sync(db, str(store), lake=lake)
        files.append(_lake_folders(lake)["scores"]["month=2026-02"])
    assert [len(month) for month in files] == [1, 2, 1]  # the third file crowded it: rewritten as one
    assert files[0] < files[1] and not files[1] & files[2] and _lake_matches_store(lake, store)
    with factory() as session, session.begin():  # one answer more and one answer's segment changed, in one sync
        _answer(session, "dan@example.com", 3, datetime(2026, 2, 6, tzinfo=UTC))
        _move(session, "ann@example.com", "vip")
    sync(db, str(store), lake=lake)
    month = _lake_folders(lake)["scores"]["month=2026-02"]
    assert len(month) == 1 and not month & files[2] and _lake_matches_store(lake, store)
    monkeypatch.setattr(store_module, "APPENDED_ROWS", 0)  # more rows gained than a copy may hold: rewritten
    with factory() as session, session.begin():
        _answer(session, "eve@example.com", 10, datetime(2026, 2, 7, tzinfo=UTC))
    sync(db, str(store), lake=lake)
    again = _lake_folders(lake)["scores"]["month=2026-02"]
    assert len(again) == 1 and not again & month and _lake_matches_store(lake, store)


def test_spark_reads_a_month_grown_by_appended_files_as_the_store_holds_it(
    db: SqlEngine, tmp_path: Path, spark: Any
) -> None:
    factory, store, lake = make_sessionmaker(db), tmp_path / "store.duckdb", tmp_path / "lake"
    with factory() as session, session.begin():
        feedback_service.install_templates(session)
    for index, score in enumerate((10, 9, 2, 6)):
        with factory() as session, session.begin():
            _answer(session, f"p{index}@example.com", score, datetime(2026, 2, 5 + index, tzinfo=UTC))
        sync(db, str(store), lake=lake)
    assert len(_lake_folders(lake)["scores"]["month=2026-02"]) == 4
    on_spark = open_engine(f"spark://local[1]?lake={lake}")
    found = service.metric(on_spark, "nps", Query(period="month"))
    assert list(found["n"]) == [4] and list(found["value"]) == pytest.approx([0.0])  # 2 promoters, 2 detractors
    in_store = service.metric(open_engine(f"duckdb:///{store}"), "nps", Query(period="month"))
    assert list(found["n"]) == list(in_store["n"]) and list(found["value"]) == pytest.approx(list(in_store["value"]))


def test_rows_a_failed_lake_write_left_out_reach_the_lake_with_the_next_sync(
    db: SqlEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    factory, store, lake = make_sessionmaker(db), tmp_path / "store.duckdb", tmp_path / "lake"
    bob = _lake_synced_then_bob_answers(db, store, lake)

    def broken(*_: Any) -> None:
        raise OSError("disk full")

    with monkeypatch.context() as patched:
        patched.setattr(sync_module, "write_lake", broken)
        with pytest.raises(OSError):
            sync(db, str(store), lake=lake)  # the store took Bob's answer, the lake did not
    with factory() as session, session.begin():
        cyd = _answer(session, "cyd@example.com", 8, datetime(2026, 3, 5, tzinfo=UTC))
    sync(db, str(store), lake=lake)  # Cyd's answer alone is new to the store: the month is rewritten, not appended
    assert {bob, cyd} <= _customer_ids_in_lake(lake) and _lake_matches_store(lake, store)


def _buy_and_ask(session: Session, customer: int, index: int, when: datetime) -> None:
    from decimal import Decimal

    from cxm.interactions.models import Interaction, Order

    session.add(Order(order_id=f"o{index}", customer_id=customer, occurred_at=when, amount=Decimal("12.50"),
                      currency="EUR", channel="web", attributes={}))  # fmt: skip
    session.add(Interaction(customer_id=customer, channel="email", direction="inbound", type="question",
                            occurred_at=when, responded_at=None, attributes={}))  # fmt: skip


def _rows(store: Path, fact: str) -> list[tuple[int, ...]]:
    with duckdb.connect(str(store), read_only=True) as con:
        return con.execute(f"SELECT customer_id, count(*) FROM {fact} GROUP BY 1 ORDER BY 1").fetchall()


def test_orders_and_contacts_sync_incrementally_and_forget_erased_people(db: SqlEngine, tmp_path: Path) -> None:
    factory, store, lake = make_sessionmaker(db), tmp_path / "store.duckdb", tmp_path / "lake"
    when = datetime(2026, 3, 3, tzinfo=UTC)
    with factory() as session, session.begin():
        feedback_service.install_templates(session)
        ann, bob = _answer(session, "ann@example.com", 10, when), _answer(session, "bob@example.com", 2, when)
        _buy_and_ask(session, ann, 1, when)
    first = sync(db, str(store), lake=lake)
    assert first.rows["orders"] == 1 and first.rows["contacts"] == 1
    with factory() as session, session.begin():
        _buy_and_ask(session, bob, 2, when)
        _buy_and_ask(session, ann, 3, when)
    second = sync(db, str(store), lake=lake)
    assert second.rows["orders"] == 2 and _rows(store, "orders") == [(ann, 2), (bob, 1)]
    assert _rows(store, "contacts") == [(ann, 2), (bob, 1)]
    with factory() as session, session.begin():
        customers_service.erase_person(session, ann, actor="test")
    sync(db, str(store), lake=lake)
    assert _rows(store, "orders") == [(bob, 1)] and _rows(store, "contacts") == [(bob, 1)]
    files = list((lake / "orders").rglob("*.parquet"))
    assert {v for f in files for v in pq.read_table(f, columns=["customer_id"])["customer_id"].to_pylist()} == {bob}


def _invite(session: Session, customer: int, key: str, when: datetime) -> int:
    from cxm.feedback.models import Invitation

    survey = feedback_service.get_survey(session, "relationship-nps")
    invitation = Invitation(survey_id=survey.id, customer_id=customer, channel="email", key=key, status="sent",
                            send_at=when, sent_at=when, created_at=when)  # fmt: skip
    session.add(invitation)
    session.flush()
    return invitation.id


def _invitations(store: Path) -> list[tuple[int, int, int]]:
    with duckdb.connect(str(store), read_only=True) as con:
        return con.execute("SELECT invitation_id, customer_id, answered FROM invitations ORDER BY 1").fetchall()


def test_invitations_sync_by_their_changes_answers_and_merges_included(db: SqlEngine, tmp_path: Path) -> None:
    from cxm.feedback.models import Invitation

    factory, store = make_sessionmaker(db), tmp_path / "store.duckdb"
    when = datetime(2026, 3, 3, tzinfo=UTC)
    with factory() as session, session.begin():
        feedback_service.install_templates(session)
        ann, bob = _answer(session, "ann@example.com", 10, when), _answer(session, "bob@example.com", 2, when)
        first, second = _invite(session, ann, "i1", when), _invite(session, bob, "i2", when)
        third = _invite(session, bob, "i3", when)
    assert sync(db, str(store)).rows["invitations"] == 3
    assert sync(db, str(store)).rows["invitations"] == 0
    with factory() as session, session.begin():
        session.get_one(Invitation, first).answered_at = datetime.now(UTC)
    assert sync(db, str(store)).rows["invitations"] == 1
    assert _invitations(store) == [(first, ann, 1), (second, bob, 0), (third, bob, 0)]
    with factory() as session, session.begin():  # merging moves Bob's invitations to Ann
        customers_service.merge_customers(session, survivor_id=ann, merged_id=bob, actor="test", reason="same")
    sync(db, str(store))
    assert _invitations(store) == [(first, ann, 1), (second, ann, 0), (third, ann, 0)]


def test_profiles_saved_at_one_time_are_read_once_and_a_late_one_at_that_time_too(
    db: SqlEngine, tmp_path: Path
) -> None:
    factory, store, when = make_sessionmaker(db), tmp_path / "store.duckdb", datetime(2026, 3, 3, 9, tzinfo=UTC)

    def claim(*emails: str) -> list[int]:  # resolved together: one `now`, one `updated_at` for all
        with factory() as session, session.begin():
            claims = [customers_service.Claim(keys=(("email", email),)) for email in emails]
            return customers_service.resolve(session, claims, actor="test", now=when)

    first = claim("a@example.com", "b@example.com", "c@example.com")
    assert sync(db, str(store)).rows["customers"] == 3
    assert sync(db, str(store)).rows["customers"] == 0  # the three at the watermark's time are not read again
    late = claim("d@example.com")  # the same time, a higher id
    assert sync(db, str(store)).rows["customers"] == 1
    with duckdb.connect(str(store), read_only=True) as con:
        held = [row[0] for row in con.execute("SELECT customer_id FROM customers ORDER BY 1").fetchall()]
    assert held == sorted([*first, *late])


def _theme(session: Session, name: str) -> Any:
    """A theme of a new active theme model."""
    from cxm.text.models import TextTheme, ThemeModel

    model = ThemeModel(active=True, texts=0, data=b"")
    session.add(model)
    session.flush()
    theme = TextTheme(model_id=model.id, name=name, terms=[name])
    session.add(theme)
    session.flush()
    return theme


def _signal(session: Session, customer: int, theme: int | None, index: int) -> int:
    from cxm.text.models import TextSignal

    kind, label = ("theme", str(theme)) if theme else ("sentiment", "positive")
    signal = TextSignal(kind=kind, label=label, value=0.5, theme_id=theme, source="response", source_id=index,
                        customer_id=customer, text_hash=f"h{index}", model="test",
                        written_at=datetime(2026, 3, 3, tzinfo=UTC))  # fmt: skip
    session.add(signal)
    session.flush()
    return signal.id


def _signals(store: Path) -> list[tuple[int, int, str | None]]:
    with duckdb.connect(str(store), read_only=True) as con:
        return con.execute("SELECT signal_id, customer_id, theme FROM text_signals ORDER BY 1").fetchall()


def test_text_signals_sync_what_was_added_and_again_the_id_ranges_that_lost_some(
    db: SqlEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import delete

    from cxm.text.models import TextSignal, TextTheme

    monkeypatch.setattr("cxm.analytics.sync.SIGNAL_RANGE", 2)  # ids 0-1, 2-3, 4-5, ... are counted together
    factory, store, lake = make_sessionmaker(db), tmp_path / "store.duckdb", tmp_path / "lake"
    with factory() as session, session.begin():
        feedback_service.install_templates(session)
        ann, bob = _answer(session, "ann@example.com", 10, datetime(2026, 3, 3, tzinfo=UTC)), _answer(
            session, "bob@example.com", 3, datetime(2026, 3, 3, tzinfo=UTC))  # fmt: skip
        theme = _theme(session, "delivery")
        first, second = _signal(session, ann, theme.id, 1), _signal(session, bob, None, 2)
    assert sync(db, str(store), lake=lake).rows["text signals"] == 2
    with factory() as session, session.begin():
        third = _signal(session, bob, theme.id, 3)
    assert sync(db, str(store), lake=lake).rows["text signals"] == 1  # only the new one
    assert (first, second, third) == (1, 2, 3)
    with factory() as session, session.begin():  # one deleted: its range (ids 2-3) is read again, nothing else
        session.execute(delete(TextSignal).where(TextSignal.id == second))
    assert sync(db, str(store), lake=lake).rows["text signals"] == 1
    assert _signals(store) == [(first, ann, "delivery"), (third, bob, "delivery")]
    assert sorted(pq.read_table(lake / "text_signals").column("signal_id").to_pylist()) == [first, third]
    with factory() as session, session.begin():  # a re-analysis replaces a comment's signal with a new one
        session.execute(delete(TextSignal).where(TextSignal.id == first))
        redone = _signal(session, ann, None, 1)
    assert sync(db, str(store), lake=lake).rows["text signals"] == 1  # range 0-1 (now empty) and the new one
    assert _signals(store) == [(third, bob, "delivery"), (redone, ann, None)]
    assert sorted(pq.read_table(lake / "text_signals").column("signal_id").to_pylist()) == [third, redone]
    with factory() as session, session.begin():  # back as it was, for what follows
        session.execute(delete(TextSignal).where(TextSignal.id == redone))
        first = _signal(session, ann, theme.id, 1)
    sync(db, str(store), lake=lake)
    with factory() as session, session.begin():  # a renamed theme: its name rides on every signal of it
        session.get_one(TextTheme, theme.id).name = "shipping"
    sync(db, str(store), lake=lake)
    assert _signals(store) == [(third, bob, "shipping"), (first, ann, "shipping")]
    with factory() as session, session.begin():  # a merge moves Bob's signal to Ann
        customers_service.merge_customers(session, survivor_id=ann, merged_id=bob, actor="test", reason="same")
    assert sync(db, str(store), lake=lake).rows["text signals"] == 0
    assert _signals(store) == [(third, ann, "shipping"), (first, ann, "shipping")]


def _facts(store: Path) -> dict[str, list[tuple[object, ...]]]:
    with duckdb.connect(str(store), read_only=True) as con:
        return {fact: con.execute(f"SELECT * FROM {fact} ORDER BY ALL").fetchall() for fact in FACT_TABLES}


def test_tables_read_in_pieces_by_child_processes_give_the_same_store(
    db: SqlEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    factory = make_sessionmaker(db)
    with factory() as session, session.begin():
        ids = journey_data.load_ladder(session)
        # An all-NULL column in one piece and text in another: the pieces' Arrow types differ.
        journey_data.touch(session, ids["loyal"], journey_data.at(6, 28), "purchase", "phone", "call").agent = "eva"
    whole = sync(db, str(tmp_path / "whole.duckdb"))
    monkeypatch.setattr(extract, "SMALL", 0)
    monkeypatch.setattr(extract, "PIECE", 3)  # every table in several rowid ranges, read by child processes
    monkeypatch.setattr(sync_module, "SCORES_SLICE", 2)  # the answers of two responses joined at a time
    pieces = sync(db, str(tmp_path / "pieces.duckdb"))
    assert pieces.rows == whole.rows and whole.rows["touchpoints"] == 15 and whole.rows["score answers"] >= 5
    assert _facts(tmp_path / "pieces.duckdb") == _facts(tmp_path / "whole.duckdb")


def _worker_settings(db: SqlEngine, tmp_path: Path) -> Settings:
    """The settings of a worker on this database with a DuckDB store in `tmp_path`."""
    return Settings(
        database_url=db.url.render_as_string(hide_password=False),
        analytics_url=f"duckdb:///{tmp_path / 'store.duckdb'}",
    )


def test_a_new_process_does_not_sync_a_store_that_already_holds_the_data(
    db: SqlEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _worker_settings(db, tmp_path)
    with make_sessionmaker(db)() as session, session.begin():
        feedback_service.install_templates(session)
        _answer(session, "ann@example.com", 10, datetime(2026, 3, 3, tzinfo=UTC))
    assert service.sync_if_changed(settings, db) is not None
    monkeypatch.setattr(freshness, "_fingerprints", {})  # what a freshly started process remembers
    assert service.sync_if_changed(settings, db) is None
    with make_sessionmaker(db)() as session, session.begin():
        _answer(session, "bob@example.com", 2, datetime(2026, 3, 4, tzinfo=UTC))
    monkeypatch.setattr(freshness, "_fingerprints", {})
    report = service.sync_if_changed(settings, db)
    assert report is not None and report.rows["score answers"] >= 1
    assert _nps_n(tmp_path / "store.duckdb") == 2


def test_a_renamed_theme_is_a_change_the_worker_syncs(db: SqlEngine, tmp_path: Path) -> None:
    from cxm.text.models import TextTheme

    settings = _worker_settings(db, tmp_path)
    with make_sessionmaker(db)() as session, session.begin():
        feedback_service.install_templates(session)
        ann = _answer(session, "ann@example.com", 10, datetime(2026, 3, 3, tzinfo=UTC))
        theme = _theme(session, "delivery")
        _signal(session, ann, theme.id, 1)
    assert service.sync_if_changed(settings, db) is not None
    assert service.sync_if_changed(settings, db) is None
    with make_sessionmaker(db)() as session, session.begin():
        session.get_one(TextTheme, theme.id).name = "shipping"
    assert service.sync_if_changed(settings, db) is not None
    assert [row[2] for row in _signals(tmp_path / "store.duckdb")] == ["shipping"]


def test_signals_removed_with_nothing_in_their_place_are_a_change_the_worker_syncs(
    db: SqlEngine, tmp_path: Path
) -> None:
    from cxm.text.signals import Planned, write_signals

    settings = _worker_settings(db, tmp_path)
    with make_sessionmaker(db)() as session, session.begin():
        feedback_service.install_templates(session)
        ann = _answer(session, "ann@example.com", 10, datetime(2026, 3, 3, tzinfo=UTC))
        kept = [_signal(session, ann, None, index) for index in (1, 2, 3)]
    assert service.sync_if_changed(settings, db) is not None
    for gone in (1, 2):  # a comment emptied and its response re-analysed: its signals go, none come
        with make_sessionmaker(db)() as session, session.begin():
            write_signals(session, Planned("response", [gone], [], {}, {}), [])
        assert service.sync_if_changed(settings, db) is not None
        assert service.sync_if_changed(settings, db) is None
        kept.pop(0)
        assert [row[0] for row in _signals(tmp_path / "store.duckdb")] == kept


def test_a_sync_leaves_nothing_in_the_log_while_another_connection_holds_the_store(
    db: SqlEngine, tmp_path: Path
) -> None:
    store = _synced_with_one_answer(db, tmp_path)
    with duckdb.connect(str(store)) as held:  # as a kept-open query connection would
        with make_sessionmaker(db)() as session, session.begin():
            _answer(session, "bob@example.com", 2, datetime(2026, 3, 4, tzinfo=UTC))
        sync(db, str(store))
        wal = Path(f"{store}.wal")
        assert not wal.exists() or wal.stat().st_size == 0
        assert held.execute("SELECT count(*) FROM scores").fetchone() == (2,)


def test_a_query_running_in_the_same_process_does_not_fail_the_sync(db: SqlEngine, tmp_path: Path) -> None:
    store = _synced_with_one_answer(db, tmp_path)
    with duckdb.connect(str(store)) as reading:
        reading.execute("BEGIN TRANSACTION")
        assert reading.execute("SELECT count(*) FROM scores").fetchone() == (1,)  # a read under way: no checkpoint
        with make_sessionmaker(db)() as session, session.begin():
            _answer(session, "bob@example.com", 2, datetime(2026, 3, 4, tzinfo=UTC))
        assert sync(db, str(store)).rows["score answers"] >= 1
        reading.execute("COMMIT")
        assert reading.execute("SELECT count(*) FROM scores").fetchone() == (2,)


def test_the_sync_leaves_the_query_planner_of_other_connections_as_it_was(db: SqlEngine, tmp_path: Path) -> None:
    store = _synced_with_one_answer(db, tmp_path)
    with duckdb.connect(str(store)) as held:  # a kept-open query connection shares the database's settings
        with make_sessionmaker(db)() as session, session.begin():
            _answer(session, "bob@example.com", 2, datetime(2026, 3, 4, tzinfo=UTC))
        assert sync(db, str(store)).rows["score answers"] >= 1
        assert held.execute("SELECT current_setting('disabled_optimizers')").fetchone() == ("",)
        assert held.execute("SELECT current_setting('preserve_insertion_order')").fetchone() == (True,)


def _tier_counts(store: Path) -> dict[str, int]:
    found = service.metric(open_engine(f"duckdb:///{store}"), "nps", Query(by=["attr.tier"]))
    return dict(zip(found["attr.tier"], found["n"], strict=True))


def test_a_changed_customer_attribute_moves_their_answers_and_an_old_store_is_rebuilt(
    db: SqlEngine, tmp_path: Path
) -> None:
    store = _synced_with_one_answer(db, tmp_path)
    assert _tier_counts(store) == {"(none)": 1}
    upsert = CustomerUpsert(identities={"email": "ann@example.com"}, attributes={"tier": "gold"})
    with make_sessionmaker(db)() as session, session.begin():
        customers_service.upsert_customers(session, [upsert], actor="test")
    sync(db, str(store))
    assert _tier_counts(store) == {"gold": 1}
    with duckdb.connect(str(store)) as con:  # a store written before the customer dimension kept attributes
        con.execute("ALTER TABLE customers DROP COLUMN attributes")
    sync(db, str(store))
    assert _tier_counts(store) == {"gold": 1}


def test_a_months_rows_are_those_its_time_ranges_select() -> None:
    from cxm.analytics.lake import in_months, month_of

    edges = [datetime(2025, 12, 31, 23, 59, 59, 999999), datetime(2026, 1, 1), datetime(2026, 1, 31, 23, 59, 59)]
    edges += [datetime(2026, 2, 1), datetime(2026, 12, 1), datetime(2026, 12, 31, 23, 59), datetime(2027, 1, 1)]
    rng = random.Random(7)
    times = edges + [
        datetime(2025, 11, 1) + (datetime(2027, 2, 1) - datetime(2025, 11, 1)) * rng.random() for _ in range(300)
    ]
    with duckdb.connect() as con:
        con.execute("CREATE TABLE scores (completed_at TIMESTAMP)")
        con.executemany("INSERT INTO scores VALUES (?)", [[t] for t in [*times, None]])
        for months in ({"2026-01"}, {"2025-12", "2026-12"}, {"2026-02", "2027-01"}):
            picked = con.execute(f"SELECT completed_at FROM scores WHERE {in_months('scores', months)}").fetchall()
            named = (
                f"SELECT completed_at FROM scores WHERE {month_of('scores')} IN ({', '.join(repr(m) for m in months)})"
            )
            assert sorted(picked) == sorted(con.execute(named).fetchall()) and picked


def test_a_fact_is_written_to_the_lake_month_by_month_rows_without_a_time_included(tmp_path: Path) -> None:
    from cxm.analytics.lake import _write_months, _write_whole
    from cxm.analytics.store import Run, connect

    when = [datetime(2026, 1, 31, 23, 59), datetime(2026, 1, 2), datetime(2026, 3, 1), None]
    lake = tmp_path / "lake"
    with connect(str(tmp_path / "store.duckdb")) as con:
        con.execute("CREATE TABLE scores (completed_at TIMESTAMP, score BIGINT)")
        con.executemany("INSERT INTO scores VALUES (?, ?)", [[at, index] for index, at in enumerate(when)])
        run = Run(con, None, "")  # type: ignore[arg-type]  # no operational database: only the lake is written
        _write_whole(run, lake, "scores")
        folders = sorted(part.name for part in (lake / "scores").iterdir())
        assert folders == ["month=2026-01", "month=2026-03", "month=__HIVE_DEFAULT_PARTITION__"]
        con.execute("DELETE FROM scores WHERE score = 2")  # March's only row
        _write_months(run, lake, "scores", {"2026-01", "2026-03"})
    rows = pq.read_table(lake / "scores", partitioning="hive").to_pylist()
    found = sorted((row["score"], row["month"]) for row in rows)
    assert found == [(0, "2026-01"), (1, "2026-01"), (3, None)]
    assert not (lake / "scores" / "month=2026-03").exists()


COMMENTS_SURVEY = """
key: comments
name: Comments
status: active
default_language: en
languages: [en]
title: {en: Tell us}
intro: {en: One question}
thank_you: {en: Thanks}
questions:
  - key: said
    kind: text
    label: {en: "Anything to tell us?"}
"""


def _comment(session: Session, email: str, when: datetime) -> int:
    """A response to a survey that asks for a comment only (no score to give)."""
    survey = feedback_service.get_survey(session, "comments")
    [customer] = customers_service.resolve(session, [customers_service.Claim(keys=(("email", email),))], actor="t")
    who = feedback_service.Respondent(customer_id=customer, channel="web", language="en")
    feedback_service.record_response(session, survey, {"said": "Nice"}, who, started_at=when, completed_at=when)
    return customer


def _responses_n(store: Path, **query: Any) -> int:
    found = service.metric(open_engine(f"duckdb:///{store}"), "responses", Query(**query))
    return int(found["n"].sum())


def test_responses_without_a_score_are_counted_and_an_older_store_is_rebuilt_with_them(
    db: SqlEngine, tmp_path: Path
) -> None:
    factory, store, when = make_sessionmaker(db), tmp_path / "store.duckdb", datetime(2026, 3, 3, tzinfo=UTC)
    with factory() as session, session.begin():
        feedback_service.install_templates(session)
        feedback_service.create_survey(session, feedback_service.definition_from_text(COMMENTS_SURVEY, "c.yaml"))
        _answer(session, "ann@example.com", 10, when)
        bob = _comment(session, "bob@example.com", when)
    sync(db, str(store))
    assert (_responses_n(store), _nps_n(store), _responses_n(store, by=["question"])) == (2, 1, 1)
    with factory() as session, session.begin():
        _comment(session, "cyd@example.com", when)
    sync(db, str(store))  # an incremental sync adds such a response too
    assert _responses_n(store, by=["survey"]) == 3 and _nps_n(store) == 1
    with duckdb.connect(str(store)) as con:  # as a store written before such responses had rows of their own
        con.execute("DELETE FROM scores WHERE kind IS NULL; DELETE FROM sync_state WHERE name = 'format.scores'")
    assert _responses_n(store) == 1
    sync(db, str(store))
    assert _responses_n(store) == 3 and _nps_n(store) == 1
    with factory() as session, session.begin():
        customers_service.erase_person(session, bob, actor="test")
    sync(db, str(store))
    assert _responses_n(store) == 2  # erased: their response's row goes too
