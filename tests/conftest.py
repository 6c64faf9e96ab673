"""Fixtures: every test runs on a real SQLite file and on a real PostgreSQL database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

import cxm.tables  # noqa: F401
from cxm.access import service as access_service
from cxm.analytics import freshness, keepalive
from cxm.analytics.engines import default_analytics_url
from cxm.app import create_app
from cxm.config import Settings
from cxm.core.db import Base, make_engine, make_sessionmaker
from cxm.core.migrate import upgrade
from cxm.web import cache

POSTGRES_ADMIN = os.environ.get("CXM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _postgres_database() -> Iterator[str]:
    name = f"cxm_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(autouse=True)
def settings_left_as_found() -> Iterator[None]:
    """Fail a test that leaves a `CXM_*` variable changed: every later test in its process would run with it."""
    before = _cxm_environment()
    yield
    assert _cxm_environment() == before, "a test left CXM_* environment variables changed"


def _cxm_environment() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name.startswith("CXM_")}


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, migrated database of each kind for the whole run."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "cxm.db"
        yield f"sqlite:///{path}"
    else:
        yield from _postgres_database()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the migrated test database."""
    bound = make_engine(database_url)
    upgrade(bound)
    yield bound
    bound.dispose()


def _empty(bound: Engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with bound.begin() as connection:
        if bound.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                connection.execute(text(f"DELETE FROM {name}"))


def _forget_store(bound: Engine) -> None:
    """The analytics store beside an emptied SQLite database goes too (an incremental sync would keep the rows of
    earlier tests that no longer exist: ids start again), with what this process remembers of it."""
    url = default_analytics_url(bound.url.render_as_string(hide_password=False))
    if url.startswith("duckdb:///"):
        store = Path(url.removeprefix("duckdb:///"))
        keepalive.release(str(store))  # no connection kept open on the file about to go
        for path in (store, Path(f"{store}.wal")):
            path.unlink(missing_ok=True)
    freshness._fingerprints.clear()
    cache._remembered.clear()


@pytest.fixture
def db(engine: Engine) -> Iterator[Engine]:
    """The test database, emptied after the test (and its analytics store dropped)."""
    yield engine
    _empty(engine)
    _forget_store(engine)


@pytest.fixture
def session(db: Engine) -> Iterator[Session]:
    """A session in one transaction, like a request's; committed so follow-up reads see it."""
    factory = make_sessionmaker(db)
    with factory() as active:
        active.begin()
        yield active
        if active.in_transaction():
            active.rollback()


@pytest.fixture
def client(db: Engine, database_url: str) -> Iterator[TestClient]:
    """An HTTP client on the app, bound to the test database."""
    # No in-process worker: tests run jobs themselves, when they choose to.
    app = create_app(Settings(database_url=database_url, serve_worker=False), engine=db)
    with TestClient(app) as test_client:
        yield test_client


def make_key(db: Engine, role: str) -> str:
    """Create an API key of `role` and return its secret."""
    with make_sessionmaker(db)() as active, active.begin():
        return access_service.create_api_key(active, name=f"test-{role}", role=role).secret


@pytest.fixture
def admin_headers(db: Engine) -> dict[str, str]:
    """Authorization headers of an admin key."""
    return {"Authorization": f"Bearer {make_key(db, 'admin')}"}
