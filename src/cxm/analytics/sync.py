"""Keeping the DuckDB analytics store (and the Parquet lake for Spark) up to date, incrementally.

Facts are extracted from the operational database with the expressions in `facts.py` (so every engine
counts the same rows) as Arrow, then written to DuckDB: changed responses and customers by `updated_at`
watermark, interactions by id, erased people (tombstones) and merges by id, invitations refreshed whole.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from sqlalchemy import Engine as SqlEngine
from sqlalchemy import column, func, select, table, text

from cxm.analytics import facts
from cxm.analytics.engines import _live_backend
from cxm.core.db import UTCDateTime

CHUNK = 20_000
Progress = Callable[[str], None]


@dataclass
class SyncReport:
    """What one sync moved into the store."""

    rows: dict[str, int] = field(default_factory=dict)
    erased_customers: int = 0
    seconds: float = 0.0

    def describe(self) -> str:
        """One line for people."""
        moved = ", ".join(f"{count:,} {name}" for name, count in self.rows.items())
        erased = f"; {self.erased_customers} erased customer(s) removed" if self.erased_customers else ""
        return f"analytics store synced: {moved or 'nothing new'}{erased} ({self.seconds:.1f} s)"


@contextmanager
def store(path: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection to the DuckDB store, with its bookkeeping table."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(path)
    try:
        _run(con, "CREATE TABLE IF NOT EXISTS sync_state (name VARCHAR PRIMARY KEY, value VARCHAR)")
        yield con
    finally:
        con.close()


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[Any]:
    """Run one statement to completion (DuckDB refuses new work while a result is unread)."""
    return con.execute(sql, params or []).fetchall()


def _mark(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    rows = _run(con, "SELECT value FROM sync_state WHERE name = ?", [name])
    return str(rows[0][0]) if rows else None


def _set_mark(con: duckdb.DuckDBPyConnection, name: str, value: object) -> None:
    _run(con, "INSERT OR REPLACE INTO sync_state VALUES (?, ?)", [name, str(value)])


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(_run(con, "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name])[0][0])


def _extract(ibis_con: Any, fact: str, column: str | None = None, ids: Sequence[int] | None = None) -> pa.Table:
    """A fact's rows (all, or those whose `column` is one of `ids`) as Arrow."""
    expression = facts.FACTS[fact](ibis_con.table)
    if column is not None and ids is not None:
        expression = expression.filter(expression[column].isin(list(ids)))
    return expression.to_pyarrow()


def _extract_after(ibis_con: Any, fact: str, column: str, after: int) -> pa.Table:
    expression = facts.FACTS[fact](ibis_con.table)
    return expression.filter(expression[column] > after).to_pyarrow()


def _replace_rows(con: duckdb.DuckDBPyConnection, name: str, column: str, ids: Sequence[int], rows: pa.Table) -> None:
    """Delete the rows with these ids and insert their new versions (or create the table)."""
    if not _has_table(con, name):
        con.register("incoming", rows)
        _run(con, f"CREATE TABLE {name} AS SELECT * FROM incoming")
        con.unregister("incoming")
        return
    _run(con, f"DELETE FROM {name} WHERE {column} IN (SELECT unnest(?))", [list(ids)])
    if rows.num_rows:
        con.register("incoming", rows)
        _run(con, f"INSERT INTO {name} BY NAME SELECT * FROM incoming")
        con.unregister("incoming")


def _ids(operational: SqlEngine, sql: str, **params: Any) -> list[int]:
    with operational.connect() as connection:
        return [int(row[0]) for row in connection.execute(text(sql), params)]


def _scalar(operational: SqlEngine, sql: str) -> Any:
    with operational.connect() as connection:
        return connection.execute(text(sql)).scalar()


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _newest(operational: SqlEngine, name: str) -> datetime | None:
    stamp = column("updated_at", UTCDateTime)
    with operational.connect() as connection:
        value: datetime | None = connection.execute(select(func.max(stamp)).select_from(table(name))).scalar()
    return value


def _changed(operational: SqlEngine, name: str, since: str) -> list[int]:
    """Ids of rows updated at or after a watermark (ties are re-read: replacing rows is idempotent)."""
    stamp = column("updated_at", UTCDateTime)
    query: Any = select(column("id")).select_from(table(name)).where(stamp >= datetime.fromisoformat(since))
    with operational.connect() as connection:
        return [int(row[0]) for row in connection.execute(query)]


def _sync_by_update(
    con: duckdb.DuckDBPyConnection, ibis_con: Any, operational: SqlEngine, fact: str, source: str, key: str
) -> int:
    """Bring a fact up to date from the rows of `source` changed since the last sync."""
    mark, newest = _mark(con, f"{fact}.updated_at"), _newest(operational, source)
    if mark is None or not _has_table(con, fact):
        _run(con, f"DROP TABLE IF EXISTS {fact}")
        rows = _extract(ibis_con, fact)
        _replace_rows(con, fact, key, [], rows)
        moved = int(rows.num_rows)
    else:
        moved = 0
        for chunk in _chunks(_changed(operational, source, mark)):
            rows = _extract(ibis_con, fact, key, chunk)
            _replace_rows(con, fact, key, chunk, rows)
            moved += int(rows.num_rows)
    if newest is not None:
        _set_mark(con, f"{fact}.updated_at", newest.isoformat())
    return moved


