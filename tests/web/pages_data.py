"""A small company for the page tests, stored through the API: customers, interactions, NPS answers."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

HOSTILE = "<script>window.pwned = 1</script>"


def touchpoint(n: int, channel: str, stage: str, month: int) -> dict[str, Any]:
    """An inbound question of customer n, answered after half an hour; in a shop (one with a hostile name) when the
    channel is the store."""
    shop = {"store": HOSTILE if n == 1 else f"Shop {n % 3}"} if channel == "store" else {}
    return shop | {
        "event_id": f"e-{n}-{channel}-{month}",
        "identities": {"email": f"c{n}@example.com"},
        "channel": channel,
        "journey_stage": stage,
        "direction": "inbound",
        "type": "question",
        "occurred_at": f"2026-{month:02d}-05T10:00:00Z",
        "responded_at": f"2026-{month:02d}-05T10:30:00Z",
    }


def store_company(client: TestClient, headers: dict[str, str], customers: int = 30) -> None:
    """Customers c0..c{n-1} (c0 named with a script tag; every third a gold tier), their touchpoints and NPS answers
    over two months."""
    people = [
        {
            "identities": {"email": f"c{n}@example.com"},
            "name": HOSTILE if n == 0 else f"Customer {n}",
            "segment": "retail",
            "attributes": {"tier": "gold" if n % 3 == 0 else "silver"},
        }
        for n in range(customers)
    ]
    assert client.post("/api/v1/customers/batch", json={"customers": people}, headers=headers).status_code == 200
    items = [touchpoint(n, ("web", "store")[n % 2], "purchase", month) for n in range(customers) for month in (9, 10)]
    stored = client.post("/api/v1/interactions/batch", json={"interactions": items}, headers=headers)
    assert stored.status_code == 200, stored.text
    made = client.post("/api/v1/surveys/from-template/relationship-nps", headers=headers)
    assert made.status_code == 201, made.text
    for n in range(customers):
        for month in (9, 10):
            score = (n + month) % 11
            reason = HOSTILE if n == 0 else f"reason {n} {month}"
            body = {
                "survey": "relationship-nps",
                "identities": {"email": f"c{n}@example.com"},
                "channel": ("web", "store")[n % 2],
                "answers": {"nps": score, "reason": reason},
                "completed_at": f"2026-{month:02d}-06T10:00:00Z",
                "external_id": f"r-{n}-{month}",
            }
            answered = client.post("/api/v1/responses", json=body, headers=headers)
            assert answered.status_code == 201, answered.text
