"""Concurrent writers never create two profiles for one identity nor store an event twice."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text

from cxm.core.db import make_sessionmaker
from cxm.interactions import service
from cxm.interactions.schemas import InteractionIn

START = datetime(2026, 6, 1, tzinfo=UTC)


def batch(writer: int) -> list[InteractionIn]:
    """Forty events per writer over the same ten shared e-mails, half of them re-sent by every writer."""
    return [
        InteractionIn(
            event_id=f"shared-{i}" if i % 2 else f"w{writer}-{i}",
            identities={"email": f"shared{i % 10}@example.com"},
            channel="app",
            type="open",
            occurred_at=START + timedelta(minutes=i),
        )
        for i in range(40)
    ]


def write(db: Engine, writer: int) -> tuple[int, int]:
    """One writer's transaction."""
    with make_sessionmaker(db)() as session, session.begin():
        result = service.ingest_interactions(session, batch(writer), actor=f"writer-{writer}")
    return result.accepted, result.duplicates


def test_parallel_batches_share_profiles_and_dedupe_events(db: Engine) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda w: write(db, w), range(4)))
    assert sum(accepted for accepted, _ in results) == 4 * 20 + 20
    with db.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM customers")) == 10
        assert connection.scalar(text("SELECT count(*) FROM identities")) == 10
        assert connection.scalar(text("SELECT count(*) FROM interactions")) == 100
