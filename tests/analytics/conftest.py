"""Every analytics engine over the same dataset: DuckDB store, SQLite and PostgreSQL live, Spark on the lake."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine as SqlEngine

from cxm.analytics.engines import Engine, open_engine, spark_session
from cxm.analytics.sync import sync
from cxm.core.db import make_sessionmaker
from tests.analytics import dataset
from tests.conftest import _empty


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local Spark session for the whole run (small, no UI)."""
    session = spark_session("spark://local[1]")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def loaded(engine: SqlEngine) -> Iterator[dataset.Dataset]:
    """The dataset in the operational database for this module's tests, removed afterwards."""
    _empty(engine)
    with make_sessionmaker(engine)() as session, session.begin():
        data = dataset.load(session)
    yield data
    _empty(engine)


@pytest.fixture(scope="module")
def engines(
    loaded: dataset.Dataset, engine: SqlEngine, tmp_path_factory: pytest.TempPathFactory, spark: Any
) -> dict[str, Engine]:
    """Each engine that can read this operational database, its store or lake synced."""
    folder: Path = tmp_path_factory.mktemp("analytics")
    store, lake = folder / "store.duckdb", folder / "lake"
    sync(engine, str(store), lake=lake)
    url = engine.url.render_as_string(hide_password=False)
    found = {"duckdb": open_engine(f"duckdb:///{store}")}
    if engine.dialect.name == "sqlite":
        found["sqlite"] = open_engine(url)
        lake_engine = open_engine(f"spark://local[1]?lake={lake}")
        lake_engine._spark = None
        found["spark"] = lake_engine
    else:
        found["postgres"] = open_engine(url.replace("postgresql+psycopg://", "postgresql://"))
    return found


def analytics_environment(db: SqlEngine, folder: Path, monkeypatch: pytest.MonkeyPatch, load: Any) -> dict[str, str]:
    """`load` the operational database; the environment of a user on it (a fresh DuckDB store for SQLite)."""
    with make_sessionmaker(db)() as session, session.begin():
        load(session)
    url = db.url.render_as_string(hide_password=False).replace("postgresql+psycopg://", "postgresql://")
    env = {"CXM_DATABASE_URL": url}
    if db.dialect.name == "sqlite":
        env["CXM_ANALYTICS_URL"] = f"duckdb:///{folder / 'store.duckdb'}"
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env
