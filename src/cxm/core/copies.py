"""PostgreSQL COPYs that finish in the background while the importing process goes on with the next batch.

A large import spends about as long waiting for the server to work through each COPY as it spends in Python
checking and resolving rows. Within `copies_in_background(session)` a COPY is written and finished by one
background thread; COPYs issued one after another (a batch's new customers, their identities, its rows) queue
up on that thread without waiting for each other. The session's next use of the connection (any statement,
commit or rollback, or the driver connection taken by `bulk`) first waits for all of them and raises the first
error. The transaction is the same one: the server sees the statements in order, and a failed COPY still fails
the whole import (the COPYs queued behind it fail too, as the transaction is aborted, and are not run).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import Session

PENDING = "cxm_pending_copy"
ENABLED = "cxm_background_copies"
RESERVED = "cxm_reserved_ids"


@contextmanager
def copies_in_background(session: Session) -> Iterator[None]:
    """Let COPYs of this session's transaction finish in the background (PostgreSQL only)."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        yield
        return
    _listen(connection.engine)
    connection.info[ENABLED] = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cxm-copy")
    try:
        yield
        wait_for_copy(connection.info)
    finally:
        wait_for_copy(connection.info, raising=False)
        connection.info.pop(ENABLED).shutdown()
        connection.info.pop(RESERVED, None)


def reserved_ids(info: dict[Any, Any], table: str) -> list[int] | None:
    """The ids taken ahead for a table while COPYs run in the background, to use up first; None otherwise."""
    if ENABLED not in info:
        return None
    reserve: list[int] = info.setdefault(RESERVED, {}).setdefault(table, [])
    return reserve


def run_copy(info: dict[Any, Any], copy: Callable[[], None]) -> None:
    """Run a COPY now, or queue it in the background when this connection allows it (after the earlier ones)."""
    executor: ThreadPoolExecutor | None = info.get(ENABLED)
    if executor is None:
        wait_for_copy(info)
        copy()
        return
    pending: list[Future[None]] = info.setdefault(PENDING, [])
    earlier = pending[-1] if pending else None
    pending.append(executor.submit(_after, earlier, copy))


def _after(earlier: Future[None] | None, copy: Callable[[], None]) -> None:
    # The executor has one thread, so `earlier` is done; after its failure the transaction is aborted anyway.
    if earlier is None or earlier.exception() is None:
        copy()


def wait_for_copy(info: dict[Any, Any], *, raising: bool = True) -> None:
    """Wait until this connection's COPYs in the background, if any, have finished; raise the first error."""
    pending: list[Future[None]] = info.pop(PENDING, [])
    errors = [error for error in (future.exception() for future in pending) if error is not None]
    if errors and raising:
        raise errors[0]


def _listen(engine: Engine) -> None:
    """Make every use of the engine's connections wait for their COPY first."""
    for name, listener in (("before_cursor_execute", _waited), ("commit", _waited), ("rollback", _settled)):
        if not event.contains(engine, name, listener):
            event.listen(engine, name, listener)


def _waited(connection: Connection, *args: Any) -> None:
    wait_for_copy(connection.info)


def _settled(connection: Connection) -> None:
    # A rollback waits without raising: a failed COPY's error is already on its way up.
    wait_for_copy(connection.info, raising=False)
