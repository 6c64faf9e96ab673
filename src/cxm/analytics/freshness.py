"""Keeping the DuckDB store in step with the operational database, and what a process loads before its first page."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine as SqlEngine
from sqlalchemy.exc import SQLAlchemyError

from cxm.analytics.engines import analytics_url, open_engine
from cxm.analytics.store import synced_source
from cxm.analytics.sync import SyncReport, sync
from cxm.config import Settings
from cxm.core.db import read_only
from cxm.core.errors import InvalidInput
from cxm.core.instance import SIGNALS_REMOVED


def sync_store(
    settings: Settings,
    operational: SqlEngine,
    *,
    progress: Callable[[str], None] | None = None,
    source: str | None = None,
) -> SyncReport | None:
    """Sync the DuckDB store (and the lake) when the engine uses one; None for live engines."""
    url = analytics_url(settings)
    lake = Path(settings.analytics_lake) if settings.analytics_lake else None
    if url.startswith("duckdb:///"):
        return sync(operational, url.removeprefix("duckdb:///"), lake=lake, progress=progress, source=source)
    if url.startswith("spark://"):
        raise InvalidInput("Spark reads the lake a DuckDB sync writes: sync with CXM_ANALYTICS_URL=duckdb:///...")
    return None


_fingerprints: dict[str, tuple[Any, ...]] = {}
_syncing = threading.Lock()
FINGERPRINT = (
    "SELECT (SELECT max(updated_at) FROM responses), (SELECT max(updated_at) FROM customers),"
    " (SELECT max(id) FROM interactions), (SELECT max(id) FROM orders), (SELECT max(id) FROM merges),"
    " (SELECT max(id) FROM tombstones),"
    " (SELECT max(updated_at) FROM invitations),"
    " (SELECT max(id) FROM text_signals), (SELECT max(id) FROM text_themes),"
    f" (SELECT value FROM instance_settings WHERE name = '{SIGNALS_REMOVED}')"
)
# The themes' ids and names: a renamed theme changes the name its signals carry in the store (a few hundred rows).
THEMES = {
    "sqlite": "(SELECT group_concat(id || ':' || name, '|') FROM (SELECT id, name FROM text_themes ORDER BY id))",
    "postgresql": "(SELECT string_agg(id || ':' || name, '|' ORDER BY id) FROM text_themes)",
}


def sync_if_changed(settings: Settings, operational: SqlEngine) -> SyncReport | None:
    """Sync only when the operational data changed since the store's last sync (cheap to call often)."""
    url = analytics_url(settings)
    if not url.startswith("duckdb:///"):
        return None
    with _syncing:  # the in-process worker and a page's first look: one syncs, the other then finds it done
        fingerprint = _fingerprint(operational)
        if _holds(url, fingerprint):
            return None
        report = sync_store(settings, operational, source=repr(fingerprint))
        _fingerprints[url] = fingerprint
    return report


def _fingerprint(operational: SqlEngine) -> tuple[Any, ...]:
    with read_only(operational).connect() as connection:
        return tuple(connection.exec_driver_sql(f"{FINGERPRINT}, {THEMES[operational.dialect.name]}").one())


def _holds(url: str, fingerprint: tuple[Any, ...]) -> bool:
    """Whether the store holds the data of this fingerprint: as remembered by this process, else by the store's mark
    (a new process, or another one synced)."""
    path = url.removeprefix("duckdb:///")
    if _fingerprints.get(url) == fingerprint and Path(path).exists():
        return True
    if synced_source(path) == repr(fingerprint):
        _fingerprints[url] = fingerprint
        return True
    return False


def warm_up(settings: Settings, operational: SqlEngine | None = None) -> None:
    """Load the configured engine's Ibis backend and SQL dialect, and learn whether the store is current, once per
    process before the first page needs either."""
    open_engine(analytics_url(settings)).warm_up()
    url = analytics_url(settings)
    if operational is None or not url.startswith("duckdb:///"):
        return
    try:
        _holds(url, _fingerprint(operational))
    except SQLAlchemyError:  # no schema yet: the first page finds out
        return
