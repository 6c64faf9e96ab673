"""Bulk inserts that return the new rows' ids, fast on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeAlias, cast

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import JSON, Table, func, insert, select, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from cxm.core.copies import reserved_ids, run_copy, wait_for_copy
from cxm.core.db import UTCDateTime, json_text

UNHASHABLE = (dict, list)
COPY_PLAIN = (
    pa.types.is_string,
    pa.types.is_integer,
    pa.types.is_floating,
    pa.types.is_boolean,
    pa.types.is_null,
    lambda kind: pa.types.is_timestamp(kind) and kind.tz is not None,  # written with its zone, e.g. "...Z"
)
COPY_ESCAPES = (("\\", "\\\\"), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"))  # backslash first
LOOKUP_CHUNK = 10_000
RESERVE_AHEAD = 20_000  # sequence ids taken beyond the need during an import (unused ones are a gap in the ids)
SEQUENCES = "cxm_sequences"  # a connection's table -> sequence names, looked up once
# A column of values: a Python sequence, or an Arrow array (converted here, vectorised where it can be).
Column: TypeAlias = Sequence[Any] | pa.Array


def table_of(model: type[Any]) -> Table:
    """The Core table of an ORM class."""
    return cast(Table, model.__table__)


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows (all with the same keys) into a table with an integer `id`; their ids, in order."""
    if not rows:
        return []
    if _fast(session, table, rows[0]):
        return insert_columns(session, table, {name: [row[name] for row in rows] for name in rows[0]})
    # A Core insert of the table: the ORM's bulk insert splits rows by which values are None, which
    # turned one statement into thousands and made matching RETURNING rows back quadratic.
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return [row[0] for row in session.execute(statement, rows)]


def insert_columns(
    session: Session, table: Table, columns: dict[str, Column], ids: Sequence[int] | None = None
) -> list[int]:
    """Insert rows given column by column (equal lengths) into a table with an integer `id`; their ids.

    `ids`: ids taken beforehand with `new_ids` (so that rows pointing at these can be written first).
    """
    count = len(next(iter(columns.values())))
    if not count:
        return []
    if not _fast(session, table, columns):
        columns = {**({"id": ids} if ids is not None else {}), **columns}
        names = list(columns)
        rows = [dict(zip(names, row, strict=True)) for row in zip(*_python(columns).values(), strict=True)]
        return insert_rows(session, table, rows)
    ids = list(ids) if ids is not None else new_ids(session, table, count)
    dialect = session.get_bind().dialect
    if dialect.name == "sqlite":
        bound = [_bound(dialect, table.c[name].type, values) for name, values in columns.items()]
        return _insert_numbered(session, table, list(columns), bound, ids)
    copied = [_copy_bound(dialect, table.c[name].type, values) for name, values in columns.items()]
    return _insert_copied(session, table, list(columns), copied, ids)


def new_ids(session: Session, table: Table, count: int) -> list[int]:
    """Ids for `count` rows about to be inserted into the table by this transaction.

    PostgreSQL: taken from the table's sequence. SQLite: the next free ones, which is safe as cxm's SQLite
    transactions start with BEGIN IMMEDIATE (no other writer), as long as the rows are inserted before others.
    """
    if session.get_bind().dialect.name == "postgresql":
        return _sequence_ids(session, table, count)
    start = (session.scalar(select(func.max(table.c.id))) or 0) + 1
    return list(range(start, start + count))


def _python(columns: dict[str, Column]) -> dict[str, Sequence[Any]]:
    return {name: v.to_pylist() if isinstance(v, pa.Array) else v for name, v in columns.items()}


def _fast(session: Session, table: Table, names: Iterable[str]) -> bool:
    """Whether the driver path applies: SQLite or PostgreSQL, and every column with a client default given."""
    given = set(names)
    complete = all(column.name in given for column in table.columns if column.default is not None)
    return complete and session.get_bind().dialect.name in ("sqlite", "postgresql")


def _insert_numbered(
    session: Session, table: Table, names: list[str], columns: list[Sequence[Any]], ids: list[int]
) -> list[int]:
    """Insert with ids assigned here (`new_ids`), straight through the driver.

    SQLite has no ordered bulk RETURNING (SQLAlchemy would send one row per statement), and
    per-row parameter handling costs more than SQLite's own insert, so values are converted column by
    column with each column type's own bind processor.
    """
    quote = session.get_bind().dialect.identifier_preparer.quote
    targets = ", ".join(quote(name) for name in ["id", *names])
    statement = f"INSERT INTO {quote(table.name)} ({targets}) VALUES ({', '.join('?' * (len(names) + 1))})"
    cursor = _driver(session).cursor()
    try:
        # An iterator, not a list: the rows' tuples never pile up (and never wake the garbage collector).
        cursor.executemany(statement, zip(ids, *columns, strict=True))
    finally:
        cursor.close()
    return ids


