"""Customer upserts, search and pagination through the API."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_batch_upsert_then_search_by_name_and_identity(client: TestClient, admin_headers: dict[str, str]) -> None:
    people = [
        {
            "identities": {"email": f"user{i}@example.com"},
            "name": f"Tomasz Nowak {i}",
            "language": "pl",
            "country": "pl",
        }
        for i in range(7)
    ]
    people.append({"identities": {"phone": "+385912345678"}, "name": "Ivana Horvat", "language": "hr"})
    response = client.post("/api/v1/customers/batch", json={"customers": people}, headers=admin_headers)
    assert response.json() == {"accepted": 8, "duplicates": 0}
    page = client.get("/api/v1/customers", params={"q": "nowak", "limit": 3, "offset": 3}, headers=admin_headers)
    body = page.json()
    assert body["total"] == 7 and [c["name"] for c in body["items"]] == [f"Tomasz Nowak {i}" for i in (3, 4, 5)]
    assert body["items"][0]["country"] == "PL"
    by_phone = client.get("/api/v1/customers", params={"q": "385912"}, headers=admin_headers).json()
    assert [c["name"] for c in by_phone["items"]] == ["Ivana Horvat"]


def test_upsert_updates_traits_and_keeps_the_rest(client: TestClient, admin_headers: dict[str, str]) -> None:
    first = {"identities": {"email": "ann@example.com"}, "name": "Ann", "segment": "consumer", "attributes": {"a": 1}}
    created = client.post("/api/v1/customers", json=first, headers=admin_headers).json()
    update = {"identities": {"email": "ANN@example.com"}, "segment": "premium", "attributes": {"b": 2}}
    updated = client.post("/api/v1/customers", json=update, headers=admin_headers).json()
    assert updated["id"] == created["id"]
    assert (updated["name"], updated["segment"], updated["attributes"]) == ("Ann", "premium", {"a": 1, "b": 2})


def test_consent_via_api(client: TestClient, admin_headers: dict[str, str]) -> None:
    created = client.post(
        "/api/v1/customers", json={"identities": {"email": "ann@example.com"}}, headers=admin_headers
    ).json()
    change = {"purpose": "marketing_email", "granted": False, "source": "unsubscribe link"}
    after = client.post(f"/api/v1/customers/{created['id']}/consents", json=change, headers=admin_headers).json()
    assert [(c["purpose"], c["granted"], c["source"]) for c in after["consents"]] == [
        ("marketing_email", False, "unsubscribe link")
    ]
    bad = client.post(
        f"/api/v1/customers/{created['id']}/consents", json={**change, "purpose": "spam"}, headers=admin_headers
    )
    assert bad.status_code == 422


def test_unknown_identity_lookup_is_404(client: TestClient, admin_headers: dict[str, str]) -> None:
    response = client.get("/api/v1/customers", params={"identity": "email:nobody@example.com"}, headers=admin_headers)
    assert response.status_code == 404
    bad = client.get("/api/v1/customers", params={"identity": "nobody"}, headers=admin_headers)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_input"
