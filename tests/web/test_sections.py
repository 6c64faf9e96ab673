"""Feedback, Channels, Journey, Surveys and Settings pages."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from cxm.analytics import service as analytics_service
from tests.web.conftest import sign_in
from tests.web.pages_data import HOSTILE, store_company

SURVEY_YAML = """
key: pickup
name: Pick-up <b>check</b>
languages: [en, cs]
title: {en: "How was the pick-up?", cs: "Jak probehlo vyzvednuti?"}
thank_you: {en: Thanks!, cs: Diky!}
questions:
  - key: csat
    kind: csat
    required: true
    label: {en: "How satisfied are you?", cs: "Jak jste spokojeni?"}
"""


@pytest.fixture
def company(client: TestClient, admin_headers: dict[str, str], people: dict[str, str]) -> TestClient:
    """The company stored and synced to the analytics store."""
    store_company(client, admin_headers)
    app = client.app
    analytics_service.sync_store(app.state.settings, app.state.engine)  # type: ignore[attr-defined]
    return client


def test_feedback_distributions_and_comments(company: TestClient, people: dict[str, str]) -> None:
    sign_in(company, people["viewer"])
    page = company.get("/feedback?survey=relationship-nps")
    assert 'data-question="relationship-nps.nps"' in page.text and "n = 60" in page.text
    assert "60 comments" in page.text
    hostile = company.get("/feedback?q=pwned")
    assert "2 comments" in hostile.text and HOSTILE not in hostile.text and "&lt;script&gt;" in hostile.text
    assert 'href="/customers/' in page.text
    searched = company.get("/feedback?survey=relationship-nps&q=reason 7 ")
    assert "2 comments" in searched.text
    low = company.get("/feedback?min_score=0&max_score=0")
    assert all(score == "0" for score in re.findall(r"score (\d+)</span>", low.text))
    csv = company.get("/feedback?format=csv&q=reason 7 ")
    assert csv.text.startswith("response_id,") and len(csv.text.strip().splitlines()) == 3


def test_channels_and_journey(company: TestClient, people: dict[str, str]) -> None:
    sign_in(company, people["analyst"])
    channels = company.get("/channels")
    assert '<th scope="row">web</th>' in channels.text and '<th scope="row">store</th>' in channels.text
    assert "Interactions by channel and journey stage" in channels.text
    journey = company.get("/journey")
    assert '<th scope="row">purchase</th>' in journey.text
    funnel = company.get("/api/v1/analytics/journeys/funnel").json()["rows"]
    assert funnel and "Stage funnel" in journey.text
    for row in funnel:
        assert f'<th scope="row">{row["stage"]}</th><td>{row["reached"]}</td><td>{row["customers"]}' in journey.text
    csv = company.get("/channels?format=csv")
    assert csv.text.startswith("channel,nps_value") and "web," in csv.text
    assert "Metrics by store" in channels.text and '<th scope="row">Shop 0</th>' in channels.text
    assert "&lt;script&gt;window.pwned" in channels.text and HOSTILE not in channels.text
    stores = company.get("/channels?format=stores.csv").text.splitlines()
    assert stores[0].startswith("store,nps_value") and {row.split(",")[0] for row in stores[1:]} >= {"Shop 0", "Shop 2"}


def _card(page: str, metric: str) -> str:
    """The text of one metric card on a page."""
    found = re.search(rf'<article class="card metric" data-metric="{metric}">.*?</article>', page, re.S)
    assert found, metric
    return found.group(0)


def test_filter_bar_filters_by_store_and_customer_attribute(company: TestClient, people: dict[str, str]) -> None:
    sign_in(company, people["analyst"])
    everyone = company.get("/feedback").text
    assert '<option value="Shop 0">Shop 0</option>' in everyone and 'name="attribute"' in everyone
    assert '<option value="tier=">tier</option>' in everyone  # the attribute names profiles carry, as suggestions
    assert "&lt;script&gt;window.pwned" in everyone and HOSTILE not in everyone  # a hostile store name in the menu
    gold = company.get("/feedback?attribute=tier%3Dgold").text
    assert "n = 20" in gold and "n = 60" in everyone  # 10 gold customers (every third of 30), two answers each
    assert 'value="tier=gold"' in gold
    assert "20 comments" in gold and "60 comments" in everyone  # the comment list follows the attribute too
    shop = company.get("/overview?store=Shop%200").text
    times, everywhere = _card(shop, "first_response_time"), _card(company.get("/overview").text, "first_response_time")
    assert "n = 10" in times and "n = 60" in everywhere  # 5 customers in Shop 0, two months; all 30 customers
    assert "Not filtered by: Store" in _card(shop, "response_rate")  # invitations have no store: the card says so
    timed = company.get("/api/v1/metrics/first_response_time", params={"store": "Shop 0"}).json()["rows"]
    assert [row["n"] for row in timed] == [10]  # the REST API takes the store filter too
    funnel = company.get("/api/v1/analytics/journeys/funnel", params={"store": "Shop 0"}).json()["rows"]
    journey = company.get("/journey?store=Shop%200").text
    assert funnel and "Stage funnel · Not filtered by" not in journey  # the stage funnel takes the store too
    for row in funnel:
        assert f'<th scope="row">{row["stage"]}</th><td>{row["reached"]}</td><td>{row["customers"]}' in journey
    bad = company.get("/feedback?attribute=tier")
    assert bad.status_code == 422 and "name=value" in bad.text


def test_survey_designed_in_the_browser(company: TestClient, people: dict[str, str]) -> None:
    csrf = sign_in(company, people["analyst"])
    bad = company.post("/surveys/new", data={"csrf": csrf, "definition": "key: x\n"})
    assert bad.status_code == 422 and 'role="alert"' in bad.text and "key: x" in bad.text
    made = company.post("/surveys/new", data={"csrf": csrf, "definition": SURVEY_YAML})
    assert made.status_code == 200 and "Jak jste spokojeni?" in made.text and "&lt;b&gt;check" in made.text
    edited = company.post(
        "/surveys/pickup/edit", data={"csrf": csrf, "definition": SURVEY_YAML.replace("Thanks!", "Merci")}
    )
    assert "Merci" in edited.text
    trigger = {"csrf": csrf, "interaction_type": "pickup", "channel": "store", "delay_minutes": "60"}
    assert "after 60 min" in company.post("/surveys/pickup/triggers", data=trigger).text
    active = company.post("/surveys/pickup/status", data={"csrf": csrf, "action": "activate"})
    assert 'href="/s/pickup"' in active.text
    assert company.get("/s/pickup").status_code == 200
    assert company.post("/surveys/pickup/edit", data={"csrf": csrf, "definition": SURVEY_YAML}).status_code == 422
    assert "pickup" in company.get("/surveys").text


def test_settings_people_keys_and_smtp(client: TestClient, people: dict[str, str]) -> None:
    csrf = sign_in(client, people["admin"])
    added = client.post(
        "/settings/users",
        data={"csrf": csrf, "email": "new@example.com", "password": "long enough pw", "role": "agent"},
    )
    assert added.status_code == 200 and "new@example.com" in added.text
    user_id = re.search(r'action="/settings/users/(\d+)/role"', added.text.split("new@example.com")[1])
    assert user_id
    client.post(f"/settings/users/{user_id.group(1)}/role", data={"csrf": csrf, "role": "viewer"})
    key = client.post("/settings/keys", data={"csrf": csrf, "name": "etl", "role": "analyst"})
    secret = re.search(r"data-secret>(cxm_[^<]+)<", key.text)
    assert secret
    assert client.get("/api/v1/customers", headers={"Authorization": f"Bearer {secret.group(1)}"}).status_code == 200
    assert secret.group(1) not in client.get("/settings").text  # shown once
    smtp = client.post("/settings/smtp", data={"csrf": csrf})
    assert 'id="smtp"' in smtp.text and ("Failed" in smtp.text or "Connected" in smtp.text)