def _insert_copied(
    session: Session, table: Table, names: list[str], columns: list[Column], ids: list[int]
) -> list[int]:
    """COPY the rows in with ids from the table's sequence (RETURNING per batch is ~10x slower).

    The COPY may finish in the background (`copies.copies_in_background`): the ids are known before it runs.
    """
    quote = session.get_bind().dialect.identifier_preparer.quote
    targets = ", ".join(quote(name) for name in ["id", *names])
    statement = f"COPY {quote(table.name)} ({targets}) FROM STDIN"
    payload = _copy_text([ids, *columns])
    driver = _driver(session, waiting=False)  # used by the COPY's thread, after the COPYs queued before it

    def copy_rows() -> None:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            if payload is not None:
                copy.write(payload)
                return
            for row in zip(ids, *_python({str(i): c for i, c in enumerate(columns)}).values(), strict=True):
                copy.write_row(row)

    run_copy(session.connection().info, copy_rows)
    return ids


def _sequence_ids(session: Session, table: Table, count: int) -> list[int]:
    """`count` new ids from the table's sequence (read on the driver's cursor: SQLAlchemy's rows cost more).

    During an import with background COPYs, ids are taken a block ahead (`copies.reserved_ids`), so that most
    batches need no round trip, which would have to wait for the COPYs still running.
    """
    reserve = reserved_ids(session.connection().info, table.name)
    if reserve is None:
        return _next_values(session, table, count)
    if len(reserve) < count:
        reserve.extend(_next_values(session, table, count - len(reserve) + RESERVE_AHEAD))
    taken = reserve[:count]
    del reserve[:count]
    return taken


def _next_values(session: Session, table: Table, count: int) -> list[int]:
    info = session.connection().info.setdefault(SEQUENCES, {})
    if table.name not in info:
        info[table.name] = session.scalar(text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table.name})
    with _driver(session).cursor() as cursor:
        cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", (info[table.name], count))
        return [row[0] for row in cursor.fetchall()]


def _copy_text(columns: list[Column]) -> bytes | None:
    """The rows in COPY's text format, built column by column with Arrow; None when a column is not plain.

    Plain means text, numbers, booleans, zoned timestamps or only NULLs (JSON arrives here as its text).
    Formatting row by row in psycopg was about a third of a PostgreSQL import's CPU time in Python; the import
    itself gains less, as PostgreSQL's own work on the COPY dominates.
    """
    fields: list[pa.Array | pa.Scalar] = []
    for column in columns:
        field = _copy_column(column)
        if field is None:
            return None
        fields.append(field)
    # The line break rides on the last field, so the joined lines' data buffer is the payload as it is.
    fields[-1] = pc.binary_join_element_wise(fields[-1], "\n", "")
    lines = pc.binary_join_element_wise(*fields, "\t")
    if isinstance(lines, pa.Scalar):
        line: str = lines.as_py()  # every row the same
        return line.encode() * len(columns[0])
    return _joined(lines)


def _joined(lines: pa.Array) -> bytes:
    """The lines of a string array one after another (its data buffer between the first and last offset)."""
    _, offsets, data = lines.buffers()
    bounds = pa.Array.from_buffers(pa.int32(), len(lines) + 1, [None, offsets], offset=lines.offset)
    payload: bytes = data[bounds[0].as_py() : bounds[-1].as_py()].to_pybytes()
    return payload


def _copy_column(column: Column) -> pa.Array | pa.Scalar | None:
    """One column as COPY text fields (one scalar for a column of one repeated value); None when not plain."""
    if not isinstance(column, pa.Array) and len(column) > 1:
        first = column[0]
        if type(first) not in UNHASHABLE and column.count(first) == len(column):
            field = _copy_column([first])  # the ingest time, a default, a missing column: formatted once
            return field[0] if isinstance(field, pa.Array) else field
    try:
        array = column if isinstance(column, pa.Array) else pa.array(column)
    except (pa.ArrowException, OverflowError, TypeError, ValueError):
        return None
    if not any(plain(array.type) for plain in COPY_PLAIN):
        return None
    return _copy_field(array)


def _copy_field(array: pa.Array) -> pa.Array:
    """One column as COPY text fields: special characters escaped, NULL as \\N."""
    if pa.types.is_timestamp(array.type):
        # Arrow formats zoned timestamps ~20x slower than naive ones: the same UTC instant, marked as UTC.
        naive = pc.cast(pc.cast(array, pa.timestamp(array.type.unit)), pa.string())
        return pc.fill_null(pc.binary_join_element_wise(naive, "Z", ""), "\\N")
    texts = pc.cast(array, pa.string())
    if pa.types.is_string(array.type) and _may_need_escapes(texts):
        for special, escaped in COPY_ESCAPES:
            texts = pc.replace_substring(texts, special, escaped)
    return pc.fill_null(texts, "\\N")


def _may_need_escapes(texts: pa.Array) -> bool:
    """False when no text has a backslash or a character that is not printable (tab, line breaks are not)."""
    # Two quick passes instead of four replacements: most columns (channels, ids, types) have nothing to escape.
    printable = pc.all(pc.utf8_is_printable(texts)).as_py()
    return printable is False or bool(pc.any(pc.match_substring(texts, "\\")).as_py())


