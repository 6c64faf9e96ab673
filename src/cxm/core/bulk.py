"""Bulk inserts that return the new rows' ids, fast on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.orm import Session

UNHASHABLE = (dict, list)
LOOKUP_CHUNK = 2000


def table_of(model: type[Any]) -> Table:
    """The Core table of an ORM class."""
    return cast(Table, model.__table__)


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows (all with the same keys) into a table with an integer `id`; their ids, in order."""
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite" and _complete(table, rows[0]):
        return _insert_numbered(session, table, rows)
    if dialect == "postgresql" and _complete(table, rows[0]):
        return _insert_copied(session, table, rows)
    # A Core insert of the table: the ORM's bulk insert splits rows by which values are None, which
    # turned one statement into thousands and made matching RETURNING rows back quadratic.
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return [row[0] for row in session.execute(statement, rows)]


def _complete(table: Table, row: dict[str, Any]) -> bool:
    """Whether the row gives every column that has a client-side default (so none needs filling in)."""
    return all(column.name in row for column in table.columns if column.default is not None)


def _insert_numbered(session: Session, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert with ids assigned here, straight through the driver.

    SQLite has no ordered bulk RETURNING (SQLAlchemy would send one row per statement), and
    per-row parameter handling costs more than SQLite's own insert, so values are converted column by
    column with each column type's own bind processor. Assigning ids is safe: cxm's SQLite
    transactions start with BEGIN IMMEDIATE, so no other writer can take them.
    """
    start = (session.scalar(select(func.max(table.c.id))) or 0) + 1
    ids = list(range(start, start + len(rows)))
    names = list(rows[0])
    columns = [_bound(session, table, name, [row[name] for row in rows]) for name in names]
    quote = session.get_bind().dialect.identifier_preparer.quote
    targets = ", ".join(quote(name) for name in ["id", *names])
    statement = f"INSERT INTO {quote(table.name)} ({targets}) VALUES ({', '.join('?' * (len(names) + 1))})"
    session.connection().exec_driver_sql(statement, list(zip(ids, *columns, strict=True)))
    return ids


def _insert_copied(session: Session, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Take ids from the table's sequence, then COPY the rows in (RETURNING per batch is ~10x slower)."""
    sequence = session.scalar(text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table.name})
    ids = list(
        session.scalars(text("SELECT nextval(:seq) FROM generate_series(1, :n)"), {"seq": sequence, "n": len(rows)})
    )
    names = list(rows[0])
    columns = [_bound(session, table, name, [row[name] for row in rows]) for name in names]
    quote = session.get_bind().dialect.identifier_preparer.quote
    targets = ", ".join(quote(name) for name in ["id", *names])
    driver = session.connection().connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(f"COPY {quote(table.name)} ({targets}) FROM STDIN") as copy:
        for row in zip(ids, *columns, strict=True):
            copy.write_row(row)
    return ids


def _bound(session: Session, table: Table, name: str, values: list[Any]) -> list[Any]:
    """The column's values as the driver takes them."""
    dialect = session.get_bind().dialect
    process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return values
    memo: dict[Any, Any] = {}  # timestamps and the ingest time recur within a batch
    bound = []
    empty: dict[type, Any] = {}  # most free attributes are {}
    for value in values:
        if type(value) in UNHASHABLE:
            bound.append(empty.setdefault(type(value), process(value)) if not value else process(value))
        elif value in memo:
            bound.append(memo[value])
        else:
            bound.append(memo.setdefault(value, process(value)))
    return bound


def rows_matching(
    session: Session, table: Table, columns: list[str], key: str, values: list[Any], **equal: Any
) -> list[tuple[Any, ...]]:
    """`columns` of the rows whose `key` is one of `values` (and whose `equal` columns match), in chunks.

    Written as driver SQL: building a 2,000-value IN list through SQLAlchemy cost more than running it.
    PostgreSQL gets one array parameter (`= ANY`), SQLite a list of `?` placeholders.
    """
    quote = session.get_bind().dialect.identifier_preparer.quote
    head = f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(table.name)} WHERE "
    connection = session.connection()
    found: list[tuple[Any, ...]] = []
    postgres = session.get_bind().dialect.name == "postgresql"
    for start in range(0, len(values), LOOKUP_CHUNK):
        chunk = values[start : start + LOOKUP_CHUNK]
        if postgres:
            where = [f"{quote(name)} = %({name})s" for name in equal] + [f"{quote(key)} = ANY(%(wanted)s)"]
            params: Any = {**equal, "wanted": chunk}
        else:
            where = [f"{quote(name)} = ?" for name in equal] + [f"{quote(key)} IN ({', '.join('?' * len(chunk))})"]
            params = (*equal.values(), *chunk)
        found.extend(tuple(row) for row in connection.exec_driver_sql(head + " AND ".join(where), params).fetchall())
    return found
