"""The demo company: the same for a seed, covering every channel, stage and language, stored for real."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import phonenumbers
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from cxm import demo
from cxm.customers.schemas import normalised_identities

SMALL = {"customers": 60, "interactions": 600}
CURRENCY = {"CZ": "CZK", "PL": "PLN", "HR": "EUR", "RO": "RON", "GB": "GBP", "IE": "EUR"}


def rows(session: Session, sql: str) -> list[Any]:
    """The rows of a query, as tuples."""
    return [tuple(row) for row in session.execute(text(sql))]


def column(session: Session, sql: str) -> list[Any]:
    """The first column of a query."""
    return [row[0] for row in rows(session, sql)]


def moment(value: datetime | str) -> datetime:
    """A timestamp as read by raw SQL (SQLite gives text)."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def digest(session: Session) -> str:
    """A fingerprint of the company that ignores database ids (PostgreSQL sequences never roll back)."""
    parts = rows(
        session,
        "SELECT i.event_id, i.channel, i.type, i.occurred_at, i.text, c.name FROM interactions i"
        " JOIN customers c ON c.id = i.customer_id ORDER BY i.event_id",
    )
    parts += rows(session, "SELECT name, language, country, segment FROM customers ORDER BY 1, 2, 3, 4")
    parts += rows(session, "SELECT kind, value FROM identities ORDER BY kind, value")
    parts += rows(session, "SELECT order_id, amount, currency FROM orders ORDER BY order_id")
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def generated(session: Session, seed: int) -> tuple[demo.DemoSummary, str]:
    """Generate a small company for `seed`, fingerprint it, and roll it back."""
    summary = demo.generate(session, seed=seed, **SMALL)
    fingerprint = digest(session)
    session.rollback()
    session.begin()
    return summary, fingerprint


def test_same_seed_same_company_other_seed_another(session: Session) -> None:
    first, one = generated(session, 42)
    again, two = generated(session, 42)
    _, other = generated(session, 7)
    assert one == two
    assert (first.customers, first.orders, first.merges) == (again.customers, again.orders, again.merges)
    assert one != other


def test_company_covers_every_channel_stage_and_language(session: Session) -> None:
    summary = demo.generate(session, **SMALL)
    assert summary.interactions == 600 == column(session, "SELECT count(*) FROM interactions")[0]
    channels = set(column(session, "SELECT DISTINCT channel FROM interactions"))
    assert channels == {"store", "web", "app", "email", "phone", "chat", "social", "other"}
    assert set(column(session, "SELECT DISTINCT journey_stage FROM interactions")) == {
        "awareness",
        "purchase",
        "post_purchase",
    }
    assert set(column(session, "SELECT DISTINCT direction FROM interactions")) == {"inbound", "outbound"}
    assert {"cs", "pl", "hr", "ro", "en"} <= set(column(session, "SELECT DISTINCT language FROM customers"))
    assert {"consumer", "premium", "business"} <= set(column(session, "SELECT DISTINCT segment FROM customers"))


def test_orders_have_items_and_the_currency_of_their_country(session: Session) -> None:
    summary = demo.generate(session, **SMALL)
    assert summary.orders > 0
    assert column(session, "SELECT count(*) FROM orders") == [summary.orders]
    empty = "SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM order_items i WHERE i.order_ref = o.id)"
    assert column(session, empty) == [0]
    totals = rows(
        session,
        "SELECT o.amount, sum(i.quantity * i.unit_price) FROM orders o JOIN order_items i ON i.order_ref = o.id"
        " GROUP BY o.id, o.amount",
    )
    assert totals and all(abs(float(amount) - float(total)) < 0.005 for amount, total in totals)
    by_country = rows(
        session, "SELECT DISTINCT c.country, o.currency FROM orders o JOIN customers c ON c.id = o.customer_id"
    )
    assert by_country and all(CURRENCY[country] == currency for country, currency in by_country)


def test_phones_are_valid_for_the_customers_country(session: Session) -> None:
    demo.generate(session, **SMALL)
    phones = rows(
        session,
        "SELECT i.value, c.country FROM identities i JOIN customers c ON c.id = i.customer_id"
        " WHERE i.kind = 'phone' AND c.country IS NOT NULL",
    )
    assert len(phones) > 20
    for value, country in phones:
        number = phonenumbers.parse(value)
        assert phonenumbers.is_valid_number(number)
        assert phonenumbers.region_code_for_number(number) == country
        assert normalised_identities({"phone": value}) == {"phone": value}


