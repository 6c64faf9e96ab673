"""The customer timeline: each domain registers a source of entries; this merges them in time order."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened to a customer, from any domain."""

    kind: str
    id: int
    occurred_at: datetime
    channel: str | None
    summary: str
    data: dict[str, Any] = field(default_factory=dict)


# A source returns the newest `limit` entries for the customer ids, newest first.
TimelineSource = Callable[[Session, Sequence[int], int], list[TimelineEntry]]

_sources: dict[str, TimelineSource] = {}


def register_source(name: str, source: TimelineSource) -> None:
    """Add (or replace) a named source of timeline entries."""
    _sources[name] = source


def customer_timeline(
    session: Session, customer_ids: Sequence[int], *, limit: int, offset: int = 0
) -> list[TimelineEntry]:
    """Entries from every source for these customers, newest first."""
    wanted = limit + offset
    streams = [source(session, customer_ids, wanted) for source in _sources.values()]
    merged = heapq.merge(*streams, key=lambda entry: (entry.occurred_at, entry.kind, entry.id), reverse=True)
    return list(merged)[offset:wanted]
