"""Interactions and orders through the REST API: validation, idempotency, timeline."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text


def order(order_id: str, **overrides: Any) -> dict[str, Any]:
    """A valid order for ann@example.com."""
    body = {
        "order_id": order_id,
        "identities": {"email": "ann@example.com"},
        "occurred_at": "2026-04-02T15:00:00+02:00",
        "amount": "1299.90",
        "currency": "czk",
        "channel": "web",
        "items": [{"product_id": "SKU-1", "quantity": 2, "unit_price": "649.95"}],
    }
    return {**body, **overrides}


def test_order_is_stored_once_with_items(client: TestClient, admin_headers: dict[str, str], db: Engine) -> None:
    first = client.post("/api/v1/orders", json=order("o-1"), headers=admin_headers)
    assert first.status_code == 201
    again = client.post("/api/v1/orders", json=order("o-1"), headers=admin_headers)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    stored = client.get(f"/api/v1/orders/{first.json()['id']}", headers=admin_headers).json()
    assert stored["currency"] == "CZK" and stored["amount"] == "1299.90"
    assert stored["items"] == [{"product_id": "SKU-1", "quantity": 2, "unit_price": "649.95"}]
    with db.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM order_items")) == 1


def test_order_batch_reports_bad_items_and_stores_nothing(
    client: TestClient, admin_headers: dict[str, str], db: Engine
) -> None:
    orders = [order("o-1"), order("o-2", currency="euro"), order("o-3", items=[{"product_id": "x", "quantity": 0}])]
    response = client.post("/api/v1/orders/batch", json={"orders": orders}, headers=admin_headers)
    assert response.status_code == 422
    details = response.json()["error"]["details"]
    assert [(d["index"], d["field"]) for d in details] == [(1, "currency"), (2, "items.0.quantity")]
    with db.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM orders")) == 0


def test_order_batch_counts_duplicates(client: TestClient, admin_headers: dict[str, str]) -> None:
    body = {"orders": [order("o-1"), order("o-2"), order("o-1")]}
    assert client.post("/api/v1/orders/batch", json=body, headers=admin_headers).json() == {
        "accepted": 2,
        "duplicates": 1,
    }


def test_interaction_validation_errors(client: TestClient, admin_headers: dict[str, str]) -> None:
    base = {"identities": {"email": "a@b.cz"}, "channel": "chat", "type": "question"}
    naive = client.post(
        "/api/v1/interactions", json={**base, "occurred_at": "2026-01-01T10:00:00"}, headers=admin_headers
    )
    assert naive.status_code == 422 and naive.json()["error"]["details"][0]["field"] == "occurred_at"
    early = {**base, "occurred_at": "2026-01-01T10:00:00Z", "responded_at": "2026-01-01T09:00:00Z"}
    assert client.post("/api/v1/interactions", json=early, headers=admin_headers).status_code == 422
    nobody = {"channel": "chat", "type": "question", "occurred_at": "2026-01-01T10:00:00Z"}
    assert "identities" in client.post("/api/v1/interactions", json=nobody, headers=admin_headers).text
    bad_phone = {**base, "identities": {"phone": "12"}, "occurred_at": "2026-01-01T10:00:00Z"}
    error = client.post("/api/v1/interactions", json=bad_phone, headers=admin_headers).json()["error"]
    assert error["code"] == "invalid_input" and "phone" in error["details"][0]["message"]
    unknown = {**base, "identities": {}, "customer_id": 999, "occurred_at": "2026-01-01T10:00:00Z"}
    missing = client.post("/api/v1/interactions", json=unknown, headers=admin_headers)
    assert missing.status_code == 422 and missing.json()["error"]["details"][0]["field"] == "customer_id"


def test_timeline_mixes_channels_and_orders_in_time_order(client: TestClient, admin_headers: dict[str, str]) -> None:
    events = [
        ("e1", "web", "2026-04-01T08:00:00Z", "awareness"),
        ("e2", "phone", "2026-04-03T08:00:00Z", "post_purchase"),
        ("e3", "social", "2026-03-30T08:00:00Z", "awareness"),
    ]
    for event_id, channel, when, stage in events:
        body = {
            "event_id": event_id,
            "identities": {"email": "ann@example.com"},
            "channel": channel,
            "journey_stage": stage,
            "type": "contact",
            "occurred_at": when,
            "text": "<b>hi</b>",
            "responded_at": when,
        }
        assert client.post("/api/v1/interactions", json=body, headers=admin_headers).status_code == 201
    client.post("/api/v1/orders", json=order("o-9"), headers=admin_headers)
    customer = client.get("/api/v1/customers", params={"identity": "email:ann@example.com"}, headers=admin_headers)
    customer_id = customer.json()["items"][0]["id"]
    page = client.get(f"/api/v1/customers/{customer_id}/timeline", headers=admin_headers).json()["items"]
    assert [(e["kind"], e["channel"]) for e in page] == [
        ("interaction", "phone"),
        ("order", "web"),
        ("interaction", "web"),
        ("interaction", "social"),
    ]
    second = client.get(
        f"/api/v1/customers/{customer_id}/timeline", params={"limit": 2, "offset": 2}, headers=admin_headers
    ).json()
    assert [e["channel"] for e in second["items"]] == ["web", "social"] and not second["has_more"]
    first = client.get(f"/api/v1/customers/{customer_id}/timeline", params={"limit": 3}, headers=admin_headers)
    assert first.json()["has_more"]


def test_unknown_ids_answer_404_json(client: TestClient, admin_headers: dict[str, str]) -> None:
    for path in ("/api/v1/customers/77", "/api/v1/interactions/77", "/api/v1/orders/77"):
        response = client.get(path, headers=admin_headers)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert client.post("/api/v1/merges/5/undo", headers=admin_headers).status_code == 404


def test_batch_bodies_read_as_json_text(client: TestClient, admin_headers: dict[str, str]) -> None:
    broken = client.post("/api/v1/orders/batch", content=b'{"orders": [', headers=admin_headers)
    assert broken.status_code == 422 and broken.json()["error"]["code"] == "invalid_input"
    refused = client.post("/api/v1/interactions/batch", content=b"{}", headers={"Authorization": "Bearer nope"})
    assert refused.status_code == 401
    paths = client.get("/openapi.json").json()
    body = paths["paths"]["/api/v1/interactions/batch"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/InteractionBatch"}
    assert {"InteractionBatch", "InteractionIn", "OrderBatch"} <= set(paths["components"]["schemas"])
