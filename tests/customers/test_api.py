"""Customer hub behaviour through the REST API, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.conftest import make_key


def interaction(event_id: str | None, **identities: str) -> dict[str, Any]:
    """A valid web interaction carrying `identities`."""
    body: dict[str, Any] = {
        "identities": identities,
        "channel": "web",
        "type": "visit",
        "journey_stage": "awareness",
        "occurred_at": "2026-03-01T10:00:00+01:00",
    }
    if event_id:
        body["event_id"] = event_id
    return body


def test_event_sent_twice_is_stored_once(client: TestClient, admin_headers: dict[str, str], db: Engine) -> None:
    first = client.post(
        "/api/v1/interactions", json=interaction("evt-1", email="ann@example.com"), headers=admin_headers
    )
    again = client.post(
        "/api/v1/interactions", json=interaction("evt-1", email="ann@example.com"), headers=admin_headers
    )
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == {**first.json(), "duplicate": True}
    with db.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM interactions")) == 1


def test_shared_email_lands_on_one_customer(client: TestClient, admin_headers: dict[str, str]) -> None:
    one = client.post("/api/v1/interactions", json=interaction("a", email="Ann@Example.com"), headers=admin_headers)
    two = client.post("/api/v1/interactions", json=interaction("b", email="ann@example.COM"), headers=admin_headers)
    assert one.json()["customer_id"] == two.json()["customer_id"]
    found = client.get("/api/v1/customers", params={"identity": "email:ANN@example.com"}, headers=admin_headers)
    assert found.json()["items"][0]["id"] == one.json()["customer_id"]


def test_linking_identities_merges_and_undo_restores(client: TestClient, admin_headers: dict[str, str]) -> None:
    ann = client.post(
        "/api/v1/interactions", json=interaction("a", email="ann@example.com"), headers=admin_headers
    ).json()["customer_id"]
    phone = client.post(
        "/api/v1/interactions", json=interaction("b", phone="+420 777 123 456"), headers=admin_headers
    ).json()["customer_id"]
    assert ann != phone
    link = client.post(
        "/api/v1/interactions",
        json=interaction("c", email="ann@example.com", phone="+420777123456"),
        headers=admin_headers,
    ).json()
    assert link["customer_id"] == ann
    merged = client.get(f"/api/v1/customers/{ann}", headers=admin_headers).json()
    assert {i["kind"] for i in merged["identities"]} == {"email", "phone"}
    [merge] = merged["merges"]
    assert merge["merged_id"] == phone and merge["actor"].startswith("apikey:")
    assert len(client.get(f"/api/v1/customers/{ann}/timeline", headers=admin_headers).json()["items"]) == 4

    undone = client.post(f"/api/v1/merges/{merge['id']}/undo", headers=admin_headers)
    assert undone.status_code == 200 and undone.json()["undone_at"]
    restored = client.get(f"/api/v1/customers/{phone}", headers=admin_headers).json()
    assert restored["merged_into_id"] is None
    assert [i["value"] for i in restored["identities"]] == ["+420777123456"]
    phone_events = client.get(f"/api/v1/customers/{phone}/timeline", headers=admin_headers).json()["items"]
    assert [e["data"]["event_id"] for e in phone_events if e["kind"] == "interaction"] == ["b"]
    assert [e["kind"] for e in phone_events].count("merge") == 1
    ann_events = client.get(f"/api/v1/customers/{ann}/timeline", headers=admin_headers).json()["items"]
    assert sorted(e["data"]["event_id"] for e in ann_events if e["kind"] == "interaction") == ["a", "c"]


def test_batch_with_one_bad_item_stores_nothing(client: TestClient, admin_headers: dict[str, str], db: Engine) -> None:
    items = [interaction(f"e{i}", email=f"p{i}@example.com") for i in range(5)]
    items[3]["channel"] = "pigeon"
    response = client.post("/api/v1/interactions/batch", json={"interactions": items}, headers=admin_headers)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert [(d["index"], d["field"]) for d in error["details"]] == [(3, "channel")]
    with db.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM interactions")) == 0
        assert connection.scalar(text("SELECT count(*) FROM customers")) == 0


def test_batch_counts_duplicates(client: TestClient, admin_headers: dict[str, str]) -> None:
    items = [interaction(f"e{i % 3}", email=f"p{i % 3}@example.com") for i in range(5)]
    response = client.post("/api/v1/interactions/batch", json={"interactions": items}, headers=admin_headers)
    assert response.json() == {"accepted": 3, "duplicates": 2}
    again = client.post("/api/v1/interactions/batch", json={"interactions": items}, headers=admin_headers)
    assert again.json() == {"accepted": 0, "duplicates": 5}


def test_erasure_leaves_no_personal_data(client: TestClient, admin_headers: dict[str, str], db: Engine) -> None:
    secrets = ["zuzana.kralova@example.cz", "+420777111222", "Zuzana Králová", "my parcel never arrived"]
    body = {
        "identities": {"email": secrets[0], "phone": secrets[1]},
        "name": secrets[2],
        "language": "cs",
        "consents": [{"purpose": "surveys", "granted": True, "source": "web form"}],
    }
    customer_id = client.post("/api/v1/customers", json=body, headers=admin_headers).json()["id"]
    event = {**interaction("x", email=secrets[0]), "text": secrets[3]}
    client.post("/api/v1/interactions", json=event, headers=admin_headers)
    client.post("/api/v1/interactions", json=interaction("y", email="other@example.com"), headers=admin_headers)
    other = client.get(
        "/api/v1/customers", params={"identity": "email:other@example.com"}, headers=admin_headers
    ).json()["items"][0]["id"]
    client.post(f"/api/v1/customers/{customer_id}/merge", json={"other_id": other}, headers=admin_headers)

    exported = client.get(f"/api/v1/customers/{customer_id}/export", headers=admin_headers).json()
    assert secrets[3] in str(exported) and secrets[2] in str(exported)
    assert client.delete(f"/api/v1/customers/{customer_id}", headers=admin_headers).status_code == 200

    dump = database_text(db)
    for secret in [*secrets, "other@example.com"]:
        assert secret.lower() not in dump
    with db.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM tombstones")) == 2
        assert connection.scalar(text("SELECT count(*) FROM interactions")) == 2


def database_text(db: Engine) -> str:
    """Every value of every row of every table, lower-cased, as one string."""
    from cxm.core.db import Base

    chunks = []
    with db.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(table.select()):
                chunks.append(" ".join(str(value) for value in row))
    return "\n".join(chunks).lower()


def test_roles_are_enforced(client: TestClient, db: Engine) -> None:
    viewer = {"Authorization": f"Bearer {make_key(db, 'viewer')}"}
    agent = {"Authorization": f"Bearer {make_key(db, 'agent')}"}
    assert client.get("/api/v1/customers").status_code == 401
    assert client.get("/api/v1/customers", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/api/v1/customers", headers=viewer).status_code == 200
    denied = client.post("/api/v1/interactions", json=interaction("z", email="a@b.cz"), headers=viewer)
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "forbidden"
    assert client.post("/api/v1/interactions", json=interaction("z", email="a@b.cz"), headers=agent).status_code == 201
    assert client.delete("/api/v1/customers/1", headers=agent).status_code == 403
