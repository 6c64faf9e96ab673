"""Page figures remembered until the analytics store changes: a page, its chart images and its CSV downloads ask
the same questions, and many people open the same view. Pages show data as of the store's last sync anyway."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from cxm.analytics import service as analytics_service

T = TypeVar("T")
ENTRIES = 512
_remembered: OrderedDict[Hashable, Any] = OrderedDict()
_lock = threading.Lock()
# Inside `sharing`: the exit stack that holds the page's one store connection, and whether it is open yet.
_sharing: ContextVar[list[Any] | None] = ContextVar("cxm_web_sharing", default=None)


def _stamp(path: Path) -> tuple[int, int]:
    try:
        found = path.stat()
    except FileNotFoundError:
        return (0, 0)
    return (found.st_size, found.st_mtime_ns)


def store_state(engine: analytics_service.Engine) -> Hashable | None:
    """The DuckDB store's files as (size, mtime): every sync writes them. None for other engines (never cached:
    PostgreSQL and SQLite answer from live tables, a lake is shared with other writers)."""
    if engine.kind != "duckdb":
        return None
    store = Path(engine.url.removeprefix("duckdb:///"))
    return (_stamp(store), _stamp(store.with_name(store.name + ".wal")))


@contextmanager
def sharing(engine: analytics_service.Engine) -> Iterator[None]:
    """Inside the block, the first question not remembered opens one store connection the rest share
    (`Engine.holding`); when everything is remembered, no connection is opened at all."""
    with ExitStack() as stack:
        token = _sharing.set([stack, False])
        try:
            yield
        finally:
            _sharing.reset(token)


def _share(engine: analytics_service.Engine) -> None:
    pending = _sharing.get()
    if pending is not None and not pending[1]:
        pending[0].enter_context(engine.holding())
        pending[1] = True


def _copy(value: T) -> T:
    return value.copy() if isinstance(value, pd.DataFrame) else value


def remembered(engine: analytics_service.Engine, question: Hashable, ask: Callable[[], T]) -> T:
    """`ask()`'s answer, computed once per store state and question. Data frames come back as copies; treat any
    other answer as read-only."""
    state = store_state(engine)
    if state is None:
        return ask()
    key = (engine.url, state, question)
    with _lock:
        if key in _remembered:
            _remembered.move_to_end(key)
            found: T = _remembered[key]
            return _copy(found)
    _share(engine)
    answer = ask()
    with _lock:
        _remembered[key] = answer
        while len(_remembered) > ENTRIES:
            _remembered.popitem(last=False)
    return _copy(answer)


def forget() -> None:
    """Drop every remembered answer (tests; a store rewritten in place within the clock's resolution)."""
    with _lock:
        _remembered.clear()
