"""Bulk ingest of interactions and orders: dedupe by client id, resolve identities, insert in bulk."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from cxm.core.bulk import insert_rows, rows_matching, table_of
from cxm.core.db import utcnow
from cxm.customers import service as customers_service
from cxm.interactions.models import Interaction, Order, OrderItem


@dataclass(slots=True)
class Incoming:
    """One record to store: its column values, who it concerns, and its idempotency key."""

    values: dict[str, Any]
    keys: tuple[customers_service.Key, ...]
    customer_id: int | None = None
    client_id: str | None = None
    children: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class IngestResult:
    """How many records were stored, how many were re-sent, and each record's row (None if duplicate)."""

    accepted: int
    duplicates: int
    ids: list[int | None]
    customer_ids: list[int | None]


def _known(session: Session, column: Any, client_ids: list[str]) -> set[str]:
    return {row[0] for row in rows_matching(session, column.table, [column.name], column.name, client_ids)}


def _fresh(session: Session, column: Any, records: Sequence[Incoming]) -> list[int]:
    """Indexes of records not seen before (neither stored nor earlier in this batch)."""
    known = _known(session, column, [r.client_id for r in records if r.client_id is not None])
    fresh = []
    for index, record in enumerate(records):
        if record.client_id is None:
            fresh.append(index)
        elif record.client_id not in known:
            known.add(record.client_id)
            fresh.append(index)
    return fresh


def _store(
    session: Session, model: Any, column: Any, records: Sequence[Incoming], actor: str, now: datetime
) -> tuple[list[int], IngestResult]:
    # Taken before the duplicate check, so two writers cannot both find an event new (resolve re-takes it).
    customers_service.lock_resolution(session)
    fresh = _fresh(session, column, records)
    claims = [customers_service.Claim(keys=records[i].keys, customer_id=records[i].customer_id) for i in fresh]
    owners = customers_service.resolve(session, claims, actor=actor, now=now)
    rows = [_owned(records[i].values, owner, now) for i, owner in zip(fresh, owners, strict=True)]
    new_ids = _insert(session, model, rows)
    ids: list[int | None] = [None] * len(records)
    customer_ids: list[int | None] = [None] * len(records)
    for i, row_id, owner in zip(fresh, new_ids, owners, strict=True):
        ids[i], customer_ids[i] = row_id, owner
    return fresh, IngestResult(len(fresh), len(records) - len(fresh), ids, customer_ids)


def _owned(values: dict[str, Any], owner: int, now: datetime) -> dict[str, Any]:
    # Filled in place: records are built for this one call, and a copy per row cost more than the insert.
    values["customer_id"] = owner
    values["ingested_at"] = now
    return values


def _insert(session: Session, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    return insert_rows(session, table_of(model), rows)


def store_interactions(
    session: Session, records: Sequence[Incoming], *, actor: str, now: datetime | None = None
) -> IngestResult:
    """Store interactions all or nothing; re-sent `event_id`s count as duplicates and are skipped."""
    _, result = _store(session, Interaction, Interaction.event_id, records, actor, now or utcnow())
    return result


def store_orders(
    session: Session, records: Sequence[Incoming], *, actor: str, now: datetime | None = None
) -> IngestResult:
    """Store orders and their items all or nothing; re-sent `order_id`s count as duplicates."""
    fresh, result = _store(session, Order, Order.order_id, records, actor, now or utcnow())
    items = [{**item, "order_ref": result.ids[i]} for i in fresh for item in records[i].children]
    if items:
        session.execute(insert(table_of(OrderItem)), items)
    return result
