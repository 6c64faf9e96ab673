"""Customers: the one way other domains, the API, the CLI and the library reach profiles."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, insert, or_, select
from sqlalchemy.orm import Session

from cxm.core.db import utcnow
from cxm.core.errors import NotFound
from cxm.core.schemas import Page
from cxm.core.timeline import TimelineEntry, customer_timeline, register_source
from cxm.customers.attributes import AttributeText
from cxm.customers.identities import Key, is_identity_kind, normalise, normalise_all, parse_reference
from cxm.customers.keysets import KeySets, RecordKeys
from cxm.customers.merging import current_customer, lock_resolution, merge_customers, merge_history, undo_merge
from cxm.customers.models import Consent, Customer, Identity, Merge
from cxm.customers.privacy import (
    Purpose,
    cluster,
    consent_state,
    erase_person,
    export_person,
    has_consent,
    record_consent,
)
from cxm.customers.resolution import Claim, KnownOwners, resolve, resolve_keys
from cxm.customers.schemas import CustomerRead, CustomerSummary, CustomerUpsert

__all__ = [
    "Claim",
    "Key",
    "KeySets",
    "KnownOwners",
    "Purpose",
    "RecordKeys",
    "cluster",
    "consent_state",
    "count_customers",
    "current_customer",
    "customer_timeline",
    "erase_person",
    "export_person",
    "find_by_identity",
    "has_consent",
    "is_identity_kind",
    "lock_resolution",
    "merge_customers",
    "merge_history",
    "normalise",
    "normalise_all",
    "read_customer",
    "record_consent",
    "refused",
    "resolve",
    "resolve_keys",
    "search_customers",
    "undo_merge",
    "upsert_customers",
    "usable_customer_ids",
]


def _apply_traits(customer: Customer, traits: dict[str, Any]) -> None:
    for trait, value in traits.items():
        if trait == "attributes":
            customer.attributes = {**customer.attributes, **value}
        elif value is not None:
            setattr(customer, trait, value)


def upsert_customers(
    session: Session, items: Sequence[CustomerUpsert], *, actor: str, now: datetime | None = None
) -> list[int]:
    """Create or update customers by identity (merging profiles they link); returns their ids."""
    now = now or utcnow()
    claims = [Claim(keys=tuple(sorted(item.identities.items())), traits=item.traits()) for item in items]
    ids = resolve(session, claims, actor=actor, now=now)
    loaded = _load(session, ids)
    for item, customer_id in zip(items, ids, strict=True):
        _apply_traits(loaded[customer_id], item.traits())
    _add_consents(session, items, ids, now)
    session.flush()
    return ids


def _load(session: Session, ids: Sequence[int]) -> dict[int, Customer]:
    wanted = sorted(set(ids))
    loaded: dict[int, Customer] = {}
    for start in range(0, len(wanted), 5000):
        chunk = wanted[start : start + 5000]
        loaded.update({c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(chunk)))})
    return loaded


def _add_consents(session: Session, items: Sequence[CustomerUpsert], ids: Sequence[int], now: datetime) -> None:
    rows = [
        {
            "customer_id": customer_id,
            "purpose": c.purpose.value,
            "granted": c.granted,
            "source": c.source,
            "recorded_at": c.at or now,
        }
        for item, customer_id in zip(items, ids, strict=True)
        for c in item.consents
    ]
    if rows:
        session.execute(insert(Consent), rows)


def find_by_identity(session: Session, reference: str) -> Customer:
    """The live customer owning an identity given as `kind:value`."""
    kind, value = parse_reference(reference)
    owner = session.scalar(select(Identity.customer_id).where(Identity.kind == kind, Identity.value == value))
    if owner is None:
        raise NotFound(f"no customer with identity {kind}:{value}")
    return current_customer(session, owner)


def _identities(session: Session, ids: Sequence[int]) -> dict[int, list[dict[str, str]]]:
    found: dict[int, list[dict[str, str]]] = {i: [] for i in ids}
    rows = session.execute(
        select(Identity.customer_id, Identity.kind, Identity.value)
        .where(Identity.customer_id.in_(ids))
        .order_by(Identity.kind, Identity.value)
    )
    for owner, kind, value in rows:
        found[owner].append({"kind": kind, "value": value})
    return found


def search_customers(session: Session, *, q: str | None, limit: int, offset: int) -> Page[CustomerSummary]:
    """Live customers whose name or any identity contains `q`, by id."""
    query = select(Customer).where(Customer.merged_into_id.is_(None), Customer.erased_at.is_(None))
    if q and q.strip():
        needle = f"%{q.strip().lower()}%"
        by_identity = select(Identity.customer_id).where(func.lower(Identity.value).like(needle))
        query = query.where(or_(func.lower(Customer.name).like(needle), Customer.id.in_(by_identity)))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(session.scalars(query.order_by(Customer.id).limit(limit).offset(offset)))
    identities = _identities(session, [row.id for row in rows])
    items = [CustomerSummary.model_validate({**_traits(row), "identities": identities[row.id]}) for row in rows]
    return Page[CustomerSummary](items=items, total=total, limit=limit, offset=offset)


def _traits(customer: Customer) -> dict[str, Any]:
    names = (
        "id",
        "name",
        "language",
        "country",
        "segment",
        "attributes",
        "merged_into_id",
        "created_at",
        "updated_at",
        "erased_at",
    )
    return {name: getattr(customer, name) for name in names}


def read_customer(session: Session, customer_id: int) -> CustomerRead:
    """A customer as stored (a merged-away id shows where it went), with identities and merges."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    return CustomerRead.model_validate(
        {
            **_traits(customer),
            "identities": _identities(session, [customer.id])[customer.id],
            "consents": list(consent_state(session, customer.id).values()),
            "merges": merge_history(session, customer.id),
        }
    )


