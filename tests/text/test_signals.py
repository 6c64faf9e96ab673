"""Every stored text analysed in background jobs into signals, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from cxm.analytics.engines import open_engine
from cxm.analytics.sync import sync
from cxm.cli import app as cli_app
from cxm.core import jobs
from cxm.core.db import make_sessionmaker
from cxm.customers import service as customers_service
from cxm.feedback import service as feedback_service
from cxm.interactions import importers
from cxm.interactions import service as interactions_service
from cxm.interactions.schemas import InteractionIn
from cxm.text import analysis, coldstart, service
from cxm.text.coldstart import head_version
from cxm.text.engine import OfflineEngine, TextAnalysis
from cxm.text.models import TextSignal
from cxm.text.sentiment import Sentiment
from cxm.text.signals import SourceText, analyze_sources

START = datetime(2026, 3, 1, tzinfo=UTC)
COMMENTS = [
    (10, "The staff were wonderful and very helpful."),
    (2, "Terrible service, the parcel never arrived."),
    (9, ""),
]


def store_comments(session: Session, comments: Sequence[tuple[int, str]] = COMMENTS) -> list[int]:
    """NPS responses with comments, each from its own customer (by e-mail); their ids."""
    survey = feedback_service.create_survey(session, feedback_service.load_template("relationship-nps"))
    items = [
        feedback_service.IncomingResponse(
            answers={"nps": score, "reason": text} if text else {"nps": score},
            keys=(("email", f"person{i}@example.com"),),
            external_id=f"r{i}",
            completed_at=START + timedelta(days=i),
        )
        for i, (score, text) in enumerate(comments)
    ]
    result = feedback_service.store_responses(session, survey, items, actor="test")
    assert not result.problems
    return [i for i in result.response_ids if i is not None]


def store_chats(session: Session) -> list[int | None]:
    """Two chats with text and a phone call without."""
    items = [
        InteractionIn(
            channel="chat", type="question", occurred_at=START, text=text, identities={"email": "chat@example.com"}
        )
        for text in ("Paket nikad nije stigao i nitko se ne javlja.", "Skvělá obsluha, děkuji!", None)
    ]
    return interactions_service.ingest_interactions(session, items, actor="test").ids


def kinds(session: Session, source: str, source_id: int) -> dict[str, str]:
    """Language and sentiment label of one source's text."""
    return {s.kind: s.label for s in service.signals_of(session, source=source, source_id=source_id)}


def test_stored_comments_and_interaction_texts_are_queued_and_analysed(db: Engine) -> None:
    factory = make_sessionmaker(db)
    with factory.begin() as session:
        responses, chats = store_comments(session), store_chats(session)
        queued = session.scalar(select(func.count()).select_from(jobs.Job).where(jobs.Job.name == "text.analyze"))
        assert queued == 2  # one batch of responses, one of interactions
    assert jobs.run_due(factory) == 2
    with factory.begin() as session:
        assert kinds(session, "response", responses[0]) == {"language": "en", "sentiment": "positive"}
        assert kinds(session, "response", responses[1])["sentiment"] == "negative"
        assert kinds(session, "response", responses[2]) == {}
        assert kinds(session, "interaction", chats[0] or 0) == {"language": "hr", "sentiment": "negative"}
        assert kinds(session, "interaction", chats[1] or 0)["language"] == "cs"
        signal = service.signals_of(session, source="response", source_id=responses[0])[0]
        assert signal.customer_id is not None and signal.written_at == START
        assert "wonderful" not in f"{signal.label} {signal.text_hash}"  # no words of the text are copied


