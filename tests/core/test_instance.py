"""Per-installation secrets: made once, kept, and made safely from a page that only reads."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, func, select

from cxm.core.db import make_sessionmaker, read_only
from cxm.core.instance import instance_secret
from cxm.customers.models import Customer


def test_a_reader_makes_the_secret_apart_although_someone_wrote_meanwhile(db: Engine) -> None:
    with make_sessionmaker(read_only(db))() as reading, reading.begin():
        assert reading.scalar(select(func.count()).select_from(Customer)) == 0  # the read transaction has begun
        with make_sessionmaker(db).begin() as other:  # someone else writes meanwhile (a worker, an import)
            other.add(Customer(name="Ann", created_at=datetime(2026, 1, 1, tzinfo=UTC)))
        made = instance_secret(reading, "survey-pages")
        assert instance_secret(reading, "survey-pages") == made
    with make_sessionmaker(db)() as later, later.begin():
        assert instance_secret(later, "survey-pages") == made
        assert instance_secret(later, "another") not in (made, "")