def timeline(session: Session, customer_id: int, *, limit: int, offset: int) -> list[TimelineEntry]:
    """Everything that happened to a customer (and the profiles merged into it), newest first."""
    return customer_timeline(session, cluster(session, customer_id), limit=limit, offset=offset)


def _merge_entries(session: Session, customer_ids: Sequence[int], limit: int) -> list[TimelineEntry]:
    rows = session.scalars(
        select(Merge)
        .where(or_(Merge.survivor_id.in_(customer_ids), Merge.merged_id.in_(customer_ids)))
        .order_by(Merge.created_at.desc(), Merge.id.desc())
        .limit(limit)
    )
    return [
        TimelineEntry(
            kind="merge",
            id=row.id,
            occurred_at=row.created_at,
            channel=None,
            summary=f"profile {row.merged_id} merged into {row.survivor_id}",
            data={"reason": row.reason, "actor": row.actor, "undone_at": row.undone_at},
        )
        for row in rows
    ]


register_source("merges", _merge_entries)


def count_customers(session: Session) -> int:
    """Live (not merged-away, not erased) customers."""
    query = (
        select(func.count())
        .select_from(Customer)
        .where(Customer.merged_into_id.is_(None), Customer.erased_at.is_(None))
    )
    return session.scalar(query) or 0


def usable_customer_ids(session: Session, ids: Iterable[int]) -> set[int]:
    """Which of `ids` are customers that can take new records (live or merged-away, not erased)."""
    wanted = sorted(set(ids))
    found: set[int] = set()
    for start in range(0, len(wanted), 5000):
        found.update(
            session.scalars(
                select(Customer.id).where(Customer.id.in_(wanted[start : start + 5000]), Customer.erased_at.is_(None))
            )
        )
    return found


def refused(session: Session, customer_ids: Iterable[int], purpose: str) -> set[int]:
    """Which of `customer_ids` have revoked `purpose` (their newest decision for it is a refusal)."""
    wanted = sorted(set(customer_ids))
    found: set[int] = set()
    for start in range(0, len(wanted), 2000):
        chunk = wanted[start : start + 2000]
        newest = (
            select(Consent.customer_id, Consent.granted)
            .where(Consent.customer_id.in_(chunk), Consent.purpose == purpose)
            .order_by(Consent.customer_id, Consent.recorded_at, Consent.id)
        )
        decisions = {owner: granted for owner, granted in session.execute(newest)}
        found.update(owner for owner, granted in decisions.items() if not granted)
    return found


def segments(session: Session) -> list[str]:
    """The customer segments in use, sorted (for filter menus)."""
    rows = session.scalars(select(Customer.segment).where(Customer.segment.is_not(None)).distinct())
    return sorted(str(row) for row in rows if row)


def attribute_names(session: Session, newest: int = 1_000) -> list[str]:
    """The attribute names the newest customers' profiles carry, sorted (a hint for the attribute filter)."""
    recent = select(Customer.attributes).order_by(Customer.id.desc()).limit(newest)
    return sorted({str(name) for attributes in session.scalars(recent) for name in attributes})


def customers_with_attribute(key: str, value: str) -> Select[int]:
    """Ids of the customers whose attribute `key` reads `value` (as analytics shows it), as a subquery."""
    return select(Customer.id).where(AttributeText(Customer.attributes, key) == value)


def erased_customers() -> Select[int]:
    """The ids of erased people, as a subquery for other domains' filters (their anonymised rows left out)."""
    return select(Customer.id).where(Customer.erased_at.is_not(None))


def customers_in_segment(segment: str) -> Select[int]:
    """Ids of the customers of a segment, as a subquery other domains filter by."""
    return select(Customer.id).where(Customer.segment == segment)


__all__ += ["customers_in_segment", "erased_customers", "segments"]
