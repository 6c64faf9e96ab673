"""Every analytics engine over the same dataset: DuckDB store, SQLite and PostgreSQL live, Spark on the lake (in this
process; and a Spark Connect server of its own, as a cluster is reached)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyspark
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


@pytest.fixture(scope="session")
def spark_connect(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Spark Connect server in a JVM of its own, its clock in New York (cxm must cut periods in UTC itself): the
    address a client gives."""
    port, log = _free_port(), tmp_path_factory.mktemp("spark-connect") / "server.log"
    zone = "America/New_York"
    command = [
        str(Path(pyspark.__file__).parent / "bin" / "spark-submit"),
        *("--class", "org.apache.spark.sql.connect.service.SparkConnectServer", "--master", "local[1]"),
        *("--driver-memory", "512m", "--conf", f"spark.connect.grpc.binding.port={port}"),
        *("--conf", "spark.ui.enabled=false", "--conf", f"spark.driver.extraJavaOptions=-Duser.timezone={zone}"),
        "spark-internal",
    ]
    with log.open("w") as sink:
        server = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env={**os.environ, "TZ": zone},
                                  start_new_session=True)  # fmt: skip
    try:
        _wait_for_server(port, server, log)
        yield f"sc://127.0.0.1:{port}"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(60)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_server(port: int, server: subprocess.Popen[bytes], log: Path, patience: float = 180.0) -> None:
    """Wait until the server takes connections (it failed: its log in the error)."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline and server.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"the Spark Connect server did not start:\n{log.read_text()[-3000:]}")


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
