"""Merge two customers and undo a merge, recording who, when, why and what moved."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from cxm.core.db import utcnow
from cxm.core.errors import Conflict, InvalidInput, NotFound
from cxm.customers.models import Customer, Merge
from cxm.customers.ownership import owned_tables

TRAITS = ("name", "language", "country", "segment", "attributes")
# Serialises changes of identity ownership (resolution, merge, undo, erasure) across PostgreSQL sessions, so
# two batches cannot both create a profile for the same new e-mail, and an import's remembered owners
# (resolution.KnownOwners) stay true. SQLite serialises writers already (BEGIN IMMEDIATE).
RESOLUTION_LOCK = 72_002_100


def lock_resolution(session: Session) -> None:
    """Serialise identity resolution with other writers until this transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": RESOLUTION_LOCK})


def current_customer(session: Session, customer_id: int) -> Customer:
    """The live profile for an id, following merges to the survivor."""
    customer = session.get(Customer, customer_id)
    seen = set()
    while customer is not None and customer.merged_into_id is not None and customer.id not in seen:
        seen.add(customer.id)
        customer = session.get(Customer, customer.merged_into_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    return customer


def _move_rows(session: Session, source: int, target: int) -> dict[str, list[int]]:
    moved: dict[str, list[int]] = {}
    for table in owned_tables():
        ids = list(session.scalars(select(table.c.id).where(table.c.customer_id == source)))
        if ids:
            session.execute(update(table).where(table.c.customer_id == source).values(customer_id=target))
            moved[table.name] = ids
    return moved


def _fill_traits(survivor: Customer, merged: Customer) -> None:
    for trait in ("name", "language", "country", "segment"):
        if getattr(survivor, trait) is None:
            setattr(survivor, trait, getattr(merged, trait))
    survivor.attributes = {**merged.attributes, **survivor.attributes}


def merge_customers(
    session: Session, *, survivor_id: int, merged_id: int, actor: str, reason: str, now: datetime | None = None
) -> Merge:
    """Merge `merged_id` into `survivor_id`: rows move, traits fill gaps, the merge is recorded."""
    lock_resolution(session)
    survivor = current_customer(session, survivor_id)
    merged = current_customer(session, merged_id)
    if survivor.id == merged.id:
        raise InvalidInput(f"customers {survivor_id} and {merged_id} are already one profile")
    if survivor.erased_at is not None or merged.erased_at is not None:
        raise Conflict("an erased profile cannot be merged")
    before = {trait: getattr(survivor, trait) for trait in TRAITS}
    session.flush()
    moved = _move_rows(session, merged.id, survivor.id)
    _fill_traits(survivor, merged)
    merged.merged_into_id = survivor.id
    record = Merge(
        survivor_id=survivor.id,
        merged_id=merged.id,
        actor=actor,
        reason=reason,
        moved=moved,
        survivor_before=before,
        created_at=now or utcnow(),
    )
    session.add(record)
    session.flush()
    return record


def _latest_merge_into(session: Session, survivor_id: int) -> int | None:
    return session.scalar(
        select(Merge.id)
        .where(Merge.survivor_id == survivor_id, Merge.undone_at.is_(None))
        .order_by(Merge.id.desc())
        .limit(1)
    )


def _check_undoable(session: Session, record: Merge) -> tuple[Customer, Customer]:
    if record.undone_at is not None:
        raise Conflict(f"merge {record.id} was already undone")
    survivor = session.get(Customer, record.survivor_id)
    merged = session.get(Customer, record.merged_id)
    if survivor is None or merged is None or survivor.erased_at is not None:
        raise Conflict(f"merge {record.id} can no longer be undone: a profile was erased")
    if survivor.merged_into_id is not None:
        raise Conflict(f"undo merge of customer {survivor.id} into another profile first")
    if _latest_merge_into(session, survivor.id) != record.id:
        raise Conflict(f"undo the later merges into customer {survivor.id} first")
    return survivor, merged


def _restore_rows(session: Session, moved: dict[str, Any], target: int) -> None:
    tables = {table.name: table for table in owned_tables()}
    for name, ids in moved.items():
        table = tables[name]
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            session.execute(update(table).where(table.c.id.in_(chunk)).values(customer_id=target))


def undo_merge(session: Session, *, merge_id: int, actor: str, now: datetime | None = None) -> Merge:
    """Undo a merge: both profiles and their rows are as they were before it."""
    lock_resolution(session)
    record = session.get(Merge, merge_id)
    if record is None:
        raise NotFound(f"no merge {merge_id}")
    survivor, merged = _check_undoable(session, record)
    session.flush()
    _restore_rows(session, record.moved, merged.id)
    for trait, value in record.survivor_before.items():
        setattr(survivor, trait, value)
    merged.merged_into_id = None
    record.undone_at = now or utcnow()
    record.undone_by = actor
    session.flush()
    return record


def merge_history(session: Session, customer_id: int) -> list[Merge]:
    """Every merge this profile took part in, oldest first."""
    query = select(Merge).where((Merge.survivor_id == customer_id) | (Merge.merged_id == customer_id))
    return list(session.scalars(query.order_by(Merge.id)))
