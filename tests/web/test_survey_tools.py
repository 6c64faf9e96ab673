"""Survey tools in the dashboard: the preview of the public page, distribution settings."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from cxm.access import service as access_service
from cxm.core.db import make_sessionmaker
from cxm.customers import service as customers_service
from cxm.feedback import service as feedback_service
from cxm.feedback.models import Response
from tests.web.conftest import PASSWORD, sign_in

DRAFT = """
key: pickup
name: Pick-up
languages: [en, cs]
title: {en: "How was the pick-up?", cs: "Jak proběhlo vyzvednutí?"}
thank_you: {en: "Thanks!", cs: "Díky!"}
questions:
  - key: csat
    kind: csat
    required: true
    label: {en: "How satisfied are you?", cs: "Jak jste spokojeni?"}
  - key: why
    kind: single_choice
    show_if: {question: csat, op: "<=", value: 2}
    label: {en: "What went wrong? <script>x</script>", cs: "Co se pokazilo?"}
    options:
      - {value: wait, label: {en: "Waiting", cs: "Čekání"}}
      - {value: staff, label: {en: "Staff", cs: "Personál"}}
"""


def _responses(db: Engine) -> int:
    with make_sessionmaker(db)() as session:
        return session.scalar(select(func.count()).select_from(Response)) or 0


def _draft(client: TestClient, csrf: str) -> None:
    made = client.post("/surveys/new", data={"csrf": csrf, "definition": DRAFT})
    assert made.status_code == 200, made.text


def test_preview_shows_each_step_in_each_language_and_stores_nothing(
    client: TestClient, people: dict[str, str], db: Engine
) -> None:
    _draft(client, sign_in(client, people["analyst"]))
    survey = client.get("/surveys/pickup")
    assert 'href="/surveys/pickup/preview?lang=cs"' in survey.text
    sign_in(client, people["viewer"])
    first = client.get("/surveys/pickup/preview?lang=cs")
    assert first.status_code == 200 and '<html lang="cs">' in first.text
    assert "Náhled" in first.text and "Jak jste spokojeni?" in first.text and "Co se pokazilo?" not in first.text
    assert 'method="post"' not in first.text and 'name="csrf"' not in first.text and " disabled>" in first.text
    assert "set-cookie" not in first.headers
    second = client.get("/surveys/pickup/preview?lang=en&step=2")
    assert "What went wrong? &lt;script&gt;" in second.text and "Waiting" in second.text
    assert 'href="/surveys/pickup/preview?lang=cs&amp;step=2"' in second.text
    thanks = client.get("/surveys/pickup/preview?lang=cs&step=thanks")
    assert "Díky!" in thanks.text and 'href="/surveys/pickup"' in thanks.text
    assert client.get("/surveys/pickup/preview?lang=xx&step=99").status_code == 200
    assert client.get("/s/pickup").status_code == 404  # still a draft: no public page
    assert client.get("/surveys/nothing/preview").status_code == 404
    assert _responses(db) == 0


def _answer_improve(client: TestClient, headers: dict[str, str], n: int, chosen: list[str]) -> None:
    body = {
        "survey": "relationship-nps",
        "identities": {"email": f"c{n}@example.com"},
        "answers": {"nps": 3, "improve": chosen},
        "external_id": f"improve-{n}",
        "language": "cs" if n % 2 else "en",
    }
    assert client.post("/api/v1/responses", json=body, headers=headers).status_code == 201


def test_choice_questions_show_counts_and_shares_of_respondents(
    client: TestClient, admin_headers: dict[str, str], people: dict[str, str]
) -> None:
    assert client.post("/api/v1/surveys/from-template/relationship-nps", headers=admin_headers).status_code == 201
    for n, chosen in enumerate([["price", "delivery"], ["price"], ["delivery"], ["price", "quality"]]):
        _answer_improve(client, admin_headers, n, chosen)
    sign_in(client, people["viewer"])
    page = client.get("/feedback?survey=relationship-nps")
    figure = page.text[page.text.index('id="choices"') :]
    figure = figure[figure.index('data-question="relationship-nps.improve"') :]
    assert "n = 4" in figure
    assert '<th scope="row">Prices</th><td class="num">3</td><td class="num">75.0%</td>' in figure
    assert '<th scope="row">Delivery</th><td class="num">2</td><td class="num">50.0%</td>' in figure
    assert '<th scope="row">Website and app</th><td class="num">0</td>' in figure
    czech = client.get("/feedback?survey=relationship-nps&language=cs").text
    assert '<th scope="row">Product quality</th><td class="num">1</td><td class="num">50.0%</td>' in czech
    csv = client.get("/feedback?format=csv&table=answers").text.splitlines()
    assert csv[0] == "survey,question,kind,answer,count,percent,n"
    assert "relationship-nps,improve,multi_choice,Prices,3,75.0,4" in csv
    assert "relationship-nps,nps,nps,3,4,100.0,4" in csv and len(csv) == 1 + 1 + 5


def test_distribution_settings_on_the_survey_page(
    client: TestClient, admin_headers: dict[str, str], people: dict[str, str]
) -> None:
    body = {"customers": [{"identities": {"email": "ann@example.com"}, "name": "Ann"}]}
    assert client.post("/api/v1/customers/batch", json=body, headers=admin_headers).status_code == 200
    csrf = sign_in(client, people["analyst"])
    _draft(client, csrf)
    bad = client.post("/surveys/pickup/triggers", data={"csrf": csrf, "interaction_type": "x", "sample_percent": "300"})
    assert bad.status_code == 422 and 'role="alert"' in bad.text and "the trigger is not valid" in bad.text
    assert client.post("/surveys/pickup/triggers", data={"interaction_type": "x"}).status_code == 403  # no CSRF
    made = client.post("/surveys/pickup/triggers", data={"csrf": csrf, "interaction_type": "pickup"})
    assert "after 0 min" in made.text and "/stop" in made.text
    trigger = client.get("/api/v1/surveys/pickup/triggers").json()[0]["id"]
    stopped = client.post(f"/surveys/pickup/triggers/{trigger}/stop", data={"csrf": csrf})
    assert "stopped" in stopped.text and client.get("/api/v1/surveys/pickup/triggers").json()[0]["active"] is False
    client.post("/surveys/pickup/status", data={"csrf": csrf, "action": "activate"})
    unknown = client.post("/surveys/pickup/invitations", data={"csrf": csrf, "identity": "email:nobody@example.com"})
    assert unknown.status_code == 422 and 'role="alert"' in unknown.text
    invited = client.post(
        "/surveys/pickup/invitations", data={"csrf": csrf, "identity": "email:ann@example.com", "channel": "link"}
    )
    assert invited.status_code == 200 and "1 invitations" in invited.text and "issued" in invited.text
    sign_in(client, people["viewer"])
    page = client.get("/surveys/pickup")
    assert "1 invitations" in page.text and 'action="/surveys/pickup/invitations"' not in page.text


def test_choice_distributions_leave_erased_people_out_and_read_in_the_viewers_language(
    client: TestClient, admin_headers: dict[str, str], db: Engine
) -> None:
    assert client.post("/api/v1/surveys/from-template/relationship-nps", headers=admin_headers).status_code == 201
    for n, chosen in enumerate([["price", "delivery"], ["price"], ["delivery"], ["price", "quality"]]):
        _answer_improve(client, admin_headers, n, chosen)
    with make_sessionmaker(db)() as session, session.begin():
        erased = customers_service.find_by_identity(session, "email:c0@example.com").id
        access_service.create_user(session, email="jana@example.com", password=PASSWORD, role="viewer", locale="cs")
    assert client.delete(f"/api/v1/customers/{erased}", headers=admin_headers).status_code == 200
    sign_in(client, "jana@example.com")
    figure = client.get("/feedback?survey=relationship-nps").text
    figure = figure[figure.index('data-question="relationship-nps.improve"') :]
    assert "n = 3" in figure
    assert '<th scope="row">Ceny</th><td class="num">2</td><td class="num">66,7' in figure
    assert '<th scope="row">Doručení</th><td class="num">1</td>' in figure and "Prices" not in figure
    with make_sessionmaker(db)() as session:
        wanted = feedback_service.ChoiceFilter(survey_key="relationship-nps")
        [german] = feedback_service.choice_distributions(session, wanted, labels_in="de")
    assert german.n == 3 and [(o.label, o.count) for o in german.options][:3] == [
        ("Prices", 2),
        ("Product quality", 1),
        ("Delivery", 1),
    ]  # no German texts: the survey's default language
