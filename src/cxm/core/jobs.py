"""Background jobs: a job table is the queue, filled in the same transaction as the change that causes it."""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Index, Integer, String, Text, func, insert, select, text, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from cxm.core.db import Base, JSONDict, UTCDateTime, read_only, utcnow

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
MAX_ATTEMPTS = 5
BACKOFF = timedelta(seconds=30)
# A job that has been "running" this long was abandoned by a crashed worker and is taken again.
STALE = timedelta(minutes=10)

JobHandler = Callable[[Session, dict[str, Any]], None]


@dataclass(frozen=True)
class Transactions:
    """The transactions a long job opens itself: reads that take no write lock, then a short write."""

    factory: sessionmaker[Session]

    def reading(self) -> AbstractContextManager[Session]:
        """A transaction that only reads (on SQLite: no write lock, so pages and imports go on meanwhile)."""
        bind = self.factory.kw["bind"]
        return sessionmaker(read_only(bind), expire_on_commit=False, info=self.factory.kw.get("info", {})).begin()

    def writing(self) -> AbstractContextManager[Session]:
        """A writing transaction: keep it short, the work done before it."""
        return self.factory.begin()


PhasedHandler = Callable[[Transactions, dict[str, Any]], None]
_handlers: dict[str, JobHandler] = {}
_phased: dict[str, PhasedHandler] = {}


class Job(Base):
    """One unit of background work; `key` makes enqueueing the same work twice a no-op."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_run_at", "status", "run_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    key: Mapped[str | None] = mapped_column(String(300), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDict, default=dict)
    status: Mapped[str] = mapped_column(String(10), default=QUEUED)
    run_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def job_handler(name: str) -> Callable[[JobHandler], JobHandler]:
    """Register the function that runs jobs of this name (it must be safe to run twice)."""

    def register(handler: JobHandler) -> JobHandler:
        _handlers[name] = handler
        return handler

    return register


def phased_job_handler(name: str) -> Callable[[PhasedHandler], PhasedHandler]:
    """Register a long job that reads, works without a transaction, then writes (safe to run twice)."""

    def register(handler: PhasedHandler) -> PhasedHandler:
        _phased[name] = handler
        return handler

    return register


def enqueue(
    session: Session, name: str, payload: dict[str, Any], *, run_at: datetime | None = None, key: str | None = None
) -> Job | None:
    """Queue a job in the caller's transaction; None when a job with the same key already exists."""
    if key is not None and session.scalar(select(Job.id).where(Job.key == key)) is not None:
        return None
    job = Job(name=name, payload=payload, run_at=run_at or utcnow(), key=key, status=QUEUED, attempts=0)
    session.add(job)
    session.flush()
    return job


def enqueue_many(session: Session, name: str, jobs: Sequence[tuple[dict[str, Any], datetime, str]]) -> int:
    """Queue many keyed jobs (payload, run_at, key) in one statement; keys already queued are skipped."""
    wanted = {key: (payload, run_at) for payload, run_at, key in jobs}
    for start in range(0, len(wanted), 2000):
        chunk = list(wanted)[start : start + 2000]
        for existing in session.scalars(select(Job.key).where(Job.key.in_(chunk))):
            wanted.pop(str(existing), None)
    rows = [
        {"name": name, "payload": payload, "run_at": run_at, "key": key, "status": QUEUED, "attempts": 0}
        for key, (payload, run_at) in wanted.items()
    ]
    if rows:
        session.execute(insert(Job), rows)
    return len(rows)


def _claim(session: Session, now: datetime) -> Job | None:
    """Take the next due job (PostgreSQL: rows other workers hold are skipped)."""
    due = (Job.status == QUEUED) & (Job.run_at <= now)
    stale = (Job.status == RUNNING) & (Job.locked_at < now - STALE)
    query = select(Job).where(due | stale).order_by(Job.run_at, Job.id).limit(1)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    job = session.scalar(query)
    if job is not None:
        job.status, job.locked_at, job.attempts = RUNNING, now, job.attempts + 1
    return job


def run_next(factory: sessionmaker[Session], *, now: datetime | None = None) -> bool:
    """Run one due job, if any; whether one ran. A failure is retried later with back-off."""
    with factory.begin() as session:
        job = _claim(session, now or utcnow())
        if job is None:
            return False
        job_id, name, payload = job.id, job.name, dict(job.payload)
    try:
        _run(factory, job_id, name, payload)
    except Exception as error:
        log.warning("job %s (%s) failed: %s", job_id, name, error)
        with factory.begin() as session:
            _fail(session, job_id, error)
    return True


def _run(factory: sessionmaker[Session], job_id: int, name: str, payload: dict[str, Any]) -> None:
    """Run one claimed job: a plain handler inside one transaction, a phased one in its own."""
    if name in _phased:
        _phased[name](Transactions(factory), payload)
        with factory.begin() as session:
            _finish(session, job_id)
        return
    with factory.begin() as session:
        _handlers[name](session, payload)
        _finish(session, job_id)


def _finish(session: Session, job_id: int) -> None:
    session.execute(update(Job).where(Job.id == job_id).values(status=DONE, finished_at=utcnow(), last_error=None))


def _fail(session: Session, job_id: int, error: Exception) -> None:
    job = session.get_one(Job, job_id)
    job.last_error = f"{type(error).__name__}: {error}"
    if job.attempts >= MAX_ATTEMPTS:
        job.status, job.finished_at = FAILED, utcnow()
    else:
        job.status, job.run_at = QUEUED, utcnow() + BACKOFF * 2 ** (job.attempts - 1)


def run_due(
    factory: sessionmaker[Session],
    *,
    limit: int = 1000,
    now: datetime | None = None,
    keep_going: Callable[[], bool] | None = None,
) -> int:
    """Run due jobs until none is left, `limit` ran, or `keep_going` says stop (checked after each job, so at
    least one runs); how many ran."""
    ran = 0
    while ran < limit and run_next(factory, now=now):
        ran += 1
        if keep_going is not None and not keep_going():
            break
    return ran


def tick_lock(session: Session, name: str) -> bool:
    """Hold a lock named `name` until this transaction ends; False when another worker holds it (skip the tick)."""
    if session.get_bind().dialect.name != "postgresql":
        return True  # SQLite: the transaction already holds the database's one write lock
    key = zlib.crc32(f"cxm:{name}".encode())
    return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key}))


def job_counts(session: Session) -> dict[str, int]:
    """How many jobs are in each status."""
    rows = session.execute(select(Job.status, func.count()).group_by(Job.status))
    return {status: count for status, count in rows}


def enqueue_batches(
    session: Session, name: str, ids: Sequence[int], *, payload: dict[str, Any], size: int = 500
) -> int:
    """Queue one job per `size` ids (payload plus `ids`), so a large import becomes many small jobs; how many."""
    batches = [list(ids[start : start + size]) for start in range(0, len(ids), size)]
    if batches:
        now = utcnow()
        rows = [
            {"name": name, "payload": {**payload, "ids": b}, "run_at": now, "status": QUEUED, "attempts": 0}
            for b in batches
        ]
        session.execute(insert(Job), rows)
    return len(batches)