def test_identity_resolution_merged_some_profiles(session: Session) -> None:
    summary = demo.generate(session, **SMALL)
    merges = column(session, "SELECT count(*) FROM merges")[0]
    assert 0 < summary.merges == merges < SMALL["customers"] * 0.15
    assert column(session, "SELECT count(*) FROM customers WHERE merged_into_id IS NOT NULL") == [merges]


def test_questions_have_varied_responses_and_texts(session: Session) -> None:
    demo.generate(session, customers=200, interactions=3000)
    contacts = rows(
        session,
        "SELECT responded_at, occurred_at, agent FROM interactions"
        " WHERE direction = 'inbound' AND channel IN ('phone', 'chat', 'email', 'social')"
        " AND type NOT IN ('newsletter_click', 'ad_click')",
    )
    answered = [(moment(r), moment(o), agent) for r, o, agent in contacts if r is not None]
    assert 0 < len(answered) < len(contacts)
    assert all(responded >= occurred and agent for responded, occurred, agent in answered)
    assert len({responded - occurred for responded, occurred, _ in answered}) > len(answered) // 2
    texts = column(session, "SELECT text FROM interactions WHERE text IS NOT NULL")
    assert any("&" in t or "<" in t or '"' in t for t in texts)
    assert any("ě" in t or "ř" in t for t in texts) and any("ł" in t or "ą" in t or "ę" in t for t in texts)


def test_many_touchpoints_asked_of_few_people_end_short_instead_of_drawing_forever() -> None:
    import random

    rng = random.Random(3)
    people = demo.draw_people(rng, 10)
    events = demo.draw_events(rng, people, 100_000)
    # Ten people cannot give 100,000 touchpoints before most of them leave: the draw stops with what stays.
    assert 0 < len(events) < 100_000
    assert [event.at for event in events] == sorted(event.at for event in events)
    assert len(demo.draw_events(random.Random(3), demo.draw_people(random.Random(3), 10), 200)) == 200


def test_consents_include_grants_and_revocations(session: Session) -> None:
    demo.generate(session, customers=200, interactions=200)
    decisions = set(rows(session, "SELECT purpose, granted FROM consents"))
    purposes = ("marketing_email", "surveys", "profiling")
    assert {(purpose, granted) for purpose in purposes for granted in (True, False)} <= decisions
    assert column(session, "SELECT count(*) FROM consents WHERE source = 'unsubscribe link'")[0] > 0


def test_progress_counts_up_to_its_total(session: Session) -> None:
    calls: list[tuple[int, int]] = []
    demo.generate(session, **SMALL, progress=lambda done, total: calls.append((done, total)))
    assert calls[0][0] == 0 and calls[-1][0] == calls[-1][1]
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_second_company_is_refused_and_reuse_makes_a_fresh_key(session: Session) -> None:
    first = demo.generate(session, **SMALL)
    with pytest.raises(demo.DemoDataExists):
        demo.generate(session, **SMALL)
    reused = demo.reuse(session)
    assert reused.existing and reused.api_key != first.api_key
    assert (reused.customers, reused.interactions, reused.orders) == (first.customers, 600, first.orders)
    assert "already has data" in reused.describe()


def test_api_key_explores_the_company(session: Session, client: TestClient) -> None:
    summary = demo.generate(session, **SMALL)
    session.commit()
    headers = {"Authorization": f"Bearer {summary.api_key}"}
    found = client.get("/api/v1/customers", params={"q": summary.example_query}, headers=headers)
    assert found.status_code == 200 and found.json()["total"] >= 1
    customer_id = found.json()["items"][0]["id"]
    timeline = client.get(f"/api/v1/customers/{customer_id}/timeline", headers=headers)
    assert timeline.status_code == 200 and timeline.json()["items"]
    described = summary.describe()
    assert "http://127.0.0.1:8000/docs" in described
    assert f'curl -H "Authorization: Bearer {summary.api_key}"' in described
