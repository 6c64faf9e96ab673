"""Survey definitions: checks, templates in five languages, the surveys API."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy.orm import Session

from cxm.feedback import service
from cxm.feedback.schemas import SurveyCreate

LANGUAGES = ["en", "cs", "pl", "hr", "ro"]


def definition(**overrides: Any) -> dict[str, Any]:
    """A small valid survey in English and Czech."""
    body: dict[str, Any] = {
        "key": "after-visit",
        "name": "After visit",
        "languages": ["en", "cs"],
        "title": {"en": "Your visit", "cs": "Vaše návštěva"},
        "thank_you": {"en": "Thanks", "cs": "Děkujeme"},
        "questions": [
            {"key": "nps", "kind": "nps", "required": True, "label": {"en": "Recommend?", "cs": "Doporučili byste?"}},
            {
                "key": "why",
                "kind": "single_choice",
                "label": {"en": "Why?", "cs": "Proč?"},
                "options": [
                    {"value": "price", "label": {"en": "Price", "cs": "Cena"}},
                    {"value": "staff", "label": {"en": "Staff", "cs": "Personál"}},
                ],
                "show_if": {"question": "nps", "op": "<=", "value": 6},
            },
        ],
    }
    return {**body, **overrides}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"default_language": "de"}, "default_language 'de' is not one of"),
        ({"languages": ["en", "xx-nonsense"]}, "not a language code"),
        ({"title": {"en": "Your visit"}}, "'title' has no text in cs"),
        ({"questions": [{"key": "q", "kind": "rating", "label": {"en": "a", "cs": "b"}, "scale_max": 40}]}, "2 to 11"),
        ({"questions": [{"key": "q", "kind": "single_choice", "label": {"en": "a", "cs": "b"}}]}, "options"),
    ],
)
def test_bad_definitions_are_refused_with_the_reason(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SurveyCreate.model_validate(definition(**change))


def test_display_logic_must_point_at_an_earlier_scored_question() -> None:
    body = definition()
    body["questions"][1]["show_if"] = {"question": "later", "op": "<=", "value": 6}
    with pytest.raises(ValidationError, match="not an earlier question"):
        SurveyCreate.model_validate(body)
    body["questions"][1]["show_if"] = {"question": "nps", "op": "==", "value": "high"}
    with pytest.raises(ValidationError, match="whole numbers"):
        SurveyCreate.model_validate(body)


def test_templates_exist_in_five_languages(session: Session) -> None:
    assert service.template_names() == ["purchase-csat", "relationship-nps", "support-ces"]
    surveys = service.install_templates(session)
    again = service.install_templates(session)
    assert [s.id for s in surveys] == [s.id for s in again]
    for survey in surveys:
        assert survey.languages == LANGUAGES and survey.status == "active"
        for question in service.questions_of(session, survey.id):
            assert sorted(question.texts["label"]) == sorted(LANGUAGES)
    kinds = {q.kind for s in surveys for q in service.questions_of(session, s.id)}
    assert {"nps", "csat", "ces", "text", "single_choice", "multi_choice"} <= kinds


def test_survey_api_create_read_close(client: TestClient, admin_headers: dict[str, str]) -> None:
    created = client.post("/api/v1/surveys", json=definition(), headers=admin_headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "draft" and [q["key"] for q in body["questions"]] == ["nps", "why"]
    assert body["questions"][0]["scale_min"] == 0 and body["questions"][0]["scale_max"] == 10
    again = client.post("/api/v1/surveys", json=definition(), headers=admin_headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    opened = client.post("/api/v1/surveys/after-visit/status", json={"status": "active"}, headers=admin_headers)
    assert opened.json()["status"] == "active"
    closed = client.post(f"/api/v1/surveys/{body['id']}/status", json={"status": "closed"}, headers=admin_headers)
    assert closed.json()["status"] == "closed" and closed.json()["closed_at"]
    listed = client.get("/api/v1/surveys", headers=admin_headers).json()
    assert [(s["key"], s["responses"]) for s in listed] == [("after-visit", 0)]


def test_bad_survey_body_gets_the_error_shape(client: TestClient, admin_headers: dict[str, str]) -> None:
    refused = client.post("/api/v1/surveys", json=definition(languages=["en", "cs", "pl"]), headers=admin_headers)
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] and "'title' has no text in pl" in str(error)


def test_template_from_api_and_roles(client: TestClient, admin_headers: dict[str, str], db: Any) -> None:
    from tests.conftest import make_key

    viewer = {"Authorization": f"Bearer {make_key(db, 'viewer')}"}
    assert client.post("/api/v1/surveys/from-template/support-ces", headers=viewer).status_code == 403
    made = client.post("/api/v1/surveys/from-template/support-ces", headers=admin_headers)
    assert made.status_code == 201 and made.json()["key"] == "support-ces"
    assert client.post("/api/v1/surveys/from-template/nope", headers=admin_headers).status_code == 422
