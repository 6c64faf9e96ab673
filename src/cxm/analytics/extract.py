"""Reading operational rows as Arrow through ADBC (no Python rows); kept light, as it also runs in child processes."""

from __future__ import annotations

import errno
import multiprocessing
import multiprocessing.forkserver
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import closing, contextmanager
from typing import Any

import pyarrow as pa

# The columns of each operational table that facts use, with their analytic types.
SOURCES: dict[str, dict[str, str]] = {
    "answers": {"response_id": "int64", "question_id": "int64", "score": "int64"},
    "questions": {
        "id": "int64",
        "survey_id": "int64",
        "key": "string",
        "kind": "string",
        "position": "int64",
        "scale_min": "int64",
        "scale_max": "int64",
    },
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
    },
    "interactions": {
        "id": "int64",
        "customer_id": "int64",
        "channel": "string",
        "journey_stage": "string",
        "direction": "string",
        "type": "string",
        "agent": "string",
        "store": "string",
        "occurred_at": "timestamp",
        "responded_at": "timestamp",
    },
    "orders": {
        "id": "int64",
        "customer_id": "int64",
        "channel": "string",
        "occurred_at": "timestamp",
        "amount": "float64",
        "currency": "string",
    },
    "customers": {
        "id": "int64",
        "segment": "string",
        "country": "string",
        "language": "string",
        "attributes": "json",
        "erased_at": "timestamp",
    },
    "invitations": {
        "id": "int64",
        "survey_id": "int64",
        "customer_id": "int64",
        "channel": "string",
        "sent_at": "timestamp",
        "answered_at": "timestamp",
    },
    "text_signals": {
        "id": "int64",
        "kind": "string",
        "label": "string",
        "value": "float64",
        "theme_id": "int64",
        "source": "string",
        "source_id": "int64",
        "question_id": "int64",
        "customer_id": "int64",
        "written_at": "timestamp",
    },
    "text_themes": {"id": "int64", "name": "string"},
}


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


# A whole table's read leaves out the rows no fact uses (the facts are then rebuilt whole: nothing of those rows is
# left to delete), and the column that picks them: its one value is the staging view's (a string per row costs
# SQLite and ADBC ~0.1 s per 1M rows).
WHOLE_ROWS = {"responses": ("status", "complete")}


def read_columns(name: str, *, whole: bool = False) -> list[str]:
    """The columns a read of one table returns (a whole read leaves out the one that picks its rows)."""
    left_out = WHOLE_ROWS[name][0] if whole and name in WHOLE_ROWS else None
    return [column for column in SOURCES[name] if column != left_out]


def select_sql(name: str, where: str | None, *, whole: bool = False) -> str:
    """The query reading one table's staged columns (`whole`: every row of it a fact uses, `where` cutting it)."""
    kept = [where] if where else []
    if whole and name in WHOLE_ROWS:
        column, value = WHOLE_ROWS[name]
        kept.append(f"{column} = '{value}'")
    columns = ", ".join(read_columns(name, whole=whole))
    return f"SELECT {columns} FROM {name}" + (f" WHERE {' AND '.join(kept)}" if kept else "")


def read_one(url: str, name: str, where: str | None) -> pa.Table:
    """One table's staged columns, over an ADBC connection of its own."""
    with reader(url) as source, source.cursor() as cursor:
        cursor.execute(select_sql(name, where, whole=where is None))
        rows: pa.Table = cursor.fetch_arrow_table()
    return rows


def read_to_file(path: str, name: str, where: str | None, target: str) -> str:
    """Read a piece of a whole SQLite table (in a child process) into an Arrow IPC file at `target`, its times
    parsed."""
    import adbc_driver_manager
    import adbc_driver_sqlite

    # The low-level driver: its dbapi module imports pandas, which would triple a child's start-up time.
    with (
        closing(adbc_driver_sqlite.connect(path)) as database,
        closing(adbc_driver_manager.AdbcConnection(database)) as connection,
        closing(adbc_driver_manager.AdbcStatement(connection)) as statement,
    ):
        statement.set_sql_query("PRAGMA busy_timeout = 30000")  # readers opening a WAL database together may wait
        statement.execute_update()
        statement.set_sql_query(select_sql(name, where, whole=True))
        stream, _ = statement.execute_query()
        rows = _parsed_times(name, pa.RecordBatchReader._import_from_c(stream.address).read_all())
    return write_piece(rows, target)


def write_piece(rows: pa.Table, target: str) -> str:
    """Write Arrow rows as an IPC file at `target`, or in a new temporary folder when its place is full; says where."""
    try:
        return _write_ipc(rows, target)
    except OSError as error:
        if error.errno != errno.ENOSPC:
            raise
    # The half-written file stays in the readers' folder, removed with it.
    return _write_ipc(rows, os.path.join(tempfile.mkdtemp(prefix="cxm-sync-"), os.path.basename(target)))


def _write_ipc(rows: pa.Table, target: str) -> str:
    with pa.OSFile(target, "wb") as sink, pa.ipc.new_file(sink, rows.schema) as writer:
        writer.write_table(rows)
    return target


def _parsed_times(name: str, rows: pa.Table) -> pa.Table:
    """SQLite's text times as Arrow timestamps where they all parse (here, in parallel children: cheaper than in
    the store); a column with other text (a zone offset) stays text for the store's own cast."""
    for index, column in enumerate(rows.schema.names):
        if SOURCES[name][column] == "timestamp" and pa.types.is_string(rows.schema.field(index).type):
            try:
                rows = rows.set_column(index, column, rows.column(index).cast(pa.timestamp("us")))
            except pa.ArrowInvalid:
                continue
    return rows


