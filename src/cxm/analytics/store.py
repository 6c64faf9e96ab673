"""The DuckDB analytics store as the sync writes it: its connection, bookkeeping marks, fact writes and checkpoint."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import Engine as SqlEngine

from cxm.analytics.extract import Ranges, read_many, read_ranges
from cxm.analytics.lake import WHOLE, month_of
from cxm.analytics.staging import fact_columns, fact_sql, stage, unstage

# Rows gained at once that the lake appends from a copy; more (a big import) rewrite their months from the fact
# instead, so the copy never holds much.
APPENDED_ROWS = 1_000_000
# The staged table a fact's rows come from, and the tables it left-joins to them.
JOINED = {
    "scores": ("answers", ("interactions", "customers")),
    "response_times": ("interactions", ("customers",)),
    "touchpoints": ("interactions", ("customers",)),
    "contacts": ("interactions", ("customers",)),
    "orders": ("orders", ("customers",)),
    "invitations": ("invitations", ("customers",)),
    "text_signals": ("text_signals", ("customers", "text_themes")),
}

# Facts whose rows a newer cxm defines differently under the same columns, by version: a store written before is
# rebuilt once. Scores 2: a completed response with no scored answer has a row of its own.
FORMATS = {"scores": "2"}


@dataclass
class Run:
    """One sync: the store, the operational database (ADBC) and its dialect."""

    con: duckdb.DuckDBPyConnection
    operational: SqlEngine
    url: str
    keeps_lake: bool = False
    staged_whole: bool = False
    staged_rows: dict[str, int] = field(default_factory=dict)
    # For the lake: temporary tables of the rows each fact gained this run with nothing of it replaced, which it may
    # append as new files; the facts whose rows were otherwise changed (their months are rewritten); the facts whose
    # lake an earlier run left behind (rewritten too: what that run changed is not known here).
    added: dict[str, list[str]] = field(default_factory=dict)
    reworked: set[str] = field(default_factory=set)
    behind: set[str] = field(init=False)

    def __post_init__(self) -> None:
        self.behind = {row[0] for row in self.sql("SELECT DISTINCT fact FROM lake_months")}

    def sql(self, statement: str, params: list[Any] | None = None) -> list[Any]:
        """Run a statement on the store to completion (DuckDB refuses new work while a result is unread)."""
        return self.con.execute(statement, params or []).fetchall()

    def mark(self, name: str) -> str | None:
        rows = self.sql("SELECT value FROM sync_state WHERE name = ?", [name])
        return str(rows[0][0]) if rows else None

    def set_mark(self, name: str, value: object) -> None:
        self.sql("INSERT OR REPLACE INTO sync_state VALUES (?, ?)", [name, str(value)])

    @contextmanager
    def atomically(self) -> Iterator[None]:
        """Statements that commit together or not at all (a fact's rows with their change count)."""
        self.sql("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.sql("ROLLBACK")
            raise
        self.sql("COMMIT")

    def touch(self, fact: str, months: Iterable[str | None] | None = None) -> None:
        """Note that a fact's rows changed in these months (None: in any), for the lake to rewrite them."""
        found = {WHOLE} if months is None else {month or WHOLE for month in months}
        self.sql("INSERT OR IGNORE INTO lake_months SELECT ?, unnest(?)", [fact, sorted(found)])

    def changed_months(self, fact: str) -> set[str]:
        """The months of a fact whose rows changed since the lake last got it (WHOLE: it must be rewritten whole)."""
        return {row[0] for row in self.sql("SELECT month FROM lake_months WHERE fact = ?", [fact])}

    def lake_written(self, fact: str, place: str) -> None:
        """Record that the lake at `place` now holds the fact as the store does."""
        with self.atomically():
            self.sql("DELETE FROM lake_months WHERE fact = ?", [fact])
            self.set_mark(f"lake.{fact}", place)

    @contextmanager
    def replacing(self, fact: str, where: str) -> Iterator[None]:
        """The fact's rows selected by `where` are replaced in the block: the months they were and are in are noted
        if they changed."""
        # Replacing rows with the same rows (a small fact refreshed whole, a profile saved again unchanged) is no
        # change, told by a fingerprint that spares the lake a rewrite. Without a lake any replacement counts, in any
        # month (no scans), so a lake kept again later is rewritten rather than missed.
        before = self._fingerprint(fact, where) if self.keeps_lake else None
        yield
        after = self._fingerprint(fact, where) if before is not None else None
        if before is None or after is None:
            self.touch(fact)
        elif after[:2] != before[:2]:
            if before[0] or after[0] > APPENDED_ROWS:
                self.reworked.add(fact)
            else:
                self._note_added(fact, where)
            self.touch(fact, [*(before[2] or []), *(after[2] or [])])  # no rows: no list

    def _note_added(self, fact: str, where: str) -> None:
        """Keep a copy of the rows a fact just gained (none replaced), for the lake to append."""
        # A copy, not the condition: it names staging tables that are gone when the lake is written.
        tables = self.added.setdefault(fact, [])
        tables.append(f"lake_added_{fact}_{len(tables)}")
        self.sql(f"CREATE OR REPLACE TEMP TABLE {tables[-1]} AS SELECT * FROM {fact} WHERE {where}")

    def appendable(self, fact: str) -> list[str]:
        """The tables of rows the lake may append for a fact ([]: its changed months must be rewritten)."""
        if fact in self.reworked or fact in self.behind:
            return []
        return self.added.get(fact, [])

    def _fingerprint(self, fact: str, where: str) -> tuple[Any, ...]:
        """How many of a fact's rows a condition selects, a hash of their contents in any order, and their months."""
        found = f"SELECT count(*), sum(hash(f)), list(DISTINCT {month_of(fact)}) FROM {fact} AS f WHERE {where}"
        return tuple(self.sql(found)[0])

    def has(self, name: str) -> bool:
        return bool(self.sql("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name])[0][0])

    def current(self, name: str) -> bool:
        """Whether the store holds this fact with every column its definition has now (a store written by an
        older cxm is then rebuilt once, fact by fact)."""
        found = "SELECT column_name FROM information_schema.columns WHERE table_name = ?"
        formatted = name not in FORMATS or self.mark(f"format.{name}") == FORMATS[name]
        return formatted and fact_columns(name) <= {row[0] for row in self.sql(found, [name])}

    def written_whole(self, name: str) -> None:
        """Note that a fact was just computed whole by this cxm's definition (its format is current)."""
        if name in FORMATS:
            self.set_mark(f"format.{name}", FORMATS[name])

    @property
    def dialect(self) -> str:
        return self.operational.dialect.name

    def stage(self, name: str, where: str | None = None) -> None:
        """Read one operational table's matching rows into its staging table."""
        self.stage_many({name: where})

    def unstage(self, names: Iterable[str]) -> None:
        """Let go of staged tables no later step reads (a first sync's 10M answers and responses: ~1.6 GB)."""
        for name in names:
            unstage(self.con, name)
            self.staged_rows.pop(name, None)

    def stage_ranges(self, ranges: Ranges) -> None:
        """Read the rows of operational SQLite tables whose column lies in a range into their staging tables."""
        for name, rows in read_ranges(self.url, ranges).items():
            stage(self.con, name, rows)
            self.staged_rows[name] = sum(piece.num_rows for piece in rows)

    def stage_many(self, wanted: dict[str, str | None]) -> None:
        """Read several operational tables at once into their staging tables."""
        for name, rows in read_many(self.url, wanted).items():
            stage(self.con, name, rows)
            self.staged_rows[name] = sum(piece.num_rows for piece in rows)


@contextmanager
def connect(path: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection to the DuckDB store, with its bookkeeping table."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    con = _connect_waiting(path)
    try:
        con.execute("SET TimeZone = 'UTC'").fetchall()
        # DuckDB draws its own bar on stdout for long statements: the CLI shows the sync's progress itself.
        con.execute("SET enable_progress_bar = false").fetchall()
        con.execute("CREATE TABLE IF NOT EXISTS sync_state (name VARCHAR PRIMARY KEY, value VARCHAR)").fetchall()
        con.execute("CREATE TABLE IF NOT EXISTS lake_months (fact VARCHAR, month VARCHAR, PRIMARY KEY (fact, month))")
        yield con
    finally:
        con.close()


def _connect_waiting(path: str, patience: float = 30.0) -> duckdb.DuckDBPyConnection:
    """Open the store read-write, waiting while another process holds it (a server keeps it open between queries
    for a moment)."""
    deadline = time.monotonic() + patience
    while True:
        try:
            return duckdb.connect(path)
        except duckdb.IOException as error:
            if "lock" not in str(error).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def checkpoint(run: Run, tries: int = 20) -> None:
    """Write the synced rows into the store file: another connection of this process (a kept-open query connection)
    keeps the database open past the sync's, and DuckDB then skips its checkpoint on close. A query running meanwhile
    blocks a checkpoint: tried for about a second, else left to DuckDB's own (the rows are committed either way)."""
    for _ in range(tries):
        try:
            run.sql("CHECKPOINT")
            return
        except duckdb.TransactionException:
            time.sleep(0.05)


def _joins_smaller(run: Run, fact: str) -> bool:
    """Whether every table the fact left-joins was staged with no more rows than the one its rows come from."""
    if fact not in JOINED:
        return False
    rows, joined = JOINED[fact]
    return all(run.staged_rows.get(name, 0) <= run.staged_rows.get(rows, 0) for name in joined)


@contextmanager
def _bulk_settings(run: Run, fact: str) -> Iterator[None]:
    """Settings for writing a fact, restored at once (they are global to the database: a kept-open query
    connection shares them).

    DuckDB writes a big table in parallel without keeping the rows' order (no figure depends on it; 10M answers:
    the scores table written and checkpointed ~1 s sooner). It builds its join hash tables on the tables a fact
    left-joins where they are known to be the smaller sides: its guesses of a filtered staging view's size fall to a
    few rows, so it built them on the fact's own rows instead (1M responses: ~1.3 CPU-s instead of ~0.8)."""
    settings = {"preserve_insertion_order": "false"}
    if _joins_smaller(run, fact):
        settings["disabled_optimizers"] = "'build_side_probe_side'"
    for name, value in settings.items():
        run.sql(f"SET {name} = {value}")
    try:
        yield
    finally:
        for name in settings:
            run.sql(f"RESET {name}")


def materialise(run: Run, fact: str, replace: str | None) -> int:
    """Compute a fact from the staging tables; replace its rows selected by `replace` (None: the whole table), all in
    one transaction with the note of the months it changed (for the lake)."""
    query = fact_sql(fact)
    with _bulk_settings(run, fact), run.atomically():
        if not run.has(fact):
            run.sql(f"CREATE TABLE {fact} AS {query}")
            run.touch(fact)  # new: the lake gets it whole
            run.written_whole(fact)
        elif replace is None:
            with run.replacing(fact, "TRUE"):  # refreshed whole: the lake rewrites the months that changed
                run.sql(f"CREATE OR REPLACE TABLE {fact} AS {query}")
            run.written_whole(fact)
        else:
            with run.replacing(fact, replace):
                run.sql(f"DELETE FROM {fact} WHERE {replace}")
                return int(run.sql(f"INSERT INTO {fact} BY NAME {query}")[0][0])
        return int(run.sql(f"SELECT count(*) FROM {fact}")[0][0])


def materialise_part(run: Run, fact: str, *, first: bool) -> None:
    """Add a fact's rows computed from the staging tables (the first part replaces the whole table), in the caller's
    transaction; the lake gets the fact whole."""
    query = fact_sql(fact)
    with _bulk_settings(run, fact):
        run.sql(f"CREATE OR REPLACE TABLE {fact} AS {query}" if first else f"INSERT INTO {fact} BY NAME {query}")
    run.touch(fact)
    if first:
        run.written_whole(fact)


def synced_source(store_path: str) -> str | None:
    """The `source` the store's last complete sync recorded; None when there is none or the store is busy."""
    if not Path(store_path).exists():
        return None
    try:
        # Read-write like every other connection of this process (DuckDB refuses mixed configurations).
        with duckdb.connect(store_path) as con:
            found = con.execute("SELECT value FROM sync_state WHERE name = 'source'").fetchall()
    except duckdb.Error:  # another process holds the store, or it has no bookkeeping table yet
        return None
    return str(found[0][0]) if found else None