def _sync_appended(con: duckdb.DuckDBPyConnection, ibis_con: Any, operational: SqlEngine) -> int:
    """Response times of interactions stored since the last sync (interactions never change)."""
    mark = int(_mark(con, "response_times.id") or 0) if _has_table(con, "response_times") else 0
    newest = int(_scalar(operational, "SELECT coalesce(max(id), 0) FROM interactions"))
    rows = _extract_after(ibis_con, "response_times", "interaction_id", mark)
    _replace_rows(con, "response_times", "interaction_id", [], rows) if mark == 0 else _append(con, rows)
    _set_mark(con, "response_times.id", newest)
    return int(rows.num_rows)


def _append(con: duckdb.DuckDBPyConnection, rows: pa.Table) -> None:
    if rows.num_rows:
        con.register("incoming", rows)
        _run(con, "INSERT INTO response_times BY NAME SELECT * FROM incoming")
        con.unregister("incoming")


def _sync_invitations(con: duckdb.DuckDBPyConnection, ibis_con: Any) -> int:
    """Invitations change as they are answered: refreshed whole."""
    _run(con, "DROP TABLE IF EXISTS invitations")
    rows = _extract(ibis_con, "invitations")
    _replace_rows(con, "invitations", "invitation_id", [], rows)
    return int(rows.num_rows)


FACT_TABLES = ("scores", "response_times", "invitations", "customers")


def _apply_merges(con: duckdb.DuckDBPyConnection, ibis_con: Any, operational: SqlEngine) -> None:
    """Rows that merges moved to another customer are re-read for both customers."""
    mark = int(_mark(con, "merges.id") or 0)
    rows = _pairs(operational, "SELECT id, survivor_id, merged_id FROM merges WHERE id > :mark", mark)
    people = sorted({person for _, survivor, merged in rows for person in (survivor, merged)})
    for fact in ("scores", "response_times"):
        if people and _has_table(con, fact):
            _run(con, f"DELETE FROM {fact} WHERE customer_id IN (SELECT unnest(?))", [people])
            _insert(con, fact, _extract(ibis_con, fact, "customer_id", people))
    if rows:
        _set_mark(con, "merges.id", max(row[0] for row in rows))


def _pairs(operational: SqlEngine, sql: str, mark: int) -> list[tuple[int, int, int]]:
    with operational.connect() as connection:
        return [(int(a), int(b), int(c)) for a, b, c in connection.execute(text(sql), {"mark": mark})]


def _insert(con: duckdb.DuckDBPyConnection, name: str, rows: pa.Table) -> None:
    if rows.num_rows:
        con.register("incoming", rows)
        _run(con, f"INSERT INTO {name} BY NAME SELECT * FROM incoming")
        con.unregister("incoming")


def _apply_tombstones(con: duckdb.DuckDBPyConnection, operational: SqlEngine) -> int:
    """Remove erased people from every fact."""
    mark = int(_mark(con, "tombstones.id") or 0)
    rows = _pairs(operational, "SELECT id, customer_id, customer_id FROM tombstones WHERE id > :mark", mark)
    erased = sorted({customer for _, customer, _ in rows})
    for name in FACT_TABLES:
        if erased and _has_table(con, name):
            _run(con, f"DELETE FROM {name} WHERE customer_id IN (SELECT unnest(?))", [erased])
    if rows:
        _set_mark(con, "tombstones.id", max(row[0] for row in rows))
    return len(erased)


def sync(
    operational: SqlEngine, store_path: str, *, lake: Path | None = None, progress: Progress | None = None
) -> SyncReport:
    """Bring the DuckDB store (and the lake) up to date with the operational database."""
    started, report, say = time.perf_counter(), SyncReport(), progress or (lambda _: None)
    ibis_con = _live_backend(operational.url.render_as_string(hide_password=False))
    try:
        with store(store_path) as con:
            say("responses")
            report.rows["score answers"] = _sync_by_update(
                con, ibis_con, operational, "scores", "responses", "response_id"
            )
            say("customers")
            report.rows["customers"] = _sync_by_update(
                con, ibis_con, operational, "customers", "customers", "customer_id"
            )
            say("interactions")
            report.rows["response times"] = _sync_appended(con, ibis_con, operational)
            report.rows["invitations"] = _sync_invitations(con, ibis_con)
            _apply_merges(con, ibis_con, operational)
            report.erased_customers = _apply_tombstones(con, operational)
            if lake is not None:
                say("lake")
                write_lake(con, lake)
    finally:
        ibis_con.disconnect()
    report.seconds = time.perf_counter() - started
    return report


LAKE_TIME = {"scores": "completed_at", "response_times": "occurred_at", "invitations": "sent_at"}


def write_lake(con: duckdb.DuckDBPyConnection, lake: Path) -> None:
    """Write every fact as Parquet, partitioned by month, replacing the previous files atomically."""
    for name in FACT_TABLES:
        if not _has_table(con, name):
            continue
        target, staging = lake / name, lake / f".{name}.writing"
        shutil.rmtree(staging, ignore_errors=True)
        lake.mkdir(parents=True, exist_ok=True)
        empty = not _run(con, f"SELECT count(*) FROM {name}")[0][0]
        if name in LAKE_TIME and not empty:
            month = f"strftime({LAKE_TIME[name]}, '%Y-%m') AS month"
            _run(con, f"COPY (SELECT *, {month} FROM {name}) TO '{staging}' (FORMAT parquet, PARTITION_BY (month))")
        else:
            staging.mkdir(parents=True)
            _run(con, f"COPY {name} TO '{staging / 'part-0.parquet'}' (FORMAT parquet)")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