def read_few(url: str, name: str, where: str | None) -> pa.Table:
    """A (small) selection of SQLite rows through the standard library's driver, in this process."""
    with closing(sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30)) as connection:
        rows = connection.execute(select_sql(name, where, whole=where is None)).fetchall()
    columns = read_columns(name, whole=where is None)
    values: list[tuple[Any, ...]] = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
    return pa.table({column: pa.array(list(v)) for column, v in zip(columns, values, strict=True)})


def _children() -> Any:
    """Child processes forked from a clean server process that has this module loaded (cheap to start)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["cxm.analytics.extract", "adbc_driver_sqlite", "adbc_driver_manager"])
    return context


def start_children() -> None:
    """Start the process that forks the readers now: it loads its modules (~0.3-0.5 s) while the caller works on."""
    _children()
    multiprocessing.forkserver.ensure_running()


Ranges = dict[str, tuple[str, int, int]]  # per table: a column and the range (low, high] of its values to read


def _pieces(ranges: Ranges) -> list[tuple[str, str]]:
    """Tables cut into ranges of at most PIECE values of their column, largest tables first (so the children stay
    busy)."""
    cuts = []
    for name, (column, low, high) in sorted(ranges.items(), key=lambda item: item[1][1] - item[1][2]):
        count = max(1, -(-(high - low) // PIECE))
        step = max(1, -(-(high - low) // count))
        cuts += [(name, f"{column} > {at} AND {column} <= {min(at + step, high)}") for at in range(low, high, step)]
    return cuts


def read_ranges(url: str, ranges: Ranges) -> dict[str, list[pa.Table]]:
    """The rows of SQLite tables whose column lies in a range (all a whole read would take), read by ADBC in child
    processes, piece by piece, handed over as memory-mapped files."""
    folder = _hand_over_folder({name: high - low for name, (_, low, high) in ranges.items()})
    cuts = _pieces(ranges)
    paths = [os.path.join(folder, f"{name}-{index}.arrow") for index, (name, _) in enumerate(cuts)]
    workers = min(len(cuts), os.cpu_count() or 2)
    path = url.removeprefix("sqlite:///")
    try:
        with ProcessPoolExecutor(workers, mp_context=_children()) as pool:
            written = list(pool.map(read_to_file, [path] * len(cuts), *zip(*cuts, strict=True), paths))
        return _mapped(list(ranges), [name for name, _ in cuts], written, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _mapped(names: list[str], pieces: list[str], paths: list[str], folder: str) -> dict[str, list[pa.Table]]:
    """The pieces' files as Arrow tables over their memory (valid until the tables are dropped), the files gone."""
    found: dict[str, list[pa.Table]] = {name: [] for name in names}
    for name, path in sorted(zip(pieces, paths, strict=True), key=lambda piece: piece[1]):
        with pa.memory_map(path) as source:
            found[name].append(pa.ipc.open_file(source).read_all())
        os.unlink(path)
        if os.path.dirname(path) != folder:  # a piece shared memory had no room for
            os.rmdir(os.path.dirname(path))
    return found


SHARED_MEMORY = "/dev/shm"
COLUMN_BYTES = 16  # a piece's bytes per row and column, reckoned high (1M responses: ~90 bytes in 7 columns)


def _hand_over_folder(sizes: dict[str, int]) -> str:
    """A new folder for the readers' pieces: in shared memory when it has room for twice what they are reckoned to
    take, else in the temporary folder (on disk, yet read back from the page cache)."""
    # A container's shared memory is often 64 MiB, and PostgreSQL uses it too: the readers must not fill it.
    needed = sum(rows * len(read_columns(name, whole=True)) * COLUMN_BYTES for name, rows in sizes.items())
    roomy = _free_bytes(SHARED_MEMORY) >= 2 * needed
    return tempfile.mkdtemp(prefix="cxm-sync-", dir=SHARED_MEMORY if roomy else None)


def _free_bytes(folder: str) -> int:
    try:
        found = os.statvfs(folder)
    except OSError:  # no such folder (not Linux)
        return 0
    return found.f_bavail * found.f_frsize


SMALL = 20_000  # rows: below this, starting a child process costs more than it saves
PIECE = 500_000  # rows a child reads at once: pieces of big tables keep both cores busy and memory per child flat


def _rows(url: str, name: str) -> int:
    with closing(sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30)) as connection:
        return int(connection.execute(f"SELECT max(rowid) FROM {name}").fetchone()[0] or 0)


def read_many(url: str, wanted: dict[str, str | None]) -> dict[str, list[pa.Table]]:
    """Several tables read at once, each as one or more Arrow pieces (ADBC drivers release the GIL while reading).

    Whole SQLite tables are read by ADBC in separate processes: the driver carries its own copy of SQLite, and
    two copies in one process break each other's file locks (closing one drops the other's POSIX locks). The
    small selections of an incremental sync are read in this process with the standard driver instead.
    """
    if url.startswith("sqlite:///"):
        whole = {name: _rows(url, name) for name, where in wanted.items() if where is None}
        large = {name: rows for name, rows in whole.items() if rows > SMALL}
        found = {name: [read_few(url, name, where)] for name, where in wanted.items() if name not in large}
        whole_ranges = {name: ("rowid", 0, rows) for name, rows in large.items()}
        return {**found, **(read_ranges(url, whole_ranges) if large else {})}
    names = list(wanted)
    with ThreadPoolExecutor(min(len(names), 4)) as threads:
        tables = threads.map(read_one, [url] * len(names), names, [wanted[n] for n in names])
        return {name: [rows] for name, rows in zip(names, tables, strict=True)}
