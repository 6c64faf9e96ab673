"""The job table queue: same-transaction enqueueing, idempotency keys, retries with back-off, stale jobs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from cxm.core import jobs
from cxm.core.db import make_sessionmaker, utcnow

calls: list[dict[str, Any]] = []
failures = {"left": 0}


@jobs.job_handler("test.record")
def record(session: Session, payload: dict[str, Any]) -> None:
    """Remember the payload; fail while failures are left."""
    if failures["left"] > 0:
        failures["left"] -= 1
        raise ConnectionError("server down")
    calls.append(payload)


@pytest.fixture
def factory(db: Engine) -> sessionmaker[Session]:
    """Sessions on the test database, with a clean record of calls."""
    calls.clear()
    failures["left"] = 0
    return make_sessionmaker(db)


def job(factory: sessionmaker[Session]) -> jobs.Job:
    """The one job in the table."""
    with factory() as session:
        return session.scalars(select(jobs.Job)).one()


def test_a_keyed_job_is_queued_once(factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        assert jobs.enqueue(session, "test.record", {"n": 1}, key="k") is not None
        assert jobs.enqueue(session, "test.record", {"n": 2}, key="k") is None
    with factory.begin() as session:
        assert jobs.enqueue(session, "test.record", {"n": 3}, key="k") is None
        queued = jobs.enqueue_many(session, "test.record", [({"n": 4}, utcnow(), "k"), ({"n": 5}, utcnow(), "m")])
        assert queued == 1
    assert jobs.run_due(factory) == 2
    assert sorted(c["n"] for c in calls) == [1, 5]
    assert jobs.run_due(factory) == 0


def test_a_job_of_a_rolled_back_transaction_never_runs(factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        jobs.enqueue(session, "test.record", {"n": 1})
        session.rollback()
    assert jobs.run_due(factory) == 0 and calls == []


def test_a_job_waits_for_its_time(factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        jobs.enqueue(session, "test.record", {"n": 1}, run_at=utcnow() + timedelta(hours=1))
    assert jobs.run_due(factory) == 0
    assert jobs.run_due(factory, now=utcnow() + timedelta(hours=2)) == 1 and calls == [{"n": 1}]


def test_failures_are_retried_with_growing_back_off(factory: sessionmaker[Session]) -> None:
    failures["left"] = 2
    with factory.begin() as session:
        jobs.enqueue(session, "test.record", {"n": 1})
    before = utcnow()
    assert jobs.run_next(factory) is True
    first = job(factory)
    assert (first.status, first.attempts) == (jobs.QUEUED, 1) and first.last_error == "ConnectionError: server down"
    assert first.run_at >= before + jobs.BACKOFF
    assert jobs.run_next(factory) is False  # not due yet
    assert jobs.run_next(factory, now=first.run_at) is True
    second = job(factory)
    assert second.attempts == 2 and second.run_at - first.run_at >= jobs.BACKOFF
    assert jobs.run_next(factory, now=second.run_at) is True
    done = job(factory)
    assert (done.status, done.attempts, done.last_error) == (jobs.DONE, 3, None) and calls == [{"n": 1}]


def test_a_job_that_keeps_failing_is_given_up(factory: sessionmaker[Session]) -> None:
    failures["left"] = 100
    with factory.begin() as session:
        jobs.enqueue(session, "test.record", {"n": 1})
    later = utcnow()
    for _ in range(jobs.MAX_ATTEMPTS):
        later += timedelta(days=1)
        assert jobs.run_next(factory, now=later) is True
    given_up = job(factory)
    assert (given_up.status, given_up.attempts) == (jobs.FAILED, jobs.MAX_ATTEMPTS)
    assert jobs.run_next(factory, now=later + timedelta(days=30)) is False
    with factory() as session:
        assert jobs.job_counts(session) == {jobs.FAILED: 1}


def test_a_job_abandoned_by_a_crashed_worker_is_taken_again(factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        jobs.enqueue(session, "test.record", {"n": 1})
    with factory.begin() as session:
        claimed = jobs._claim(session, utcnow())  # a worker claims it, then dies before running it
        assert claimed is not None
    assert jobs.run_due(factory) == 0
    assert jobs.run_due(factory, now=utcnow() + jobs.STALE + timedelta(minutes=1)) == 1 and calls == [{"n": 1}]


def test_a_tick_runs_in_one_worker_at_a_time(factory: sessionmaker[Session], db: Engine) -> None:
    with factory.begin() as first:
        assert jobs.tick_lock(first, "test.tick") is True
        if db.dialect.name == "postgresql":  # SQLite: the second transaction would wait for the write lock instead
            with factory.begin() as second:
                assert jobs.tick_lock(second, "test.tick") is False
                assert jobs.tick_lock(second, "test.other") is True
    with factory.begin() as later:
        assert jobs.tick_lock(later, "test.tick") is True


def test_run_due_stops_when_told_but_runs_at_least_one(factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        for n in range(3):
            jobs.enqueue(session, "test.record", {"n": n})
    assert jobs.run_due(factory, keep_going=lambda: False) == 1
    assert jobs.run_due(factory, keep_going=lambda: True) == 2
    assert [c["n"] for c in calls] == [0, 1, 2]
