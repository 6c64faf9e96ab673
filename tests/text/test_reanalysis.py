"""Texts analysed by an older engine version are analysed again by the worker, in bounded rounds."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from cxm.config import Settings
from cxm.core import jobs
from cxm.customers import service as customers_service
from cxm.text import analysis, reanalysis, service
from cxm.text.engine import TextAnalysis
from cxm.text.models import TextSignal
from cxm.text.sentiment import Sentiment
from cxm.worker import work_once, worker_sessions
from tests.text.test_signals import store_chats, store_comments

OLD, NEW = "a" * 12, "b" * 12


class LabellingEngine:
    """A fake engine giving every text the same sentiment label, counting the texts it is asked to analyse."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.seen: list[str] = []

    def analyze(
        self, texts: Sequence[str], *, language: str | None = None, keyphrases: bool = True
    ) -> list[TextAnalysis]:
        self.seen += texts
        return [TextAnalysis("en", Sentiment(0.5, self.label)) for _ in texts]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> LabellingEngine:
    """The engine analysis uses, its shipped head at the old version; nothing remembered as current."""
    engine = LabellingEngine("positive")
    monkeypatch.setattr(analysis, "engine_for", lambda *args, **kwargs: engine)
    monkeypatch.setattr(analysis, "head_version", lambda: OLD)
    monkeypatch.setattr(reanalysis, "_found_current", {})
    monkeypatch.setattr(reanalysis, "_queued_until", {})
    return engine


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """The worker's settings: its own analytics store, no reminders."""
    return Settings(database_url=database_url, analytics_url=f"duckdb:///{tmp_path / 'store.duckdb'}", reminder_days=0)


@pytest.fixture
def factory(db: Engine, settings: Settings) -> sessionmaker[Session]:
    return worker_sessions(db, settings)


def upgrade(monkeypatch: pytest.MonkeyPatch, fake: LabellingEngine) -> None:
    """cxm upgraded: a new head ships, and it says otherwise."""
    monkeypatch.setattr(analysis, "head_version", lambda: NEW)
    fake.label = "negative"


def models(session: Session) -> set[str]:
    return set(session.scalars(select(TextSignal.model).where(TextSignal.kind == "language")))


def store_sentiments(settings: Settings) -> list[str]:
    path = str(settings.analytics_url).removeprefix("duckdb:///")
    with duckdb.connect(path, read_only=True) as con:
        rows = con.execute("SELECT label FROM text_signals WHERE kind = 'sentiment' ORDER BY signal_id").fetchall()
    return [str(label) for (label,) in rows]


def queued(session: Session) -> list[tuple[str, list[int]]]:
    query = select(jobs.Job).where(jobs.Job.name == reanalysis.REANALYZE_JOB).order_by(jobs.Job.id)
    return [(job.payload["source"], job.payload["ids"]) for job in session.scalars(query)]


def test_the_worker_analyses_texts_of_an_older_engine_again_and_syncs_them(
    factory: sessionmaker[Session], settings: Settings, fake: LabellingEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with factory.begin() as session:
        store_comments(session)
        store_chats(session)
    assert work_once(factory, settings).jobs == 2
    assert store_sentiments(settings) == ["positive"] * 4
    upgrade(monkeypatch, fake)
    done = work_once(factory, settings)
    assert done.reanalysed == 4 and done.jobs == 2  # two comments and two chats, a batch of each
    with factory.begin() as session:
        assert models(session) == {f"offline:{NEW}:0"}
    assert store_sentiments(settings) == ["negative"] * 4  # the analytics store has the new signals
    again = work_once(factory, settings)
    assert (again.reanalysed, again.jobs, len(fake.seen)) == (0, 0, 8)


def test_current_texts_are_left_alone(
    factory: sessionmaker[Session], settings: Settings, fake: LabellingEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with factory.begin() as session:
        old, current = store_comments(session, [(10, "Lovely shop."), (3, "Rude staff.")])
        session.execute(jobs.Job.__table__.delete())
        service.analyze_stored(session, "response", [old], languages=["en"])
        upgrade(monkeypatch, fake)
        service.analyze_stored(session, "response", [current], languages=["en"])
        kept = [s.id for s in service.signals_of(session, source="response", source_id=current)]
    assert work_once(factory, settings).reanalysed == 1
    with factory.begin() as session:
        assert [s.id for s in service.signals_of(session, source="response", source_id=current)] == kept
        assert models(session) == {f"offline:{NEW}:0"}
    assert fake.seen == ["Lovely shop.", "Rude staff.", "Lovely shop."]


def test_rounds_are_bounded_and_queue_nothing_twice(
    factory: sessionmaker[Session], settings: Settings, fake: LabellingEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with factory.begin() as session:
        ids = store_comments(session, [(10, "Lovely shop."), (3, "Rude staff."), (9, "Quick delivery.")])
    jobs.run_due(factory)
    upgrade(monkeypatch, fake)
    with factory.begin() as session:
        assert service.queue_reanalysis(session, settings, limit=2) == 2
    with factory.begin() as session:
        assert service.queue_reanalysis(session, settings, limit=2) == 0  # the first round's jobs are pending
        assert queued(session) == [("response", ids[:2])]
    assert jobs.run_due(factory) == 1
    with factory.begin() as session:
        assert service.queue_reanalysis(session, settings, limit=2) == 1
        assert queued(session)[1:] == [("response", ids[2:])]
    jobs.run_due(factory)
    with factory.begin() as session:
        assert service.queue_reanalysis(session, settings, limit=2) == 0
        assert models(session) == {f"offline:{NEW}:0"}


def test_texts_of_erased_people_are_never_queued_again(
    factory: sessionmaker[Session], settings: Settings, fake: LabellingEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with factory.begin() as session:
        erased, kept = store_comments(session, [(10, "Lovely shop."), (3, "Rude staff.")])
    jobs.run_due(factory)
    with factory.begin() as session:
        [row] = [s for s in service.signals_of(session, source="response", source_id=erased) if s.kind == "language"]
        copied = {c.key: getattr(row, c.key) for c in TextSignal.__table__.columns if c.key not in ("id", "created_at")}
        customers_service.erase_person(session, row.customer_id or 0, actor="test")
        session.execute(insert(TextSignal), [copied])  # as if a job that raced the erasure wrote it again
    upgrade(monkeypatch, fake)
    with factory.begin() as session:
        assert service.queue_reanalysis(session, settings) == 1
        assert queued(session) == [("response", [kept])]
        assert session.scalar(select(func.count()).select_from(TextSignal).where(TextSignal.source_id == erased)) == 1


def test_a_batch_given_up_does_not_hold_back_the_texts_after_it(
    factory: sessionmaker[Session], settings: Settings, fake: LabellingEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with factory.begin() as session:
        ids = store_comments(session, [(10, "Lovely shop."), (3, "Rude staff."), (9, "Quick delivery.")])
    jobs.run_due(factory)
    upgrade(monkeypatch, fake)
    rounds = []
    for _ in range(4):
        with factory.begin() as session:
            service.queue_reanalysis(session, settings, limit=1)
            rounds.append(queued(session)[-1])
            # Its jobs keep failing: given up after their retries, the texts still of the older version.
            session.execute(update(jobs.Job).values(status=jobs.FAILED))
    assert rounds == [("response", [i]) for i in [*ids, ids[0]]]  # after the last one, from the start again
