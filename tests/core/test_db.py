"""Operational store behaviour: timezone-aware timestamps, bulk inserts, readers never wait for a writer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import StatementError

from cxm.core.bulk import insert_columns, table_of
from cxm.core.db import make_sessionmaker
from cxm.customers.models import Customer


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
