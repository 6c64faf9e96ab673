"""/api/v1/customers and /api/v1/merges."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from cxm.core.auth import Merger, PrivacyOfficer, Reader, SessionDep, Writer
from cxm.core.schemas import BatchResult, Page
from cxm.customers import service
from cxm.customers.schemas import (
    ConsentChange,
    CustomerBatch,
    CustomerRead,
    CustomerSummary,
    CustomerUpsert,
    MergeRead,
    MergeRequest,
    TimelineEntryRead,
    TimelinePage,
)

router = APIRouter(tags=["customers"])
Limit = Annotated[int, Query(ge=1, le=500)]


@router.post("/customers", response_model=CustomerRead)
def upsert_customer(body: CustomerUpsert, session: SessionDep, who: Writer) -> CustomerRead:
    """Create or update one customer found by its identities."""
    [customer_id] = service.upsert_customers(session, [body], actor=who.actor)
    return service.read_customer(session, customer_id)


@router.post("/customers/batch", response_model=BatchResult)
def upsert_customers(body: CustomerBatch, session: SessionDep, who: Writer) -> BatchResult:
    """Create or update up to 10,000 customers, all or nothing."""
    ids = service.upsert_customers(session, body.customers, actor=who.actor)
    return BatchResult(accepted=len(ids), duplicates=0)


@router.get("/customers", response_model=Page[CustomerSummary])
def list_customers(
    session: SessionDep,
    _: Reader,
    identity: str | None = None,
    q: str | None = None,
    limit: Limit = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[CustomerSummary]:
    """Find customers by one identity (`email:ann@example.com`) or by name/identity text."""
    if identity is None:
        return service.search_customers(session, q=q, limit=limit, offset=offset)
    found = service.read_customer(session, service.find_by_identity(session, identity).id)
    return Page[CustomerSummary](items=[found], total=1, limit=limit, offset=0)


@router.get("/customers/{customer_id}", response_model=CustomerRead)
def get_customer(customer_id: int, session: SessionDep, _: Reader) -> CustomerRead:
    """A customer's traits, identities, consent and merge history."""
    return service.read_customer(session, customer_id)


@router.get("/customers/{customer_id}/timeline", response_model=TimelinePage)
def customer_timeline(
    customer_id: int,
    session: SessionDep,
    _: Reader,
    limit: Limit = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> TimelinePage:
    """Everything that happened to this customer in every channel, newest first."""
    entries = service.timeline(session, customer_id, limit=limit + 1, offset=offset)
    items = [TimelineEntryRead.model_validate(entry, from_attributes=True) for entry in entries[:limit]]
    return TimelinePage(items=items, limit=limit, offset=offset, has_more=len(entries) > limit)


@router.post("/customers/{customer_id}/merge", response_model=MergeRead)
def merge_customer(customer_id: int, body: MergeRequest, session: SessionDep, who: Merger) -> Any:
    """Merge another profile into this one (recorded; can be undone)."""
    return service.merge_customers(
        session, survivor_id=customer_id, merged_id=body.other_id, actor=who.actor, reason=body.reason
    )


@router.post("/merges/{merge_id}/undo", response_model=MergeRead)
def undo_merge(merge_id: int, session: SessionDep, who: Merger) -> Any:
    """Restore both profiles of a merge and their rows."""
    return service.undo_merge(session, merge_id=merge_id, actor=who.actor)


@router.post("/customers/{customer_id}/consents", response_model=CustomerRead)
def change_consent(customer_id: int, body: ConsentChange, session: SessionDep, _: Writer) -> CustomerRead:
    """Record that a customer granted or revoked consent for a purpose."""
    consent = service.record_consent(
        session, customer_id=customer_id, purpose=body.purpose, granted=body.granted, source=body.source, at=body.at
    )
    return service.read_customer(session, consent.customer_id)


@router.get("/customers/{customer_id}/export")
def export_customer(customer_id: int, session: SessionDep, _: PrivacyOfficer) -> dict[str, Any]:
    """Everything held about the person (subject access request)."""
    return service.export_person(session, customer_id)


@router.delete("/customers/{customer_id}")
def erase_customer(customer_id: int, session: SessionDep, who: PrivacyOfficer) -> dict[str, Any]:
    """Erase the person's personal data everywhere, leaving tombstones."""
    erased = service.erase_person(session, customer_id, actor=who.actor)
    return {"erased": erased}
