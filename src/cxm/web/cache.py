"""Metric tables remembered until the analytics store changes: a page, its chart images and its CSV downloads ask
the same questions, and many people open the same view."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path

import pandas as pd

from cxm.analytics import service as analytics_service

ENTRIES = 512
_remembered: OrderedDict[Hashable, pd.DataFrame] = OrderedDict()
_lock = threading.Lock()


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


def remembered(
    engine: analytics_service.Engine, metric: str, query: analytics_service.Query, ask: Callable[[], pd.DataFrame]
) -> pd.DataFrame:
    """`ask()`'s table, computed once per store state and question (a copy: callers may change theirs)."""
    state = store_state(engine)
    if state is None:
        return ask()
    key = (engine.url, state, metric, repr(query))
    with _lock:
        if key in _remembered:
            _remembered.move_to_end(key)
            return _remembered[key].copy()
    frame = ask()
    with _lock:
        _remembered[key] = frame
        while len(_remembered) > ENTRIES:
            _remembered.popitem(last=False)
    return frame.copy()


def forget() -> None:
    """Drop every remembered table (tests; a store rewritten in place within the clock's resolution)."""
    with _lock:
        _remembered.clear()
