"""Reading operational rows into the DuckDB store as typed staging tables, through ADBC (Arrow, no Python rows)."""

from __future__ import annotations

import multiprocessing
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import closing, contextmanager
from typing import Any

import duckdb
import ibis
import pyarrow as pa
from ibis.expr.types import Table

# The columns of each operational table that facts use, with their analytic types.
SOURCES: dict[str, dict[str, str]] = {
    "answers": {"response_id": "int64", "question_id": "int64", "score": "int64"},
    "questions": {"id": "int64", "survey_id": "int64", "key": "string", "kind": "string"},
    "surveys": {"id": "int64", "key": "string"},
    "responses": {
        "id": "int64",
        "survey_id": "int64",
        "customer_id": "int64",
        "interaction_id": "int64",
        "language": "string",
        "channel": "string",
        "status": "string",
        "completed_at": "timestamp",
        "updated_at": "timestamp",
    },
    "interactions": {
        "id": "int64",
        "customer_id": "int64",
        "channel": "string",
        "journey_stage": "string",
        "direction": "string",
        "type": "string",
        "agent": "string",
        "occurred_at": "timestamp",
        "responded_at": "timestamp",
    },
    "customers": {
        "id": "int64",
        "segment": "string",
        "country": "string",
        "language": "string",
        "erased_at": "timestamp",
        "updated_at": "timestamp",
    },
    "invitations": {
        "id": "int64",
        "survey_id": "int64",
        "customer_id": "int64",
        "channel": "string",
        "sent_at": "timestamp",
        "answered_at": "timestamp",
    },
}
DUCK_TYPES = {"int64": "BIGINT", "string": "VARCHAR", "timestamp": "TIMESTAMP"}


@contextmanager
def reader(url: str) -> Iterator[Any]:
    """An ADBC connection to the operational database (SQLite file or PostgreSQL)."""
    if url.startswith("sqlite:///"):
        import adbc_driver_sqlite.dbapi as sqlite_driver

        connection = sqlite_driver.connect(url.removeprefix("sqlite:///"))
        with connection.cursor() as cursor:
            # Readers opening a WAL database together may briefly find it locked: wait instead of failing.
            cursor.execute("PRAGMA busy_timeout = 30000")
    else:
        import adbc_driver_postgresql.dbapi as postgres_driver

        connection = postgres_driver.connect(url.replace("postgresql+psycopg://", "postgresql://"))
    try:
        yield connection
    finally:
        connection.close()


def read(source: Any, name: str, where: str | None = None) -> pa.Table:
    """The staged columns of one operational table (rows matching `where`, SQL of the source's dialect)."""
    query = f"SELECT {', '.join(SOURCES[name])} FROM {name}" + (f" WHERE {where}" if where else "")
    with source.cursor() as cursor:
        cursor.execute(query)
        rows: pa.Table = cursor.fetch_arrow_table()
    return rows


def stage(con: duckdb.DuckDBPyConnection, name: str, rows: pa.Table) -> None:
    """Make `stage_<name>` a typed view over these Arrow rows (no copy; valid while the rows are registered)."""
    # SQLite hands timestamps over as text and all-NULL columns as integers: every column is cast.
    casts = ", ".join(f"CAST({column} AS {DUCK_TYPES[kind]}) AS {column}" for column, kind in SOURCES[name].items())
    con.register(f"arrow_{name}", rows)
    con.execute(f"CREATE OR REPLACE TEMP VIEW stage_{name} AS SELECT {casts} FROM arrow_{name}").fetchall()


def read_one(url: str, name: str, where: str | None) -> pa.Table:
    """One table's staged columns, over a connection of its own."""
    with reader(url) as source:
        return read(source, name, where)


def read_few(url: str, name: str, where: str | None) -> pa.Table:
    """A (small) selection of SQLite rows through the standard library's driver, in this process."""
    query = f"SELECT {', '.join(SOURCES[name])} FROM {name}" + (f" WHERE {where}" if where else "")
    with closing(sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30)) as connection:
        rows = connection.execute(query).fetchall()
    values: list[tuple[Any, ...]] = list(zip(*rows, strict=True)) if rows else [() for _ in SOURCES[name]]
    return pa.table({column: pa.array(list(v)) for column, v in zip(SOURCES[name], values, strict=True)})


def read_many(url: str, wanted: dict[str, str | None]) -> dict[str, pa.Table]:
    """Several tables read at once, one ADBC connection each (the drivers release the GIL while reading).

    Whole SQLite tables are read by ADBC in separate processes: the driver carries its own copy of SQLite, and
    two copies in one process break each other's file locks (closing one drops the other's POSIX locks). The
    small selections of an incremental sync are read in this process with the standard driver instead.
    """
    if url.startswith("sqlite:///"):
        found = {name: read_few(url, name, where) for name, where in wanted.items() if where is not None}
        whole = [name for name, where in wanted.items() if where is None]
        if whole:
            with ProcessPoolExecutor(min(len(whole), 2), mp_context=multiprocessing.get_context("spawn")) as pool:
                found.update(
                    zip(whole, pool.map(read_one, [url] * len(whole), whole, [None] * len(whole)), strict=True)
                )
        return found
    names = list(wanted)
    with ThreadPoolExecutor(min(len(names), 4)) as threads:
        tables = threads.map(read_one, [url] * len(names), names, [wanted[n] for n in names])
        return dict(zip(names, tables, strict=True))


def staged(name: str) -> Table:
    """An Ibis table over a staging table, for fact expressions compiled to DuckDB SQL."""
    return ibis.table(ibis.schema(SOURCES[name]), name=f"stage_{name}")


def fact_sql(expression: Table) -> str:
    """A fact expression over staging tables as DuckDB SQL."""
    return str(ibis.to_sql(expression, dialect="duckdb"))


def moment(value: Any, dialect: str) -> str:
    """A watermark time as an SQL literal of the operational dialect (SQLite keeps UTC text)."""
    text = value.isoformat(" ", "microseconds")[:26]
    return f"'{text}'" if dialect == "sqlite" else f"'{text}+00:00'"
