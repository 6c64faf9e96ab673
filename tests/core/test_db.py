"""Operational store behaviour: timezone-aware timestamps, bulk inserts, readers never wait for a writer."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone

import psycopg
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from cxm.core.bulk import insert_columns, new_ids, table_of
from cxm.core.copies import copies_in_background
from cxm.core.db import make_sessionmaker
from cxm.customers.models import Customer
from cxm.interactions.models import Interaction


def test_timestamps_come_back_aware_in_utc(db: Engine) -> None:
    prague = timezone(timedelta(hours=1))
    with make_sessionmaker(db)() as session, session.begin():
        session.add(Customer(id=1, name="Ann", created_at=datetime(2026, 1, 1, 12, 0, tzinfo=prague)))
    with make_sessionmaker(db)() as session:
        stored = session.get(Customer, 1)
        assert stored is not None and stored.created_at == datetime(2026, 1, 1, 11, 0, tzinfo=UTC)
        assert stored.created_at.tzinfo is not None


def test_naive_timestamps_are_refused(db: Engine) -> None:
    with make_sessionmaker(db)() as session, pytest.raises(StatementError, match="naive"), session.begin():
        session.add(Customer(name="Ann", created_at=datetime(2026, 1, 1, 12, 0)))
        session.flush()


def test_a_reader_is_not_held_up_by_an_open_write(
    client: TestClient, admin_headers: dict[str, str], db: Engine
) -> None:
    with make_sessionmaker(db)() as writer, writer.begin():
        writer.execute(
            text("INSERT INTO customers (attributes, created_at, updated_at) VALUES ('{}', :t, :t)"),
            {"t": "2026-01-01 00:00:00.000000"},
        )
        response = client.get("/api/v1/customers", headers=admin_headers)
        assert response.status_code == 200
        assert response.json()["total"] == 0


def test_bulk_insert_keeps_json_text_numbers_and_zoned_timestamps(db: Engine) -> None:
    awkward = {"note": 'tab\there, new\nline, back\\slash, "quoted", ünïcode', "nested": {"n": [1, 2.5, None]}}
    when = pa.array([datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)] * 3, pa.timestamp("us", tz="UTC"))
    columns = {
        "name": ["Ann\tTab", None, "Bob\\"],
        "attributes": [awkward, {}, {"x": 1}],
        "created_at": when,
        "updated_at": when,
    }
    with make_sessionmaker(db)() as session, session.begin():
        ids = insert_columns(session, table_of(Customer), columns)
    with make_sessionmaker(db)() as session:
        stored = [session.get(Customer, customer_id) for customer_id in ids]
    assert [c.name for c in stored if c] == ["Ann\tTab", None, "Bob\\"]
    assert [c.attributes for c in stored if c] == [awkward, {}, {"x": 1}]
    assert {c.created_at for c in stored if c} == {datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)}


def test_bulk_insert_keeps_instants_of_any_zone_and_columns_of_one_repeated_value(db: Engine) -> None:
    prague = timezone(timedelta(hours=1))
    instants = [datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=prague), datetime(2026, 7, 4, 23, 59, tzinfo=UTC)] * 2
    now = datetime(2026, 12, 6, 22, 0, 0, 1, tzinfo=UTC)
    columns = {
        "name": ["same\tname"] * 4,
        "language": [None] * 4,
        "segment": ["back\\slash", "plain", "back\\slash", "plain"],  # escaped though every character prints
        "attributes": [{}] * 4,
        "created_at": pa.array(instants, pa.timestamp("us", tz="Europe/Prague")),
        "updated_at": [now] * 4,
    }
    with make_sessionmaker(db)() as session, session.begin():
        ids = insert_columns(session, table_of(Customer), columns)
    with make_sessionmaker(db)() as session:
        stored = [session.get(Customer, customer_id) for customer_id in ids]
    assert [c.created_at for c in stored if c] == instants
    assert [(c.name, c.language, c.updated_at) for c in stored if c] == [("same\tname", None, now)] * 4
    assert [c.segment for c in stored if c] == ["back\\slash", "plain", "back\\slash", "plain"]


def _interaction_columns(session: Session, event_ids: list[str]) -> dict[str, object]:
    when = [datetime(2026, 3, 1, tzinfo=UTC)] * len(event_ids)
    person = Customer(attributes={})
    session.add(person)
    session.flush()
    return {
        "event_id": event_ids,
        "customer_id": [person.id] * len(event_ids),
        "channel": ["web"] * len(event_ids),
        "direction": ["inbound"] * len(event_ids),
        "type": ["visit"] * len(event_ids),
        "occurred_at": when,
        "ingested_at": when,
        "attributes": [{}] * len(event_ids),
    }


def test_rows_copied_in_the_background_are_seen_by_the_next_statement(db: Engine) -> None:
    with make_sessionmaker(db)() as session, session.begin(), copies_in_background(session):
        ids = insert_columns(session, table_of(Interaction), _interaction_columns(session, ["a", "b", "c"]))
        seen = session.scalar(text("SELECT count(*) FROM interactions"))
        columns = _interaction_columns(session, ["d", "e"])
        reserved = new_ids(session, table_of(Interaction), 2)
        insert_columns(session, table_of(Interaction), columns, ids=reserved)
    assert seen == 3
    with make_sessionmaker(db)() as session:
        stored = session.execute(text("SELECT id, event_id FROM interactions ORDER BY id")).all()
    assert [tuple(row) for row in stored] == list(zip([*ids, *reserved], "abcde", strict=True))


def test_a_copy_failing_in_the_background_fails_the_transaction_and_keeps_nothing(db: Engine) -> None:
    refused = (IntegrityError, sqlite3.IntegrityError, psycopg.IntegrityError)  # the driver's own, from its cursor
    # On PostgreSQL the second COPY fails in the background; its error surfaces at the next statement.
    with pytest.raises(refused), make_sessionmaker(db)() as session, session.begin(), copies_in_background(session):
        insert_columns(session, table_of(Interaction), _interaction_columns(session, ["same", "other"]))
        insert_columns(session, table_of(Interaction), _interaction_columns(session, ["same"]))
        session.execute(text("SELECT 1"))
    with make_sessionmaker(db)() as session:
        assert session.scalar(text("SELECT count(*) FROM interactions")) == 0


def test_copies_queued_back_to_back_are_all_stored_in_order(db: Engine) -> None:
    with make_sessionmaker(db)() as session, session.begin(), copies_in_background(session):
        first = _interaction_columns(session, ["a", "b"])
        second = {**first, "event_id": ["c", "d"]}
        third = {**first, "event_id": ["e", "f"]}
        ids = [insert_columns(session, table_of(Interaction), columns) for columns in (first, second, third)]
    with make_sessionmaker(db)() as session:
        stored = session.execute(text("SELECT id, event_id FROM interactions ORDER BY id")).all()
    assert [tuple(row) for row in stored] == list(zip([i for batch in ids for i in batch], "abcdef", strict=True))


def test_a_failing_copy_stops_the_copies_queued_behind_it(db: Engine) -> None:
    refused = (IntegrityError, sqlite3.IntegrityError, psycopg.IntegrityError)
    with pytest.raises(refused), make_sessionmaker(db)() as session, session.begin(), copies_in_background(session):
        columns = _interaction_columns(session, ["same", "same"])
        insert_columns(session, table_of(Interaction), columns)
        insert_columns(session, table_of(Interaction), {**columns, "event_id": ["x", "y"]})
    with make_sessionmaker(db)() as session:
        assert session.scalar(text("SELECT count(*) FROM interactions")) == 0


def test_an_import_takes_sequence_ids_ahead_and_needs_no_round_trip_for_the_next_batch(db: Engine) -> None:
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    with make_sessionmaker(db)() as session, session.begin(), copies_in_background(session):
        first = new_ids(session, table_of(Interaction), 3)
        event.listen(db, "before_cursor_execute", record)
        second = new_ids(session, table_of(Interaction), 2)
        event.remove(db, "before_cursor_execute", record)
    assert first == list(range(first[0], first[0] + 3)) and second == list(range(second[0], second[0] + 2))
    if db.dialect.name == "postgresql":
        assert statements == [] and second[0] == first[-1] + 1  # from the reserve: nothing waits for COPYs
    else:
        assert second == first[:2]  # SQLite: the next free ids (its writer holds the database), nothing reserved
