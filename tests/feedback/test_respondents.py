"""Comment lists and choice counts narrowed by where responses came from (the triggering interaction's channel,
stage and store) and who gave them (segment, one customer attribute), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cxm.core.db import make_sessionmaker
from cxm.feedback import service as feedback_service
from cxm.feedback.selections import Respondents

# customer n: (store of the visit, segment, attributes)
PEOPLE: list[tuple[str | None, str, dict[str, Any]]] = [
    ("Brno", "retail", {"tier": "gold", "vip": True, "visits": 3}),
    ("Brno", "business", {"tier": "silver", "vip": False, "visits": 12}),
    ("Praha", "retail", {"tier": "gold", "vip": False}),
    (None, "retail", {}),
]


@pytest.fixture
def answered(client: TestClient, admin_headers: dict[str, str]) -> None:
    """Each customer visits (in a store, or on the web) and answers the survey that visit triggered."""
    assert client.post("/api/v1/surveys/from-template/relationship-nps", headers=admin_headers).status_code == 201
    for n, (store, segment, attributes) in enumerate(PEOPLE):
        person = {"identities": {"email": f"p{n}@example.com"}, "segment": segment, "attributes": attributes}
        assert client.post("/api/v1/customers", json=person, headers=admin_headers).status_code in (200, 201)
        visit = {
            "event_id": f"visit-{n}",
            "identities": {"email": f"p{n}@example.com"},
            "channel": "store" if store else "web",
            "journey_stage": "purchase",
            "type": "visit",
            "occurred_at": "2026-10-05T10:00:00Z",
        } | ({"store": store} if store else {})
        stored = client.post("/api/v1/interactions", json=visit, headers=admin_headers)
        assert stored.status_code == 201, stored.text
        body = {
            "survey": "relationship-nps",
            "identities": {"email": f"p{n}@example.com"},
            "interaction_id": stored.json()["id"],
            "answers": {"nps": 3, "reason": f"comment of p{n}", "improve": ["price"]},
            "external_id": f"r-{n}",
        }
        assert client.post("/api/v1/responses", json=body, headers=admin_headers).status_code == 201


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        (Respondents(), {0, 1, 2, 3}),
        (Respondents(store="Brno"), {0, 1}),
        (Respondents(channel="store", store="Praha"), {2}),
        (Respondents(channel="web"), {3}),
        (Respondents(journey_stage="purchase", segment="retail"), {0, 2, 3}),
        (Respondents(attribute=("tier", "gold")), {0, 2}),
        (Respondents(attribute=("vip", "true")), {0}),  # booleans read as analytics shows them, not as 1
        (Respondents(attribute=("vip", "false")), {1, 2}),
        (Respondents(attribute=("visits", "12")), {1}),
        (Respondents(store="Brno", attribute=("tier", "gold")), {0}),
        (Respondents(attribute=("tier", "' OR 1=1 --")), set()),
    ],
)
def test_comments_and_choices_follow_the_respondents_filter(
    answered: None, db: Engine, who: Respondents, expected: set[int]
) -> None:
    with make_sessionmaker(db)() as session:
        comments, total = feedback_service.verbatims(
            session, feedback_service.VerbatimFilter(who=who), limit=50, offset=0
        )
        choices = feedback_service.choice_distributions(session, feedback_service.ChoiceFilter(who=who), labels_in="en")
    assert {c.text for c in comments} == {f"comment of p{n}" for n in expected} and total == len(expected)
    assert sum(question.n for question in choices) == len(expected)
