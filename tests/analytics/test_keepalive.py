"""A server keeps the DuckDB store open between queries for a moment, and lets it go when idle or for a sync."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from sqlalchemy import Engine as SqlEngine

from cxm.analytics import engines, keepalive, service
from cxm.analytics.dimensions import Query
from cxm.analytics.sync import sync
from cxm.cli import serving
from cxm.config import Settings
from cxm.core.db import make_sessionmaker
from cxm.customers import service as customers_service
from cxm.feedback import service as feedback_service


def _answer(db: SqlEngine, email: str, score: int) -> None:
    with make_sessionmaker(db)() as session, session.begin():
        feedback_service.install_templates(session)  # those missing
        survey = feedback_service.get_survey(session, "relationship-nps")
        claim = customers_service.Claim(keys=(("email", email),))
        [customer] = customers_service.resolve(session, [claim], actor="t")
        who = feedback_service.Respondent(customer_id=customer, channel="email", language="en")
        when = datetime(2026, 3, 3, tzinfo=UTC)
        feedback_service.record_response(session, survey, {"nps": score}, who, started_at=when, completed_at=when)


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The store URLs opened from now on, one entry per opening."""
    found: list[str] = []
    real = engines._open_store

    def counting(url: str, *, read_only: bool = False) -> Any:
        found.append(url)
        return real(url, read_only=read_only)

    monkeypatch.setattr(engines, "_open_store", counting)
    return found


def _answers(engine: engines.Engine) -> int:
    return int(service.metric(engine, "nps", Query())["n"].sum())


def _open_elsewhere(store: Path) -> bool:
    """Whether the store can be opened with another configuration (DuckDB refuses while this process has it open)."""
    try:
        duckdb.connect(str(store), read_only=True).close()
    except duckdb.Error:
        return False
    return True


def test_a_second_query_reuses_the_open_store(db: SqlEngine, tmp_path: Path, opened: list[str]) -> None:
    store = tmp_path / "store.duckdb"
    _answer(db, "ann@example.com", 10)
    sync(db, str(store))
    engine = engines.open_engine(f"duckdb:///{store}", keep_open=60)
    assert _answers(engine) == 1 and _answers(engine) == 1
    assert len(opened) == 1 and keepalive.is_open(str(store))
    keepalive.release(str(store))


def test_without_keep_open_every_query_opens_the_store(db: SqlEngine, tmp_path: Path, opened: list[str]) -> None:
    store = tmp_path / "store.duckdb"
    _answer(db, "ann@example.com", 10)
    sync(db, str(store))
    engine = engines.open_engine(f"duckdb:///{store}")
    assert _answers(engine) == 1 and _answers(engine) == 1
    assert len(opened) == 2 and not keepalive.is_open(str(store)) and _open_elsewhere(store)


def test_the_store_is_let_go_once_idle_for_the_delay(db: SqlEngine, tmp_path: Path) -> None:
    store = tmp_path / "store.duckdb"
    _answer(db, "ann@example.com", 10)
    sync(db, str(store))
    engine = engines.open_engine(f"duckdb:///{store}", keep_open=0.2)
    assert _answers(engine) == 1 and not _open_elsewhere(store)
    deadline = time.monotonic() + 30
    while keepalive.is_open(str(store)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not keepalive.is_open(str(store)) and _open_elsewhere(store)


def test_a_sync_in_between_is_seen_by_the_next_query(db: SqlEngine, tmp_path: Path, opened: list[str]) -> None:
    store = tmp_path / "store.duckdb"
    _answer(db, "ann@example.com", 10)
    sync(db, str(store))
    engine = engines.open_engine(f"duckdb:///{store}", keep_open=60)
    assert _answers(engine) == 1
    _answer(db, "bob@example.com", 3)
    sync(db, str(store))
    assert _answers(engine) == 2 and len(opened) == 2
    keepalive.release(str(store))


def test_settings_name_the_delay_and_several_server_processes_keep_nothing_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'cxm.db'}", analytics_keep_open=0.5)
    assert service.engine_for(settings).keep_open == 0.5
    started: dict[str, Any] = {}
    monkeypatch.setattr(serving, "open_hub", lambda: type("Hub", (), {"close": lambda self: None})())
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: started.update(kwargs))
    for name in ("CXM_ANALYTICS_KEEP_OPEN", "CXM_DATABASE_URL"):  # serve sets them: as they were afterwards
        # Set first, so that monkeypatch records the variable even where it was not set and removes what serve sets
        # (a bare delenv of a missing variable records nothing: later tests in the process kept nothing open).
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    serving.serve(workers=2)
    assert started["workers"] == 2 and Settings().analytics_keep_open == 0
