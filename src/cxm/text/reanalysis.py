"""Texts whose signals another engine version made, queued again by the worker in bounded rounds until none is left."""

from __future__ import annotations

import time

from sqlalchemy import func, literal, or_, select, tuple_
from sqlalchemy.orm import Session

from cxm.config import Settings
from cxm.core import jobs
from cxm.customers import service as customers_service
from cxm.text import analysis
from cxm.text.models import TextSignal
from cxm.text.signals import SOURCES

REANALYZE_JOB = "text.reanalyze"
# Texts queued per round at most; the next round queues more only once these jobs ran (no flood of jobs).
PER_ROUND = 2000
# A version found current is not looked for again for this long (the look is a scan of every signal); another
# process still on an older version (a rolling upgrade) may write its signals meanwhile.
RECHECK = 300.0
# (database, engine version) -> when no text of another version was left.
_found_current: dict[tuple[str, str], float] = {}
# (database, engine version) -> the last source queued: the next round goes on after it, so a batch whose jobs keep
# failing (given up after their retries) does not hold back the texts after it.
_queued_until: dict[tuple[str, str], tuple[str, int]] = {}


def outdated_sources(
    session: Session, version: str, *, limit: int, after: tuple[str, int] | None = None
) -> list[tuple[str, int]]:
    """Up to `limit` sources (response or interaction, id; after `after`) whose signals another engine version made;
    the signals of erased people are never taken (erasure removes them; a job that raced it may have written some)."""
    erased = customers_service.erased_customers().scalar_subquery()
    # Rows in index order, made distinct here: DISTINCT made PostgreSQL sort every outdated row (1.2 s for 1M texts).
    query = (
        select(TextSignal.source, TextSignal.source_id)
        .where(TextSignal.kind == "language", TextSignal.model != version)
        .where(or_(TextSignal.customer_id.is_(None), TextSignal.customer_id.not_in(erased)))
        .order_by(TextSignal.source, TextSignal.source_id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(
            tuple_(TextSignal.source, TextSignal.source_id) > tuple_(literal(after[0]), literal(after[1]))
        )
    return list(dict.fromkeys((str(source), int(source_id)) for source, source_id in session.execute(query)))


def reanalysis_pending(session: Session) -> bool:
    """Whether re-analysis jobs are queued or running still."""
    query = select(func.count()).where(jobs.Job.name == REANALYZE_JOB, jobs.Job.status.in_([jobs.QUEUED, jobs.RUNNING]))
    return bool(session.scalar(query))


def queue_reanalysis(session: Session, settings: Settings, *, limit: int = PER_ROUND) -> int:
    """Queue the re-analysis of up to `limit` texts of another engine version, in batches, unless earlier ones are
    still pending; how many sources were queued."""
    version = analysis.engine_version(session, kind=settings.text_engine, model_dir=settings.text_model_dir)
    known = (str(session.get_bind().engine.url), version)
    if time.monotonic() - _found_current.get(known, -RECHECK) < RECHECK or reanalysis_pending(session):
        return 0
    if not jobs.tick_lock(session, REANALYZE_JOB):
        return 0
    outdated = next_outdated(session, known, limit=limit)
    for source in SOURCES:
        ids = [i for s, i in outdated if s == source]
        jobs.enqueue_batches(session, REANALYZE_JOB, ids, payload={"source": source}, size=analysis.BATCH)
    return len(outdated)


def next_outdated(session: Session, known: tuple[str, str], *, limit: int) -> list[tuple[str, int]]:
    """The next sources of another version than `known`'s, after those queued last (from the start once none is
    left after them), remembering the last one; none left at all is remembered too."""
    outdated = outdated_sources(session, known[1], limit=limit, after=_queued_until.get(known))
    if not outdated and known in _queued_until:
        outdated = outdated_sources(session, known[1], limit=limit)
    if outdated:
        _queued_until[known] = outdated[-1]
    else:
        _queued_until.pop(known, None)
        _found_current[known] = time.monotonic()
    return outdated
