"""Merges and their undo, through the service layer on a real database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from cxm.core.errors import Conflict, InvalidInput
from cxm.customers import service
from cxm.customers.schemas import CustomerUpsert
from cxm.interactions import service as interactions_service
from cxm.interactions.schemas import InteractionIn

WHEN = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)


def customer(session: Session, name: str, **identities: str) -> int:
    """Upsert one customer and return its id."""
    [found] = service.upsert_customers(session, [CustomerUpsert(identities=identities, name=name)], actor="test")
    return found


def visit(session: Session, event_id: str, customer_id: int) -> None:
    """Store one interaction on a customer."""
    item = InteractionIn(customer_id=customer_id, event_id=event_id, channel="store", type="visit", occurred_at=WHEN)
    interactions_service.ingest_interactions(session, [item], actor="test")


def test_merge_fills_missing_traits_and_undo_restores_them(session: Session) -> None:
    ann = customer(session, "Ann", email="ann@example.com")
    other = customer(session, "Anna N.", phone="+48601234567")
    service.upsert_customers(
        session, [CustomerUpsert(identities={"phone": "+48601234567"}, segment="premium")], actor="test"
    )
    visit(session, "v1", other)
    merge = service.merge_customers(session, survivor_id=ann, merged_id=other, actor="agent:eva", reason="same person")
    survivor = service.read_customer(session, ann)
    assert (survivor.name, survivor.segment) == ("Ann", "premium")
    assert service.find_by_identity(session, "phone:+48601234567").id == ann
    assert service.read_customer(session, other).merged_into_id == ann

    service.undo_merge(session, merge_id=merge.id, actor="agent:eva")
    assert service.read_customer(session, ann).segment is None
    assert service.find_by_identity(session, "phone:+48601234567").id == other
    assert [
        e.data["event_id"] for e in service.timeline(session, other, limit=10, offset=0) if e.kind == "interaction"
    ] == ["v1"]


def test_merge_with_itself_is_refused(session: Session) -> None:
    ann = customer(session, "Ann", email="ann@example.com")
    with pytest.raises(InvalidInput):
        service.merge_customers(session, survivor_id=ann, merged_id=ann, actor="t", reason="r")


def test_undo_only_latest_merge_and_only_once(session: Session) -> None:
    a = customer(session, "A", email="a@example.com")
    b = customer(session, "B", email="b@example.com")
    c = customer(session, "C", email="c@example.com")
    first = service.merge_customers(session, survivor_id=a, merged_id=b, actor="t", reason="r")
    service.merge_customers(session, survivor_id=a, merged_id=c, actor="t", reason="r")
    with pytest.raises(Conflict, match="later merges"):
        service.undo_merge(session, merge_id=first.id, actor="t")
    latest = service.merge_history(session, a)[-1]
    service.undo_merge(session, merge_id=latest.id, actor="t")
    with pytest.raises(Conflict, match="already undone"):
        service.undo_merge(session, merge_id=latest.id, actor="t")
    service.undo_merge(session, merge_id=first.id, actor="t")
    assert service.find_by_identity(session, "email:b@example.com").id == b


def test_one_record_linking_three_profiles_merges_all_into_the_oldest(session: Session) -> None:
    ids = [customer(session, n, email=f"{n}@example.com") for n in ("x", "y", "z")]
    linking = CustomerUpsert(identities={"email": "y@example.com", "external_id": "crm-1"})
    service.upsert_customers(session, [linking], actor="test")
    both = CustomerUpsert(identities={"external_id": "crm-1", "email": "z@example.com"})
    [winner] = service.upsert_customers(session, [both], actor="test")
    assert winner == ids[1]
    everything = CustomerUpsert(identities={"email": "x@example.com", "external_id": "crm-1"})
    [oldest] = service.upsert_customers(session, [everything], actor="test")
    assert oldest == ids[0]
    assert {i.value for i in service.read_customer(session, oldest).identities} >= {
        "x@example.com",
        "y@example.com",
        "z@example.com",
    }
    assert service.count_customers(session) == 1


def test_consent_latest_decision_wins(session: Session) -> None:
    ann = customer(session, "Ann", email="ann@example.com")
    service.record_consent(session, customer_id=ann, purpose="surveys", granted=True, source="form", at=WHEN)
    later = WHEN.replace(day=2)
    service.record_consent(session, customer_id=ann, purpose="surveys", granted=False, source="e-mail", at=later)
    assert not service.has_consent(session, ann, "surveys")
    assert not service.has_consent(session, ann, "marketing_email")
    with pytest.raises(InvalidInput):
        service.record_consent(session, customer_id=ann, purpose="telepathy", granted=True, source="x")


def test_erased_profiles_take_no_merges_and_no_new_events(session: Session) -> None:
    ann = customer(session, "Ann", email="ann@example.com")
    bob = customer(session, "Bob", email="bob@example.com")
    service.erase_person(session, ann, actor="dpo")
    with pytest.raises(Conflict, match="erased"):
        service.merge_customers(session, survivor_id=bob, merged_id=ann, actor="t", reason="r")
    with pytest.raises(InvalidInput, match="erased"):
        visit(session, "late", ann)
    [again] = service.upsert_customers(session, [CustomerUpsert(identities={"email": "ann@example.com"})], actor="t")
    assert again not in (ann, bob)
