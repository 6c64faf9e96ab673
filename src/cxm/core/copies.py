"""PostgreSQL COPYs that finish in the background while the importing process goes on with the next batch.

A large import spends about as long waiting for the server to work through each COPY as it spends in Python
checking and resolving rows. Within `copies_in_background(session)` a COPY is written and finished by one
background thread; the session's next use of the connection (any statement, commit or rollback, or the driver
connection taken by `bulk`) first waits for it and raises its error. The transaction is the same one: the
server sees the statements in order, and a failed COPY still fails the whole import.
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


def run_copy(info: dict[Any, Any], copy: Callable[[], None]) -> None:
    """Run a COPY now, or in the background when this connection allows it (after the previous one)."""
    wait_for_copy(info)
    executor: ThreadPoolExecutor | None = info.get(ENABLED)
    if executor is None:
        copy()
        return
    info[PENDING] = executor.submit(copy)


def wait_for_copy(info: dict[Any, Any], *, raising: bool = True) -> None:
    """Wait until this connection's COPY in the background, if any, has finished; raise its error."""
    pending: Future[None] | None = info.pop(PENDING, None)
    if pending is None:
        return
    error = pending.exception()
    if error is not None and raising:
        raise error


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
