"""Consent per purpose, export of everything held about a person, and erasure."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, or_, select, update
from sqlalchemy.orm import Session

from cxm.core.db import utcnow
from cxm.core.errors import Conflict, InvalidInput
from cxm.customers.merging import current_customer, lock_resolution
from cxm.customers.models import Consent, Customer, Identity, Merge, Tombstone
from cxm.customers.ownership import owned_tables, personal_columns


class Purpose(enum.StrEnum):
    """What a customer may consent to."""

    marketing_email = "marketing_email"
    surveys = "surveys"
    profiling = "profiling"


def record_consent(
    session: Session, *, customer_id: int, purpose: str, granted: bool, source: str, at: datetime | None = None
) -> Consent:
    """Record a consent decision; the newest one per purpose is in force."""
    if purpose not in Purpose.__members__:
        raise InvalidInput(f"unknown consent purpose '{purpose}'", details={"allowed": list(Purpose)})
    customer = current_customer(session, customer_id)
    consent = Consent(
        customer_id=customer.id, purpose=purpose, granted=granted, source=source, recorded_at=at or utcnow()
    )
    session.add(consent)
    session.flush()
    return consent


def consent_state(session: Session, customer_id: int) -> dict[str, Consent]:
    """The decision in force for each purpose that has one."""
    rows = session.scalars(
        select(Consent).where(Consent.customer_id == customer_id).order_by(Consent.recorded_at, Consent.id)
    )
    return {row.purpose: row for row in rows}


def has_consent(session: Session, customer_id: int, purpose: str) -> bool:
    """Whether the purpose is granted and not revoked."""
    decision = consent_state(session, customer_id).get(purpose)
    return bool(decision and decision.granted)


def cluster(session: Session, customer_id: int) -> list[int]:
    """The live profile and every profile ever merged into it."""
    ids = [current_customer(session, customer_id).id]
    frontier = list(ids)
    while frontier:
        frontier = list(session.scalars(select(Customer.id).where(Customer.merged_into_id.in_(frontier))))
        ids.extend(frontier)
    return ids


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, (str, int, float, bool, dict, list)):
        return value
    return str(value)


def export_person(session: Session, customer_id: int) -> dict[str, Any]:
    """Everything held about a person, table by table, as plain JSON values."""
    ids = cluster(session, customer_id)
    held: dict[str, Any] = {"customer_id": ids[0], "profiles": ids, "exported_at": utcnow().isoformat()}
    tables: list[Table] = [cast(Table, Customer.__table__), *owned_tables(), cast(Table, Merge.__table__)]
    for table in tables:
        key = table.c.id if table.name == "customers" else table.c.get("customer_id")
        where = key.in_(ids) if key is not None else or_(table.c.survivor_id.in_(ids), table.c.merged_id.in_(ids))
        rows = session.execute(select(table).where(where).order_by(table.c.id)).mappings()
        held[str(table.name)] = [{k: _plain(v) for k, v in row.items()} for row in rows]
    return held


def _blank(table: Any, where: Any, session: Session) -> None:
    columns = personal_columns(table)
    values: dict[str, Any] = {column.name: ({} if column.name == "attributes" else None) for column in columns}
    if values:
        session.execute(update(table).where(where).values(**values))


def _forget(table: Table, where: Any, session: Session) -> None:
    """Rows derived from the person (marked `info={"erasure": "delete"}`) are deleted; others are blanked."""
    if table.info.get("erasure") == "delete":
        session.execute(delete(table).where(where))
    else:
        _blank(table, where, session)


def erase_person(session: Session, customer_id: int, *, actor: str, now: datetime | None = None) -> list[int]:
    """Remove a person's personal data everywhere and leave tombstones; returns the erased ids."""
    lock_resolution(session)
    now = now or utcnow()
    live = current_customer(session, customer_id)
    if live.erased_at is not None:
        raise Conflict(f"customer {live.id} was already erased")
    ids = cluster(session, customer_id)
    session.flush()
    session.execute(delete(Identity).where(Identity.customer_id.in_(ids)))
    session.execute(delete(Consent).where(Consent.customer_id.in_(ids)))
    for table in owned_tables():
        _forget(table, table.c.customer_id.in_(ids), session)
    _blank(Customer.__table__, Customer.id.in_(ids), session)
    session.execute(
        update(Merge)
        .where(or_(Merge.survivor_id.in_(ids), Merge.merged_id.in_(ids)))
        .values(reason="(erased)", survivor_before={})
    )
    session.execute(update(Customer).where(Customer.id.in_(ids)).values(erased_at=now))
    session.add_all(Tombstone(customer_id=i, erased_at=now, requested_by=actor) for i in ids)
    session.flush()
    session.expire_all()
    return ids
