"""Engine, session factory and portable column types for the operational store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import JSON, BigInteger, DateTime, Engine, Integer, MetaData, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ZERO = timedelta(0)
# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL needs 64 bits for event tables.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base shared by every domain's tables."""

    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp stored in UTC on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Reject naive datetimes and store UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: a timezone is required")
        converted = value.astimezone(UTC)
        return converted.replace(tzinfo=None) if dialect.name == "sqlite" else converted

    def bind_processor(self, dialect: Dialect) -> Callable[[datetime | None], Any] | None:
        """On SQLite, convert straight to SQLAlchemy's stored text form (the bulk ingest's hottest path)."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def to_text(value: datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError("naive datetime: a timezone is required")
            # The same text SQLAlchemy's SQLite DATETIME writes, so stored values compare as before.
            if value.utcoffset() != ZERO:
                value = value.astimezone(UTC)
            return value.isoformat(" ", "microseconds")[:26]

        return to_text

    def bind_arrow(self, values: pa.Array, dialect: Dialect) -> list[Any]:
        """Bind a column of Arrow timestamps at once (imports), as the per-value processor would."""
        if values.type.tz is None:
            # Per value, so a naive timestamp fails exactly as it would one by one.
            process = self.bind_processor(dialect) or (lambda value: value)
            return [process(value) for value in values.to_pylist()]
        utc = pc.cast(values, pa.timestamp("us", tz="UTC"))
        # Casting the UTC wall time to text gives SQLite's stored form exactly ("2026-03-01 09:00:00.000000");
        # PostgreSQL (COPY) gets the same text marked as UTC.
        stamps = pc.cast(pc.cast(utc, pa.timestamp("us")), pa.string())
        if dialect.name != "sqlite":
            stamps = pc.binary_join_element_wise(stamps, "+00:00", "")
        bound: list[Any] = stamps.to_pylist()
        return bound

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return aware UTC datetimes."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class JSONDict(TypeDecorator[dict[str, Any]]):
    """Free attributes: a JSON object, never NULL when read."""

    impl = JSON
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Dialect) -> dict[str, Any]:
        """Read NULL as an empty object."""
        return dict(value) if value else {}


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # cxm issues BEGIN itself (see _begin_immediate), so pysqlite must not.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Concurrent writers (server + CLI import) wait instead of failing at once.
    cursor.execute("PRAGMA busy_timeout=30000")
    # The default 2 MiB page cache makes every index insert of a large batch go to the OS.
    cursor.execute("PRAGMA cache_size=-65536")
    # Checkpoint every ~40 MiB of WAL instead of 4 MiB: a 10,000-event batch writes about 4 MiB, so the default
    # copied (and synced) pages back after nearly every batch; measured ~15% more batch ingest.
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
    cursor.close()


def _begin_immediate(connection: Any) -> None:
    # Take the write lock up front: a deferred transaction that reads and then writes fails at
    # once (SQLITE_BUSY) when another process wrote meanwhile, instead of waiting its turn.
    # Readers (see `read_only`) begin deferred, so they never queue behind a writer.
    read = connection.get_execution_options().get("cxm_read_only", False)
    connection.exec_driver_sql("BEGIN" if read else "BEGIN IMMEDIATE")


def read_only(engine: Engine) -> Engine:
    """The same database for transactions that only read (on SQLite they take no write lock)."""
    return engine.execution_options(cxm_read_only=True)


def json_text(value: Any) -> str:
    """JSON text of a value, as every engine of cxm writes it."""
    # orjson: several times faster than json.dumps for the free attributes of bulk ingest.
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL mode, foreign keys, a busy timeout and immediate transactions."""
    kwargs.setdefault("json_serializer", json_text)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _begin_immediate)
        return engine
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    # No server-side prepared statements: after five runs PostgreSQL may switch a prepared statement to a
    # generic plan, and for the identity and event-id look-ups of a growing table that plan degraded
    # ingest from ~8,000 to ~1,500 rows/s within one import.
    connect_args = {"prepare_threshold": None, **kwargs.pop("connect_args", {})}
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session
