"""Survey pages over HTTP: personal and public links, steps with display logic, validation, guards, languages."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cxm.app import create_app
from cxm.config import Settings
from tests.feedback.survey_pages import (
    SURVEY,
    Invited,
    csrf_of,
    install_survey,
    invitation_row,
    invite,
    post_step,
    stored,
)

THANKS_CS = "Děkujeme! Vaše zpětná vazba nám pomáhá zlepšovat se."


@pytest.fixture
def invited(client: TestClient, admin_headers: dict[str, str], db: Engine) -> Invited:
    """A Czech-speaking customer invited to the active relationship NPS survey."""
    install_survey(client, admin_headers)
    return invite(client, admin_headers, db, language="cs")


def legends(html: str) -> list[str]:
    """The questions a page shows (their legends and labels)."""
    return [label.strip() for label in re.findall(r'class="label">([^<]+)', html)]


def test_personal_link_stores_one_response_on_the_customer_and_interaction(
    client: TestClient, invited: Invited, db: Engine
) -> None:
    first = post_step(client, invited.link, 1, {"nps": "3", "reason": "Fronta u pokladny"})
    assert first.status_code == 303 and first.headers["location"] == f"{invited.link}?step=2"
    step_two = client.get(first.headers["location"])
    assert legends(step_two.text) == ["Co bychom měli zlepšit nejdříve?"] and "Krok 2 z 2" in step_two.text
    done = post_step(client, invited.link, 2, {"improve": ["price", "delivery"]})
    assert done.status_code == 303 and done.headers["location"] == invited.link
    thanks = client.get(invited.link)
    assert THANKS_CS in thanks.text and 'lang="cs"' in thanks.text and "Změnit odpovědi" in thanks.text
    [response] = stored(db)
    assert (response["customer_id"], response["interaction_id"]) == (invited.customer_id, invited.interaction_id)
    assert response["invitation_id"] == invited.invitation_id and response["channel"] == "email"
    assert response["status"] == "complete" and response["language"] == "cs"
    assert response["answers"] == {"nps": 3, "reason": "Fronta u pokladny", "improve": ["price", "delivery"]}
    invitation = invitation_row(db, invited.invitation_id)
    assert invitation.status == "answered" and invitation.answered_at is not None


def test_the_same_link_edits_its_one_response(client: TestClient, invited: Invited, db: Engine) -> None:
    post_step(client, invited.link, 1, {"nps": "3"})
    post_step(client, invited.link, 2, {"improve": ["price"]})
    again = post_step(client, invited.link, 2, {"improve": ["price"]})
    assert again.status_code == 303
    completed_at = stored(db)[0]["completed_at"]
    edit = post_step(client, invited.link, 1, {"nps": "9", "reason": "Better now"})
    assert edit.status_code == 303 and edit.headers["location"] == invited.link
    [response] = stored(db)
    assert response["answers"] == {"nps": 9, "reason": "Better now"} and response["status"] == "complete"
    assert response["completed_at"] == completed_at


@pytest.mark.parametrize(
    ("step", "answers", "question", "message"),
    [
        (1, {"nps": "11", "reason": "Drahé"}, "nps", "Hodnocení musí být mezi 0 a 10."),
        (1, {"nps": "deset", "reason": "Drahé"}, "nps", "Odpověď musí být celé číslo."),
        (1, {"reason": "Drahé"}, "nps", "Odpověď je povinná."),
    ],
)
def test_bad_answers_are_refused_next_to_the_question_and_nothing_is_stored(
    client: TestClient, invited: Invited, db: Engine, step: int, answers: dict[str, Any], question: str, message: str
) -> None:
    refused = post_step(client, invited.link, step, answers)
    assert refused.status_code == 422
    error = re.search(rf'<p class="error" id="q-{question}-error">([^<]+)</p>', refused.text)
    assert error and error.group(1) == message
    assert re.search(rf'id="q-{question}"[^>]*aria-describedby="[^"]*q-{question}-error', refused.text)
    assert ">Drahé</textarea>" in refused.text and 'role="alert"' in refused.text
    assert stored(db) == []


def test_an_unknown_option_is_refused_and_the_earlier_step_is_kept(
    client: TestClient, invited: Invited, db: Engine
) -> None:
    post_step(client, invited.link, 1, {"nps": "2"})
    refused = post_step(client, invited.link, 2, {"improve": ["price", "weather"]})
    assert refused.status_code == 422 and "„weather“ není jednou z možností." in refused.text
    assert re.search(r'value="price"\s+checked', refused.text)
    [response] = stored(db)
    assert response["answers"] == {"nps": 2} and response["status"] == "partial"


def test_a_filled_honeypot_looks_like_success_and_stores_nothing(
    client: TestClient, invited: Invited, db: Engine
) -> None:
    trapped = post_step(client, invited.link, 1, {"nps": "9"}, homepage="http://spam.example")
    assert trapped.status_code == 200 and THANKS_CS in trapped.text
    assert stored(db) == []


def test_posts_without_a_valid_csrf_token_are_refused(client: TestClient, invited: Invited, db: Engine) -> None:
    page = client.get(invited.link)
    missing = client.post(invited.link, data={"step": "1", "q:nps": "9"})
    assert missing.status_code == 403 and "Platnost formuláře vypršela" in missing.text
    forged = client.post(invited.link, data={"csrf": csrf_of(page) + "x", "step": "1", "q:nps": "9"})
    assert forged.status_code == 403
    stranger = TestClient(client.app)  # another browser: the token belongs to the first one's cookie
    assert stranger.post(invited.link, data={"csrf": csrf_of(page), "step": "1", "q:nps": "9"}).status_code == 403
    assert stored(db) == []


def test_language_is_the_customers_then_the_browsers_then_the_default(
    client: TestClient, admin_headers: dict[str, str], invited: Invited, db: Engine
) -> None:
    czech = client.get(invited.link, headers={"Accept-Language": "pl-PL,pl;q=0.9"})
    assert 'lang="cs"' in czech.text
    assert all(text in czech.text for text in ("Krok 1 z 2", "Další", "(povinné)", "Jak se nám daří?"))
    nobody = invite(client, admin_headers, db, language=None)
    croatian = client.get(nobody.link, headers={"Accept-Language": "de-DE, pl;q=0.8, hr;q=0.9"})
    assert 'lang="hr"' in croatian.text and "Korak 1 od 2" in croatian.text and "Dalje" in croatian.text
    assert 'lang="en"' in client.get(nobody.link, headers={"Accept-Language": "de, fr"}).text
    chosen = client.get(invited.link, params={"lang": "ro"})
    assert 'lang="ro"' in chosen.text and f'action="{invited.link}?lang=ro"' in chosen.text
    assert 'hreflang="pl" lang="pl"' in chosen.text and "Polski" in chosen.text


def test_a_partial_response_is_continued_by_the_same_link_and_the_same_browser(
    client: TestClient, invited: Invited, db: Engine
) -> None:
    post_step(client, invited.link, 1, {"nps": "4", "reason": "Pomalé"})
    later = TestClient(client.app).get(invited.link)
    assert "Krok 2 z 2" in later.text and "Co bychom měli zlepšit nejdříve?" in later.text
    back = TestClient(client.app).get(invited.link, params={"step": 1})
    assert re.search(r'value="4"\s+checked', back.text) and ">Pomalé</textarea>" in back.text
    assert [r["status"] for r in stored(db)] == ["partial"]
    public = f"/s/{SURVEY}"
    assert post_step(client, public, 1, {"nps": "6"}).headers["location"] == f"{public}?step=2"
    assert "Step 2 of 2" in client.get(public).text
    assert "Step 1 of 2" in TestClient(client.app).get(public).text
    assert post_step(client, public, 2, {"improve": "service"}).headers["location"] == f"{public}/thanks"
    assert "Step 1 of 2" in client.get(public).text  # submitted: the next visit is a new response
    post_step(client, public, 1, {"nps": "10"})
    public_rows = [r for r in stored(db) if r["channel"] == "link"]
    assert [(r["answers"], r["status"], r["customer_id"]) for r in public_rows] == [
        ({"nps": 6, "improve": ["service"]}, "complete", None),
        ({"nps": 10}, "complete", None),
    ]


def test_closed_draft_and_unknown_surveys_have_friendly_pages(
    client: TestClient, admin_headers: dict[str, str], invited: Invited, db: Engine
) -> None:
    page = client.get(invited.link)
    client.post(f"/api/v1/surveys/{SURVEY}/status", json={"status": "closed"}, headers=admin_headers)
    closed = client.get(invited.link)
    assert closed.status_code == 409 and "Tento průzkum je uzavřen" in closed.text
    posted = client.post(invited.link, data={"csrf": csrf_of(page), "step": "1", "q:nps": "9"})
    assert posted.status_code == 409 and stored(db) == []
    assert client.get(f"/s/{SURVEY}", headers={"Accept-Language": "pl"}).status_code == 409
    unknown = client.get("/s/no-such-survey", headers={"Accept-Language": "ro"})
    assert unknown.status_code == 404 and "Chestionarul nu a fost găsit" in unknown.text


def test_a_draft_survey_is_not_found(client: TestClient, admin_headers: dict[str, str]) -> None:
    install_survey(client, admin_headers, status="draft")
    draft = client.get(f"/s/{SURVEY}", headers={"Accept-Language": "cs"})
    assert draft.status_code == 404 and "Průzkum nebyl nalezen" in draft.text


def test_a_tampered_token_is_not_found(client: TestClient, invited: Invited) -> None:
    tampered = client.get(invited.link[:-2] + ("AA" if not invited.link.endswith("AA") else "BB"))
    assert tampered.status_code == 404 and "This link is not valid" in tampered.text
    assert client.get(f"/s/{SURVEY}/not-a-token").status_code == 404


def test_earlier_text_answers_and_labels_are_escaped(client: TestClient, invited: Invited) -> None:
    post_step(client, invited.link, 1, {"nps": "5", "reason": "<script>alert('x')</script>"})
    page = client.get(invited.link, params={"step": 1})
    assert "<script>" not in page.text and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</textarea>" in page.text
    refused = post_step(client, invited.link, 2, {"improve": "<img src=x onerror=alert(1)>"})
    assert "<img" not in refused.text and "&lt;img src=x onerror=alert(1)&gt;" in refused.text


def test_submissions_are_limited_per_client_address(
    client: TestClient, admin_headers: dict[str, str], db: Engine, database_url: str
) -> None:
    install_survey(client, admin_headers)
    limited = TestClient(create_app(Settings(database_url=database_url, survey_posts_per_minute=2), engine=db))
    public = f"/s/{SURVEY}"
    assert post_step(limited, public, 1, {"nps": "8"}).status_code == 303
    assert post_step(limited, public, 1, {"nps": "7"}).status_code == 303
    busy = limited.post(f"{public}?lang=cs", data={"csrf": csrf_of(limited.get(public)), "step": "1", "q:nps": "6"})
    assert busy.status_code == 429 and "Příliš mnoho odeslání" in busy.text
    assert [r["answers"] for r in stored(db)] == [{"nps": 8}, {"nps": 7}]


def test_the_stylesheet_is_served_by_the_app(client: TestClient) -> None:
    css = client.get("/s/_static/survey.css")
    assert css.status_code == 200 and ":focus-visible" in css.text
