"""Figures remembered per process until what they were computed from changes (the store's version)."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from cxm.analytics import service as analytics_service

T = TypeVar("T")
SIZE = 512

_remembered: OrderedDict[Hashable, Any] = OrderedDict()
_computing: dict[Hashable, threading.Event] = {}
_lock = threading.Lock()
WAIT_SECONDS = 60
_background: dict[Hashable, threading.Thread] = {}
log = logging.getLogger(__name__)


def store_version(engine: analytics_service.Engine) -> Hashable:
    """What changes whenever the analytics data does: the DuckDB file's size and time (live engines: never equal)."""
    version = engine.data_version()
    return object() if version is None else version  # a live engine: nothing to tell a change by cheaply


def remember(key: Hashable, compute: Callable[[], T]) -> T:
    """The value computed for `key` (which includes its version), computing it the first time; a request that asks
    while another thread computes it (the worker preparing the default views) waits for that value."""
    while True:
        with _lock:
            if key in _remembered:
                _remembered.move_to_end(key)
                return _remembered[key]  # type: ignore[no-any-return]
            underway = _computing.get(key)
            if underway is None:
                _computing[key] = threading.Event()
                break
        underway.wait(WAIT_SECONDS)  # then look again (computed here when that attempt failed)
    try:
        value = compute()
        with _lock:
            _remembered[key] = value
            while len(_remembered) > SIZE:
                _remembered.popitem(last=False)
    finally:
        with _lock:
            _computing.pop(key).set()
    return value


def compute_later(key: Hashable, compute: Callable[[], object]) -> None:
    """Start `compute` in a background thread unless one started under `key` still runs (what it computes, it keeps
    itself): a page shows that a figure is coming instead of waiting for it."""
    with _lock:
        running = _background.get(key)
        if running is not None and running.is_alive():
            return
        thread = threading.Thread(target=_in_background, args=(compute,), name=f"cxm-later-{key}", daemon=True)
        _background[key] = thread
        thread.start()


def _in_background(compute: Callable[[], object]) -> None:
    """Run `compute`; a failure is logged (the page asking next computes or reports it itself)."""
    try:
        compute()
    except Exception:
        log.warning("computing a figure in the background failed", exc_info=True)
