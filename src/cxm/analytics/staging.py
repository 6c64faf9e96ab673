"""Typed staging views in the DuckDB store over Arrow rows read from the operational database."""

from __future__ import annotations

from functools import cache
from typing import Any

import duckdb
import ibis
import pyarrow as pa
from ibis.expr.types import Table

from cxm.analytics import facts
from cxm.analytics.extract import SOURCES, WHOLE_ROWS

DUCK_TYPES = {"int64": "BIGINT", "string": "VARCHAR", "timestamp": "TIMESTAMP", "float64": "DOUBLE", "json": "JSON"}


def stage(con: duckdb.DuckDBPyConnection, name: str, pieces: list[pa.Table]) -> None:
    """Make `stage_<name>` a typed view over these Arrow pieces (no copy; valid while the pieces are registered)."""
    _release(con, name)
    selects = []
    for index, rows in enumerate(_scans(pieces)):
        con.register(f"arrow_{name}_{index}", rows)
        selects.append(f"SELECT {_casts(name, rows.schema.names)} FROM arrow_{name}_{index}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW stage_{name} AS {' UNION ALL '.join(selects)}").fetchall()


def _scans(pieces: list[pa.Table]) -> list[pa.Table]:
    """The pieces joined into one Arrow table per set of column types (their chunks kept: nothing is copied)."""
    # One scan, not a UNION ALL of every piece: each branch of a union left DuckDB's writer part-filled row groups
    # (per branch and thread) that the checkpoint then merged: 10M answers, 1.7 CPU-s of a 14-16 s first sync.
    alike: dict[pa.Schema, list[pa.Table]] = {}
    for rows in pieces:
        alike.setdefault(rows.schema, []).append(rows)
    return [group[0] if len(group) == 1 else pa.concat_tables(group) for group in alike.values()]


def _casts(name: str, read: list[str]) -> str:
    """Every staged column typed; one a whole read left out is its one value."""
    # SQLite hands timestamps over as text and all-NULL columns as integers (so pieces may differ in type):
    # every column of every piece is cast.
    typed = SOURCES[name].items()
    values = {column: column if column in read else f"'{WHOLE_ROWS[name][1]}'" for column, _ in typed}
    return ", ".join(f"CAST({values[column]} AS {DUCK_TYPES[kind]}) AS {column}" for column, kind in typed)


def unstage(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop a staging view and the Arrow pieces under it (their memory goes with them)."""
    con.execute(f"DROP VIEW IF EXISTS stage_{name}").fetchall()
    _release(con, name)


def _release(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Forget the Arrow pieces an earlier staging of this table registered (their memory goes with them)."""
    found = "SELECT view_name FROM duckdb_views() WHERE starts_with(view_name, ?)"
    for (view,) in con.execute(found, [f"arrow_{name}_"]).fetchall():
        con.unregister(view)


def staged(name: str) -> Table:
    """An Ibis table over a staging table, for fact expressions compiled to DuckDB SQL."""
    return ibis.table(ibis.schema(SOURCES[name]), name=f"stage_{name}")


@cache
def fact_sql(name: str) -> str:
    """A fact's expression over the staging tables as DuckDB SQL (compiled once per process: ~0.1 s each)."""
    return str(ibis.to_sql(facts.FACTS[name](staged), dialect="duckdb"))


@cache
def fact_columns(name: str) -> frozenset[str]:
    """The columns a fact's definition has now (a store written by an older cxm may lack some)."""
    return frozenset(facts.FACTS[name](staged).columns)


def compile_facts() -> None:
    """Compile every fact's SQL ahead of need (a new process imports Ibis's compilers first: ~1 s)."""
    for name in facts.FACTS:
        fact_sql(name)


def moment(value: Any, dialect: str) -> str:
    """A watermark time as an SQL literal of the operational dialect (SQLite keeps UTC text)."""
    text = value.isoformat(" ", "microseconds")[:26]
    return f"'{text}'" if dialect == "sqlite" else f"'{text}+00:00'"
