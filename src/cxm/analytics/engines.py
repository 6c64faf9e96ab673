"""Analytics engines: where metric expressions run, chosen by `CXM_ANALYTICS_URL`.

- `duckdb:///path.duckdb` (default beside a SQLite database): a store the sync keeps up to date.
- `postgresql://...` / `sqlite:///...` ("live"): the operational tables, queried directly.
- `spark://local[2]?lake=/path` or `spark://sc://host:15002?lake=s3a://...`: Spark over the Parquet lake.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import ibis
from ibis.backends import BaseBackend
from ibis.expr.types import Table

from cxm.analytics import facts, keepalive
from cxm.config import Settings
from cxm.core.errors import CxmError, InvalidInput

# The DuckDB connection slots of `Engine.holding` blocks in this thread or task, by store URL (filled when first used).
_HELD: ContextVar[dict[str, dict[str, Any]]] = ContextVar("held_duckdb", default={})  # noqa: B039 (never mutated)


class AnalyticsUnavailable(CxmError):
    """The analytics engine cannot be reached right now."""

    status_code = 503
    code = "analytics_unavailable"


def default_analytics_url(database_url: str) -> str:
    """DuckDB beside a SQLite database; PostgreSQL is queried directly."""
    if database_url.startswith("sqlite:///"):
        path = Path(database_url.removeprefix("sqlite:///"))
        return f"duckdb:///{path.with_suffix('.analytics.duckdb')}"
    return database_url


def analytics_url(settings: Settings) -> str:
    """The configured analytics URL, or the default for the operational database."""
    return settings.analytics_url or default_analytics_url(settings.database_url)


@dataclass
class Engine:
    """An analytics engine: a kind and a way to open an Ibis connection with the fact tables."""

    kind: str
    url: str
    lake: Path | None = None
    keep_open: float = 0.0  # seconds a DuckDB query connection stays open after use (0: closed at once)
    zone: str = "UTC"  # the time zone of periods when a question names none (CXM_TIMEZONE)
    _spark: Any = field(default=None, repr=False)

    @property
    def live(self) -> bool:
        """Whether facts are computed from the operational tables at query time."""
        return self.kind in ("postgres", "sqlite")

    @contextmanager
    def holding(self) -> Iterator[None]:
        """Inside the block, every `connect` of this store shares one connection, opened by the first that needs
        it (a page's several queries pay ~30 ms once; a page whose figures are remembered opens nothing)."""
        held = _HELD.get()
        if self.kind != "duckdb" or self.url in held:
            yield
            return
        with ExitStack() as stack:
            slot: dict[str, Any] = {"stack": stack}
            token = _HELD.set({**held, self.url: slot})
            try:
                yield
            finally:
                _HELD.reset(token)

    @contextmanager
    def connect(self) -> Iterator[Callable[[str], Table]]:
        """A function from fact name to Ibis table, valid inside the block."""
        if self.kind == "duckdb" and self.url in _HELD.get():
            slot = _HELD.get()[self.url]
            if "con" not in slot:
                slot["con"], slot["facts"] = slot["stack"].enter_context(self._store_connection())
            yield _viewed(_stored(slot["con"], slot["facts"]))
        elif self.kind == "duckdb":
            with self._store_connection() as (con, found):
                yield _viewed(_stored(con, found))
        elif self.kind == "spark":
            yield _viewed(_lake(self._spark_backend(), self.lake))
        else:
            con = _live_backend(self.url)
            try:
                yield _viewed(_live(con))
            finally:
                con.disconnect()

    @contextmanager
    def _store_connection(self) -> Iterator[tuple[BaseBackend, dict[str, Table]]]:
        """A connection to the DuckDB store with the fact tables it has looked up: kept open for `keep_open`
        seconds after use, or opened for this block only."""
        if self.keep_open > 0:
            path = self.url.removeprefix("duckdb:///")
            with keepalive.kept_open(path, self.keep_open, lambda: _open_store(self.url)) as kept:
                yield kept
            return
        with duckdb_connection(self.url, read_only=False) as con:
            yield con, {}

    def data_version(self) -> Hashable | None:
        """What changes whenever the store's data does (the DuckDB file's and its WAL's size and times); None for
        engines that read live data or a lake, which have no such cheap sign."""
        if self.kind != "duckdb":
            return None
        path = Path(self.url.removeprefix("duckdb:///"))
        stat = path.stat() if path.exists() else None
        wal = Path(f"{path}.wal")
        return (self.url, stat and (stat.st_mtime_ns, stat.st_size), wal.exists() and wal.stat().st_mtime_ns)

    def warm_up(self) -> None:
        """Import the backend and compile one expression like the metrics' (~0.5-1 s on a small machine, once per
        process: paid at start-up instead of by the first page); Spark starts with its first query."""
        if self.kind == "spark":
            return
        getattr(ibis, self.kind)
        facts = ibis.table({"kind": "string", "score": "int64", "at": "timestamp"}, name="scores")
        kept = facts.filter(facts.kind.isin(["nps"]), facts.at < datetime(2000, 1, 1))
        ibis.to_sql(kept.group_by("kind", "score").aggregate(n=kept.count()), dialect=self.kind)

    def _spark_backend(self) -> BaseBackend:
        if self._spark is None:
            self._spark = ibis.pyspark.connect(spark_session(self.url))
        return self._spark


RESPONSE_ROWS = "response_rows"  # every completed response's rows of the scores fact, its own row included


def _viewed(fact: Callable[[str], Table]) -> Callable[[str], Table]:
    """Fact tables as metrics read them: `scores` holds scored answers only, `response_rows` every completed
    response's rows (for counting responses, whatever they answered)."""

    def table(name: str) -> Table:
        if name == RESPONSE_ROWS:
            return fact("scores")
        found = fact(name)
        return facts.scored(found) if name == "scores" else found

    return table


def _stored(con: BaseBackend, found: dict[str, Table]) -> Callable[[str], Table]:
    """Fact tables of a store connection; `found` keeps those already looked up (a schema read costs ~5 ms)."""

    def fact(name: str) -> Table:
        if name not in found:
            try:
                found[name] = con.table(name)
            except ibis.common.exceptions.TableNotFound:
                raise AnalyticsUnavailable(f"the analytics store has no {name} yet: run `cxm analytics sync`") from None
        return found[name]

    return fact


def _live(con: BaseBackend) -> Callable[[str], Table]:
    def fact(name: str) -> Table:
        return facts.FACTS[name](con.table)

    return fact


def _lake(con: BaseBackend, lake: Path | None) -> Callable[[str], Table]:
    assert lake is not None
    return lambda name: con.read_parquet(str(lake / name), table_name=f"lake_{name}")


def _live_backend(url: str) -> BaseBackend:
    if url.startswith("sqlite:///"):
        return ibis.sqlite.connect(url.removeprefix("sqlite:///"))
    parts = urlsplit(url.replace("postgresql+psycopg://", "postgresql://"))
    return ibis.postgres.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password,
        database=parts.path.lstrip("/") or "postgres",
    )


