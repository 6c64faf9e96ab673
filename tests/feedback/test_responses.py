"""Responses through the API: validation, display logic, idempotency, filters, export, profile, privacy."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.feedback.test_surveys import definition


@pytest.fixture
def survey(client: TestClient, admin_headers: dict[str, str]) -> dict[str, Any]:
    """An active two-question survey."""
    created = client.post("/api/v1/surveys", json=definition(status="active"), headers=admin_headers)
    assert created.status_code == 201, created.text
    return dict(created.json())


def answer(client: TestClient, headers: dict[str, str], **body: Any) -> Any:
    """POST one response to the after-visit survey."""
    payload = {"survey": "after-visit", "identities": {"email": "ann@example.com"}, **body}
    return client.post("/api/v1/responses", json=payload, headers=headers)


def test_response_is_stored_on_the_customer_once(
    client: TestClient, admin_headers: dict[str, str], survey: dict[str, Any]
) -> None:
    first = answer(client, admin_headers, external_id="r-1", answers={"nps": 4, "why": "price"}, language="cs")
    assert first.status_code == 201, first.text
    again = answer(client, admin_headers, external_id="r-1", answers={"nps": 4, "why": "price"})
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert again.json()["id"] == first.json()["id"]
    body = first.json()
    assert body["answers"] == {"nps": 4, "why": "price"} and body["language"] == "cs" and body["status"] == "complete"
    customer = client.get("/api/v1/customers", params={"identity": "email:ann@example.com"}, headers=admin_headers)
    assert body["customer_id"] == customer.json()["items"][0]["id"]
    timeline = client.get(f"/api/v1/customers/{body['customer_id']}/timeline", headers=admin_headers).json()
    entries = timeline["items"] if isinstance(timeline, dict) else timeline
    assert [e["kind"] for e in entries] == ["response"] and "nps 4" in entries[0]["summary"]


@pytest.mark.parametrize(
    ("answers", "question", "reason"),
    [
        ({"nps": 11}, "nps", "between 0 and 10"),
        ({"nps": "ten"}, "nps", "whole number"),
        ({"nps": 3, "why": "weather"}, "why", "not one of the options"),
        ({"why": "price"}, "nps", "required"),
        ({"nps": 3, "colour": "red"}, "colour", "no such question"),
    ],
)
def test_bad_answers_are_refused_and_nothing_is_stored(
    client: TestClient,
    admin_headers: dict[str, str],
    survey: dict[str, Any],
    db: Engine,
    answers: dict[str, Any],
    question: str,
    reason: str,
) -> None:
    refused = answer(client, admin_headers, answers=answers)
    assert refused.status_code == 422
    details = refused.json()["error"]["details"]
    assert any(d["question"] == question and reason in d["reason"] for d in details), details
    with db.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM responses")) == 0
        assert connection.scalar(text("SELECT count(*) FROM customers")) == 0


def test_hidden_questions_are_not_stored(
    client: TestClient, admin_headers: dict[str, str], survey: dict[str, Any]
) -> None:
    promoter = answer(client, admin_headers, answers={"nps": 9, "why": "price"})
    assert promoter.status_code == 201 and promoter.json()["answers"] == {"nps": 9}


def test_closed_survey_takes_no_responses(
    client: TestClient, admin_headers: dict[str, str], survey: dict[str, Any]
) -> None:
    client.post("/api/v1/surveys/after-visit/status", json={"status": "closed"}, headers=admin_headers)
    refused = answer(client, admin_headers, answers={"nps": 9})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "survey_closed"


def test_list_filters_and_export(client: TestClient, admin_headers: dict[str, str], survey: dict[str, Any]) -> None:
    for index, score in enumerate([2, 7, 10]):
        stamp = f"2026-0{index + 1}-15T10:00:00+00:00"
        made = answer(
            client,
            admin_headers,
            identities={"email": f"p{index}@example.com"},
            answers={"nps": score},
            completed_at=stamp,
        )
        assert made.status_code == 201
    listed = client.get("/api/v1/responses", params={"survey": "after-visit"}, headers=admin_headers).json()
    assert listed["total"] == 3 and [r["answers"]["nps"] for r in listed["items"]] == [10, 7, 2]
    low = client.get("/api/v1/responses", params={"max_score": 6}, headers=admin_headers).json()
    assert [r["answers"]["nps"] for r in low["items"]] == [2]
    period = {"since": "2026-02-01T00:00:00Z", "until": "2026-03-01T00:00:00Z"}
    assert client.get("/api/v1/responses", params=period, headers=admin_headers).json()["total"] == 1
    misspelt = client.get("/api/v1/responses", params={"surveys": "after-visit"}, headers=admin_headers)
    assert misspelt.status_code == 422 and "'surveys'" in misspelt.json()["error"]["message"]  # not all 3 silently
    assert "survey" in misspelt.json()["error"]["details"]["allowed"]
    csv = client.get("/api/v1/responses/export", params={"survey": "after-visit"}, headers=admin_headers)
    frame = pd.read_csv(io.StringIO(csv.text))
    assert sorted(frame["nps"]) == [2, 7, 10] and set(frame["survey"]) == {"after-visit"}
    parquet = client.get("/api/v1/responses/export", params={"format": "parquet"}, headers=admin_headers)
    assert sorted(pd.read_parquet(io.BytesIO(parquet.content))["nps"]) == [2, 7, 10]


def test_erasure_blanks_answer_text_and_merge_moves_responses(
    client: TestClient, admin_headers: dict[str, str], db: Engine
) -> None:
    client.post("/api/v1/surveys/from-template/relationship-nps", headers=admin_headers)
    comment = "My neighbour Jan Novák told me about you"
    made = client.post(
        "/api/v1/responses",
        json={
            "survey": "relationship-nps",
            "identities": {"email": "eva@example.com"},
            "answers": {"nps": 9, "reason": comment},
        },
        headers=admin_headers,
    )
    customer_id = made.json()["customer_id"]
    other = client.post("/api/v1/customers", json={"identities": {"phone": "+420777123456"}}, headers=admin_headers)
    merged = client.post(
        f"/api/v1/customers/{other.json()['id']}/merge",
        json={"other_id": customer_id, "reason": "same person"},
        headers=admin_headers,
    )
    assert merged.status_code in (200, 201), merged.text
    with db.connect() as connection:
        owners = connection.execute(text("SELECT customer_id FROM answers")).scalars().all()
    assert set(owners) == {other.json()["id"]}
    erased = client.request("DELETE", f"/api/v1/customers/{other.json()['id']}", headers=admin_headers)
    assert erased.status_code in (200, 204), erased.text
    with db.connect() as connection:
        texts = connection.execute(text("SELECT text FROM answers WHERE text IS NOT NULL")).scalars().all()
    assert comment not in texts