def _copy_bound(dialect: Dialect, kind: TypeEngine[Any], values: Column) -> Column:
    """The column's values for COPY: JSON as its text (COPY parses it), the rest as the driver takes them."""
    if isinstance(kind, JSON) or isinstance(getattr(kind, "impl", None), JSON):
        # The driver's JSON wrapper objects would send every row down psycopg's per-row COPY path.
        values = values.to_pylist() if isinstance(values, pa.Array) else values
        return _converted(values, json_text)  # None too, as SQLAlchemy's JSON type does: JSON null
    if isinstance(kind, UTCDateTime) and isinstance(values, pa.Array) and pa.types.is_timestamp(values.type):
        return values.cast(pa.timestamp("us", tz="UTC"))
    if isinstance(values, pa.Array) and kind.dialect_impl(dialect).bind_processor(dialect) is None:
        return values  # written to COPY from the array itself (text columns of an import)
    return _bound(dialect, kind, values)


def _bound(dialect: Dialect, kind: TypeEngine[Any], values: Column) -> Sequence[Any]:
    """The column's values as the driver takes them."""
    if isinstance(values, pa.Array):
        if isinstance(kind, UTCDateTime) and pa.types.is_timestamp(values.type):
            return kind.bind_arrow(values, dialect)
        values = values.to_pylist()
    process = kind.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return values
    return _converted(values, process)


def _converted(values: Sequence[Any], process: Callable[[Any], Any]) -> Sequence[Any]:
    """`process` applied to every value, once per distinct value (and once per shared object)."""
    first = values[0]
    # A missing column, or the ingest time: converted once (equal values share a conversion, as in `memo`).
    if type(first) not in UNHASHABLE and values.count(first) == len(values):
        return [process(first)] * len(values)
    memo: dict[Any, Any] = {}  # timestamps and the ingest time recur within a batch
    # Free attributes: converted once per object (records may share one) and once for all empty ones.
    shared: dict[object, Any] = {}
    bound = []
    for value in values:
        if type(value) in UNHASHABLE:
            key = id(value) if value else type(value)
            found = shared.get(key)
            if found is None:
                found = shared[key] = process(value)
            bound.append(found)
        elif value in memo:
            bound.append(memo[value])
        else:
            bound.append(memo.setdefault(value, process(value)))
    return bound


def rows_matching(
    session: Session, table: Table, columns: list[str], key: str, values: list[Any], **equal: Any
) -> list[tuple[Any, ...]]:
    """`columns` of the rows whose `key` is one of `values` (and whose `equal` columns match), in chunks.

    Written as driver SQL on the driver's cursor: building a long IN list through SQLAlchemy, and its
    result rows, cost more than running the query. PostgreSQL gets one array parameter (`= ANY`), bound in
    binary (psycopg's text form of a 10,000-element array cost ~7 ms of CPU, the binary one ~3 ms); SQLite a
    list of `?` placeholders. `key` must be indexed.
    """
    quote = session.get_bind().dialect.identifier_preparer.quote
    head = f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(table.name)} WHERE "
    postgres = session.get_bind().dialect.name == "postgresql"
    found: list[tuple[Any, ...]] = []
    cursor = _driver(session).cursor()
    try:
        before = _index_only(cursor) if postgres else None
        for start in range(0, len(values), LOOKUP_CHUNK):
            chunk = values[start : start + LOOKUP_CHUNK]
            if postgres:
                where = [f"{quote(name)} = %({name})s" for name in equal] + [f"{quote(key)} = ANY(%(wanted)b)"]
                params: Any = {**equal, "wanted": chunk}
            else:
                marks = ", ".join("?" * len(chunk))
                where = [f"{quote(name)} = ?" for name in equal] + [f"{quote(key)} IN ({marks})"]
                params = (*equal.values(), *chunk)
            cursor.execute(head + " AND ".join(where), params)
            found.extend(cursor.fetchall())
        if before is not None:
            cursor.execute("SELECT set_config('enable_seqscan', %s, true)", (before,))
    finally:
        cursor.close()
    return found


def _index_only(cursor: Any) -> str:
    """Steer PostgreSQL to the index until told otherwise (in this transaction); the setting it had."""
    # Rows written by the running transaction have no statistics yet: within a large import the planner
    # took a sequential scan per look-up, which made the import quadratic (3-8x slower at 1M rows).
    cursor.execute("SELECT current_setting('enable_seqscan')")
    before: str = cursor.fetchone()[0]
    cursor.execute("SELECT set_config('enable_seqscan', 'off', true)")
    return before


def _driver(session: Session, *, waiting: bool = True) -> Any:
    """The driver's own connection under the session's transaction."""
    connection = session.connection()
    if waiting:
        wait_for_copy(connection.info)  # the connection may still be busy with a COPY in the background
    driver = connection.connection.driver_connection
    assert driver is not None
    return driver
