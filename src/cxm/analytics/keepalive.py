"""Query connections to the DuckDB store kept open for a moment after use (`CXM_ANALYTICS_KEEP_OPEN` seconds).

Opening the store costs ~15-30 ms (~0.1-0.3 s on a busy machine) and each fact's schema a few more; a server
answering a page's queries one after another pays that once. DuckDB lets one process at a time open a store file
(read-write), so connections are closed once none has been used for the delay (other processes, the CLI or a
separate worker, can then open it), and before a sync of this process writes (the next query sees the sync).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

Opener = Callable[[], Any]


@dataclass
class _Kept:
    """The idle connections of one store, and when one was last given back."""

    idle: list[tuple[Any, dict[str, Any]]] = field(default_factory=list)
    generation: int = 0
    last_used: float = 0.0
    timer: threading.Timer | None = None


_stores: dict[str, _Kept] = {}
_lock = threading.Lock()


def store_key(path: str) -> str:
    """One name per store file, however the path was written."""
    return os.path.abspath(path)


@contextmanager
def kept_open(path: str, delay: float, opener: Opener) -> Iterator[tuple[Any, dict[str, Any]]]:
    """A connection and its looked-up tables: an idle kept one, else a new one; kept for `delay` s afterwards."""
    key = store_key(path)
    with _lock:
        kept = _stores.setdefault(key, _Kept())
        generation = kept.generation
        taken = kept.idle.pop() if kept.idle else None
    con, found = taken or (opener(), {})
    try:
        yield con, found
    finally:
        _give_back(key, con, found, generation, delay)


def _give_back(key: str, con: Any, found: dict[str, Any], generation: int, delay: float) -> None:
    """Keep a connection for later, unless a sync began since it was opened (then it is closed)."""
    with _lock:
        kept = _stores[key]
        if generation == kept.generation:
            kept.idle.append((con, found))
            kept.last_used = time.monotonic()
            if kept.timer is None:
                _schedule(key, kept, delay)
            return
    con.disconnect()


def _schedule(key: str, kept: _Kept, delay: float) -> None:
    """Look again in `delay` seconds (one timer per store at a time; called with the lock held)."""
    kept.timer = threading.Timer(delay, _close_if_quiet, (key, delay))
    kept.timer.daemon = True
    kept.timer.start()


def _close_if_quiet(key: str, delay: float) -> None:
    """Close the store's idle connections when none was used for `delay` seconds, else look again later."""
    with _lock:
        kept = _stores[key]
        kept.timer = None
        quiet_for = time.monotonic() - kept.last_used
        if quiet_for < delay and kept.idle:
            _schedule(key, kept, delay - quiet_for)
            return
        closing, kept.idle = kept.idle, []
    for con, _ in closing:
        con.disconnect()


def release(path: str) -> None:
    """Close the store's idle connections now; those in use are closed when given back (a sync is about to write,
    or has written: later queries open the store afresh)."""
    with _lock:
        kept = _stores.setdefault(store_key(path), _Kept())
        kept.generation += 1
        closing, kept.idle = kept.idle, []
        if kept.timer is not None:
            kept.timer.cancel()
            kept.timer = None
    for con, _ in closing:
        con.disconnect()


def is_open(path: str) -> bool:
    """Whether this process keeps idle connections to the store."""
    with _lock:
        kept = _stores.get(store_key(path))
        return bool(kept and kept.idle)