class CountingEngine:
    """A fake engine that counts the texts it is asked to analyse."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def analyze(
        self, texts: Sequence[str], *, language: str | None = None, keyphrases: bool = True
    ) -> list[TextAnalysis]:
        self.seen += texts
        return [TextAnalysis("en", Sentiment(0.5, "positive")) for _ in texts]


def test_results_are_reused_by_text_hash_and_running_twice_changes_nothing(session: Session) -> None:
    ids = store_comments(session, [(10, "Lovely shop."), (10, "Lovely shop."), (3, "Rude staff.")])
    engine = CountingEngine()
    assert analyze_sources(session, "response", ids, engine=engine, version="fake:1") == 3
    assert sorted(engine.seen) == ["Lovely shop.", "Rude staff."]  # each distinct text once
    assert analyze_sources(session, "response", ids, engine=engine, version="fake:1") == 0
    assert analyze_sources(session, "response", ids[:1], engine=engine, version="fake:2") == 1
    assert len(engine.seen) == 3
    count = session.scalar(select(func.count()).select_from(TextSignal))
    assert count == 6  # language + sentiment per text, replaced rather than added
    assert (
        SourceText("response", 1, None, None, " Lovely shop. ", START).digest
        == SourceText("response", 2, None, None, "Lovely shop.", START).digest
    )


def test_texts_analysed_by_an_older_head_are_analysed_again(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = store_comments(session, [(10, "Lovely shop."), (3, "Rude staff.")])
    engine = CountingEngine()
    monkeypatch.setattr(analysis, "engine_for", lambda *args, **kwargs: engine)
    monkeypatch.setattr(analysis, "head_version", lambda: "a" * 12)
    assert service.analyze_stored(session, "response", ids, languages=["en"]) == 2
    assert service.analyze_stored(session, "response", ids, languages=["en"]) == 0
    monkeypatch.setattr(analysis, "head_version", lambda: "b" * 12)  # cxm upgraded: a new seed head ships
    assert service.analyze_stored(session, "response", ids, languages=["en"]) == 2
    assert engine.seen == ["Lovely shop.", "Rude staff."] * 2  # the older head's results are not reused by hash
    models = {s.model for i in ids for s in service.signals_of(session, source="response", source_id=i)}
    assert models == {f"offline:{'b' * 12}:0"}


def test_the_engine_version_names_the_shipped_head(session: Session) -> None:
    shipped = resources.files("cxm.text").joinpath(coldstart.HEAD_FILE).read_bytes()
    assert head_version() == hashlib.sha256(shipped).hexdigest()[:12]
    assert analysis.engine_version(session) == f"offline:{head_version()}:0"


def test_erasure_removes_the_signals_of_the_person(db: Engine) -> None:
    factory: sessionmaker[Session] = make_sessionmaker(db)
    with factory.begin() as session:
        responses = store_comments(session)
    jobs.run_due(factory)
    with factory.begin() as session:
        owner = service.signals_of(session, source="response", source_id=responses[0])[0].customer_id
        assert owner is not None
        customers_service.erase_person(session, owner, actor="test")
    with factory.begin() as session:
        assert service.signals_of(session, source="response", source_id=responses[0]) == []
        assert service.signals_of(session, source="response", source_id=responses[1]) != []


def test_backfill_analyses_texts_stored_before(database_url: str, db: Engine, tmp_path: Path) -> None:
    with make_sessionmaker(db).begin() as session:
        responses = store_comments(session)
        store_chats(session)
        session.execute(jobs.Job.__table__.delete())  # as if stored before text analysis existed
    done = CliRunner().invoke(cli_app, ["--database-url", database_url, "text", "backfill"])
    assert done.exit_code == 0 and "4 text(s) analysed" in done.stdout
    with make_sessionmaker(db).begin() as session:
        assert kinds(session, "response", responses[1])["sentiment"] == "negative"
    again = CliRunner().invoke(cli_app, ["--database-url", database_url, "text", "backfill"])
    assert "0 text(s) analysed" in again.stdout


def _store_signals(store: Path) -> list[tuple[str, str, int]]:
    with duckdb.connect(str(store), read_only=True) as con:
        rows = con.execute("SELECT kind, label, response_id FROM text_signals ORDER BY signal_id").fetchall()
    return [(str(k), str(label), int(r)) for k, label, r in rows]


def test_signals_reach_the_analytics_store_and_lake_and_leave_with_erasure(db: Engine, tmp_path: Path) -> None:
    factory, store, lake = make_sessionmaker(db), tmp_path / "store.duckdb", tmp_path / "lake"
    with factory.begin() as session:
        responses = store_comments(session)
    jobs.run_due(factory)
    report = sync(db, str(store), lake=lake)
    assert report.rows["text signals"] == 4
    assert ("sentiment", "negative", responses[1]) in _store_signals(store)
    live = open_engine(db.url.render_as_string(hide_password=False))
    with live.connect() as tables:
        assert tables("text_signals").count().to_pyarrow().as_py() == 4
    with factory.begin() as session:
        owner = service.signals_of(session, source="response", source_id=responses[1])[0].customer_id
        customers_service.erase_person(session, owner or 0, actor="test")
    sync(db, str(store), lake=lake)
    assert {r for _, _, r in _store_signals(store)} == {responses[0]}
    assert set(pq.read_table(lake / "text_signals").column("response_id").to_pylist()) == {responses[0]}


def test_an_imported_file_queues_its_texts(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "chats.csv"
    path.write_text(
        "email,channel,type,occurred_at,text\n"
        "a@example.com,chat,question,2026-03-01T10:00:00+00:00,Where is my parcel?\n"
        "b@example.com,chat,question,2026-03-01T11:00:00+00:00,\n"
        "c@example.com,email,complaint,2026-03-01T12:00:00+00:00,The courier was rude.\n",
        encoding="utf-8",
    )
    summary = importers.import_file(session, "interactions", path, actor="test")
    assert summary.imported == 3
    queued = session.scalars(select(jobs.Job).where(jobs.Job.name == "text.analyze")).all()
    assert [(j.payload["source"], len(j.payload["ids"])) for j in queued] == [("interaction", 2)]


def test_analysing_holds_no_write_lock_so_answers_are_stored_meanwhile(db: Engine, monkeypatch: object) -> None:
    factory = make_sessionmaker(db)
    with factory.begin() as session:
        responses = store_comments(session)
    written_meanwhile: list[int] = []
    real_analyze = OfflineEngine.analyze

    def analyze_while_someone_writes(self: OfflineEngine, texts: Sequence[str], **options: object) -> object:
        # Another writer (a survey page, an import) stores something while the models run.
        quick = make_sessionmaker(db.execution_options())
        with quick.begin() as other:
            if db.dialect.name == "sqlite":
                other.connection().exec_driver_sql("PRAGMA busy_timeout=200")
            row = "INSERT INTO customers (attributes, created_at, updated_at) VALUES ('{}', :t, :t)"
            written_meanwhile.append(other.execute(text(row), {"t": START}).rowcount)
        return real_analyze(self, texts, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(OfflineEngine, "analyze", analyze_while_someone_writes)  # type: ignore[attr-defined]
    assert jobs.run_due(factory) >= 1
    assert written_meanwhile
    with factory.begin() as session:
        assert kinds(session, "response", responses[0]) == {"language": "en", "sentiment": "positive"}
