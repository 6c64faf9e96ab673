"""Bulk ingest of interactions and orders: dedupe by client id, resolve identities, insert in bulk."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import insert
from sqlalchemy.orm import Session

from cxm.core.bulk import Column, insert_columns, new_ids, rows_matching, table_of
from cxm.core.db import utcnow
from cxm.customers import service as customers_service
from cxm.interactions.models import Interaction, Order, OrderItem
from cxm.interactions.texts import queue_text_analysis

Key = customers_service.Key


@dataclass(slots=True)
class Incoming:
    """One record to store: its column values, who it concerns, and its idempotency key."""

    values: dict[str, Any]
    keys: tuple[Key, ...]
    customer_id: int | None = None
    client_id: str | None = None
    children: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class IncomingBatch:
    """Records to store, column by column: values, whom each concerns, idempotency keys, child rows."""

    values: dict[str, Column]
    keys: Sequence[tuple[Key, ...]]
    customer_ids: Sequence[int | None]
    client_ids: Sequence[str | None]
    children: Sequence[list[dict[str, Any]]] = ()

    @classmethod
    def of(cls, records: Sequence[Incoming]) -> IncomingBatch:
        """The records as columns (named by the first record's values)."""
        names = list(records[0].values) if records else []
        return cls(
            values={name: [r.values[name] for r in records] for name in names},
            keys=[r.keys for r in records],
            customer_ids=[r.customer_id for r in records],
            client_ids=[r.client_id for r in records],
            children=[r.children for r in records],
        )

    @property
    def size(self) -> int:
        """How many records."""
        return len(self.keys)

    def take(self, indexes: list[int]) -> IncomingBatch:
        """Only the records at `indexes`, in that order."""
        if len(indexes) == self.size:
            return self
        return IncomingBatch(
            values={name: _taken(column, indexes) for name, column in self.values.items()},
            keys=_taken(self.keys, indexes),
            customer_ids=_taken(self.customer_ids, indexes),
            client_ids=_taken(self.client_ids, indexes),
            children=_taken(self.children, indexes) if self.children else (),
        )


def _taken(column: Any, indexes: list[int]) -> Any:
    if isinstance(column, customers_service.RecordKeys):
        return column.take(indexes)
    if isinstance(column, pa.Array):
        return column.take(pa.array(indexes, pa.int64()))
    return [column[i] for i in indexes]


@dataclass
class IngestResult:
    """How many records were stored, how many were re-sent, and each record's row (None if duplicate)."""

    accepted: int
    duplicates: int
    ids: list[int | None]
    customer_ids: list[int | None]


def _known(session: Session, column: Any, client_ids: list[str]) -> set[str]:
    return {row[0] for row in rows_matching(session, column.table, [column.name], column.name, client_ids)}


def _fresh(session: Session, column: Any, client_ids: Sequence[str | None]) -> list[int]:
    """Indexes of records not seen before (neither stored nor earlier in this batch)."""
    known = _known(session, column, [c for c in client_ids if c is not None])
    if not known and None not in client_ids and len(set(client_ids)) == len(client_ids):
        return list(range(len(client_ids)))  # the usual import batch: all new, all different (no loop per record)
    fresh = []
    for index, client_id in enumerate(client_ids):
        if client_id is None:
            fresh.append(index)
        elif client_id not in known:
            known.add(client_id)
            fresh.append(index)
    return fresh


def _store(
    session: Session,
    model: Any,
    column: Any,
    batch: IncomingBatch,
    actor: str,
    now: datetime,
    known: customers_service.KnownOwners | None,
) -> tuple[list[int], IngestResult]:
    # Taken before the duplicate check, so two writers cannot both find an event new (resolve re-takes it).
    customers_service.lock_resolution(session)
    fresh = _fresh(session, column, batch.client_ids)
    chosen = batch.take(fresh)
    # Ids and text jobs first: on PostgreSQL an import's COPYs (new customers, identities, the rows) then run
    # back to back in the background while the next batch is read, with no statement in between to wait.
    row_ids = new_ids(session, table_of(model), len(fresh)) if fresh else []
    if row_ids and model is Interaction and "text" in chosen.values:
        queue_text_analysis(session, row_ids, chosen.values["text"])
    owners = customers_service.resolve_keys(
        session, chosen.keys, chosen.customer_ids, actor=actor, now=now, known=known
    )
    owned = {**chosen.values, "customer_id": owners, "ingested_at": [now] * len(owners)}
    if row_ids:
        insert_columns(session, table_of(model), owned, ids=row_ids)
    if len(fresh) == batch.size:  # every record new (`fresh` is in order)
        return fresh, IngestResult(len(fresh), 0, list(row_ids), list(owners))
    ids: list[int | None] = [None] * batch.size
    customer_ids: list[int | None] = [None] * batch.size
    for i, row_id, owner in zip(fresh, row_ids, owners, strict=True):
        ids[i], customer_ids[i] = row_id, owner
    return fresh, IngestResult(len(fresh), batch.size - len(fresh), ids, customer_ids)


def store_interaction_batch(
    session: Session,
    batch: IncomingBatch,
    *,
    actor: str,
    now: datetime | None = None,
    known: customers_service.KnownOwners | None = None,
) -> IngestResult:
    """Store interactions given as columns, all or nothing; re-sent `event_id`s count as duplicates.

    `known`: identity owners carried from batch to batch of one transaction (an import).
    """
    _, result = _store(session, Interaction, Interaction.event_id, batch, actor, now or utcnow(), known)
    return result


def store_interactions(
    session: Session, records: Sequence[Incoming], *, actor: str, now: datetime | None = None
) -> IngestResult:
    """Store interactions all or nothing; re-sent `event_id`s count as duplicates and are skipped."""
    return store_interaction_batch(session, IncomingBatch.of(records), actor=actor, now=now)


def store_order_batch(
    session: Session,
    batch: IncomingBatch,
    *,
    actor: str,
    now: datetime | None = None,
    known: customers_service.KnownOwners | None = None,
) -> IngestResult:
    """Store orders (given as columns) and their items all or nothing; re-sent `order_id`s count as duplicates."""
    fresh, result = _store(session, Order, Order.order_id, batch, actor, now or utcnow(), known)
    items = [{**item, "order_ref": result.ids[i]} for i in fresh for item in batch.children[i]]
    if items:
        session.execute(insert(table_of(OrderItem)), items)
    return result


def store_orders(
    session: Session, records: Sequence[Incoming], *, actor: str, now: datetime | None = None
) -> IngestResult:
    """Store orders and their items all or nothing; re-sent `order_id`s count as duplicates."""
    return store_order_batch(session, IncomingBatch.of(records), actor=actor, now=now)