@contextmanager
def duckdb_connection(url: str, *, read_only: bool) -> Iterator[BaseBackend]:
    """A DuckDB connection, waiting briefly while another process holds the file."""
    con = _open_store(url, read_only=read_only)
    try:
        yield con
    finally:
        con.disconnect()


def _open_store(url: str, *, read_only: bool = False) -> BaseBackend:
    # Not read-only by default: DuckDB refuses a read-only connection in a process that holds a read-write one (the
    # in-process worker's sync), while connections of one configuration share the database safely.
    path = url.removeprefix("duckdb:///")
    if not Path(path).exists():
        raise AnalyticsUnavailable("the analytics store is empty: run `cxm analytics sync` first")
    return _open_duckdb(path, read_only)


def _open_duckdb(path: str, read_only: bool) -> BaseBackend:
    deadline = time.monotonic() + 30
    while True:
        try:
            return ibis.duckdb.connect(path, read_only=read_only)
        except Exception as error:
            busy = "lock" in str(error).lower() or "different configuration" in str(error).lower()
            if not busy or time.monotonic() > deadline:
                raise AnalyticsUnavailable(f"cannot open the analytics store: {error}") from None
            time.sleep(0.1)


def spark_session(url: str) -> Any:
    """A Spark session for `spark://local[N]` or Spark Connect `spark://sc://host:port`."""
    from pyspark.sql import SparkSession

    master = url.removeprefix("spark://").split("?", 1)[0]
    builder = SparkSession.builder.appName("cxm-analytics")
    if master.startswith("sc://"):
        return builder.remote(master).getOrCreate()
    return (
        builder.master(master or "local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )


def open_engine(url: str, *, keep_open: float = 0.0) -> Engine:
    """The engine an analytics URL names (`keep_open`: seconds a DuckDB store stays open after a query)."""
    if url.startswith("duckdb:///"):
        return Engine("duckdb", url, keep_open=keep_open)
    if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        return Engine("postgres", url)
    if url.startswith("sqlite:///"):
        return Engine("sqlite", url)
    if url.startswith("spark://"):
        lake = parse_qs(url.partition("?")[2]).get("lake")
        if not lake:
            raise InvalidInput("a Spark analytics URL needs ?lake=<folder of the Parquet lake>")
        return Engine("spark", url, lake=Path(lake[0]))
    raise InvalidInput(f"unknown analytics URL '{url}': use duckdb:///, postgresql://, sqlite:/// or spark://")
