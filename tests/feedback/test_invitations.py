"""E-mail invitations and personal links: through the real API, the real worker and a real SMTP server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from cxm.config import Settings
from cxm.core import jobs
from cxm.core.db import make_sessionmaker, utcnow
from cxm.feedback import service as feedback_service
from cxm.feedback.tokens import invitation_of
from cxm.worker import work_once, worker_sessions
from tests.feedback.mailbox import Mailbox, free_port, html_of, smtp_server, text_of

PUBLIC = "https://cx.example.com"
LINK = re.compile(r"https://cx\.example\.com/s/purchase-csat/([A-Za-z0-9_.-]+)")


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server on a free port."""
    with smtp_server() as box:
        yield box


@pytest.fixture
def settings(database_url: str, mailbox: Mailbox) -> Settings:
    """The worker's settings: the test SMTP server and a public address."""
    return Settings(database_url=database_url, smtp_port=mailbox.port, public_url=PUBLIC, serve_worker=False)


@pytest.fixture
def factory(db: Engine, settings: Settings) -> sessionmaker[Session]:
    """The worker's sessions."""
    return worker_sessions(db, settings)


@pytest.fixture
def survey(client: TestClient, admin_headers: dict[str, str]) -> dict[str, Any]:
    """The built-in purchase CSAT survey (active, five languages)."""
    created = client.post("/api/v1/surveys/from-template/purchase-csat", headers=admin_headers)
    assert created.status_code == 201, created.text
    return dict(created.json())


def add_customer(client: TestClient, headers: dict[str, str], email: str, name: str, language: str) -> int:
    """Create a customer through the API; its id."""
    body = {"identities": {"email": email}, "name": name, "language": language}
    stored = client.post("/api/v1/customers", json=body, headers=headers)
    assert stored.status_code == 200, stored.text
    return int(stored.json()["id"])


def invite(client: TestClient, headers: dict[str, str], **body: Any) -> Any:
    """POST an invitation to the purchase CSAT survey."""
    return client.post("/api/v1/surveys/purchase-csat/invitations", json=body, headers=headers)


def count(db: Engine, sql: str) -> int:
    """One number from the database."""
    with db.connect() as connection:
        return int(connection.scalar(text(sql)) or 0)


def test_invitation_email_arrives_in_the_customers_language_with_a_working_link(
    client: TestClient,
    admin_headers: dict[str, str],
    survey: dict[str, Any],
    mailbox: Mailbox,
    factory: sessionmaker[Session],
    settings: Settings,
    db: Engine,
) -> None:
    customer_id = add_customer(client, admin_headers, "jana@example.cz", "Jana Nováková", "cs")
    made = invite(client, admin_headers, identities={"email": "Jana@Example.cz"})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["customer_id"] == customer_id and body["status"] == "scheduled" and "/s/purchase-csat/" in body["link"]
    assert mailbox.messages == []  # nothing goes out before the worker runs

    assert work_once(factory, settings).jobs == 1
    [message] = mailbox.wait_for(1)
    assert message["To"].addresses[0].addr_spec == "jana@example.cz"
    assert message["Subject"] == "Zajímá nás váš názor: Váš nedávný nákup"
    assert message["Content-Language"] == "cs"
    plain, html = text_of(message), html_of(message)
    assert "Dobrý den, Jana Nováková," in plain and "Vyplnit dotazník" in plain and "Vyplnit dotazník" in html
    found = LINK.search(plain)
    assert found is not None and found.group(0) in html
    with make_sessionmaker(db).begin() as session:
        assert invitation_of(session, found.group(1)) == body["id"]
    listed = client.get("/api/v1/surveys/purchase-csat/invitations", params={"status": "sent"}, headers=admin_headers)
    [sent] = listed.json()["items"]
    assert sent["id"] == body["id"] and sent["sent_at"] is not None and sent["link"] is None


@pytest.mark.parametrize(
    ("language", "subject", "greeting"),
    [
        ("en", "Your opinion matters: Your recent purchase", "Hello Ann Lee,"),
        ("pl", "Twoja opinia jest dla nas ważna: Twój ostatni zakup", "Dzień dobry Ann Lee,"),
        ("hr", "Vaše nam je mišljenje važno: Vaša nedavna kupnja", "Poštovani/a Ann Lee,"),
        ("ro", "Părerea dumneavoastră contează: Achiziția dumneavoastră recentă", "Bună ziua, Ann Lee,"),
        ("de", "Your opinion matters: Your recent purchase", "Hello Ann Lee,"),  # not a survey language
    ],
)
def test_each_language_has_its_own_email(
    client: TestClient,
    admin_headers: dict[str, str],
    survey: dict[str, Any],
    mailbox: Mailbox,
    factory: sessionmaker[Session],
    settings: Settings,
    language: str,
    subject: str,
    greeting: str,
) -> None:
    add_customer(client, admin_headers, "ann@example.com", "Ann Lee", language)
    assert invite(client, admin_headers, identities={"email": "ann@example.com"}).status_code == 201
    work_once(factory, settings)
    [message] = mailbox.wait_for(1)
    assert message["Subject"] == subject and greeting in text_of(message)


def test_names_are_escaped_in_the_html_body(
    client: TestClient,
    admin_headers: dict[str, str],
    survey: dict[str, Any],
    mailbox: Mailbox,
    factory: sessionmaker[Session],
    settings: Settings,
) -> None:
    add_customer(client, admin_headers, "evil@example.com", 'Eve <script>alert("x")</script> & Co', "en")
    invite(client, admin_headers, identities={"email": "evil@example.com"})
    work_once(factory, settings)
    [message] = mailbox.wait_for(1)
    html = html_of(message)
    assert "<script>" not in html and "Eve &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in html
    assert 'Hello Eve <script>alert("x")</script> & Co,' in text_of(message)


def test_the_same_request_twice_makes_one_invitation_and_one_email(
    client: TestClient,
    admin_headers: dict[str, str],
    survey: dict[str, Any],
    mailbox: Mailbox,
    factory: sessionmaker[Session],
    settings: Settings,
    db: Engine,
) -> None:
    customer_id = add_customer(client, admin_headers, "ann@example.com", "Ann", "en")
    first = invite(client, admin_headers, customer_id=customer_id)
    again = invite(client, admin_headers, identities={"email": "ann@example.com"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and again.json()["link"] == first.json()["link"]
    assert count(db, "SELECT count(*) FROM jobs") == 1
    # The send job runs twice (a worker crashed after sending, say): the second run sends nothing.
    with factory.begin() as session:
        jobs.enqueue(session, "feedback.send_invitation", {"invitation_id": first.json()["id"]}, key="again")
    assert work_once(factory, settings).jobs == 2
    work_once(factory, settings)
    assert len(mailbox.messages) == 1


def test_a_personal_link_is_not_emailed(
    client: TestClient,
    admin_headers: dict[str, str],
    survey: dict[str, Any],
    mailbox: Mailbox,
    factory: sessionmaker[Session],
    settings: Settings,
    db: Engine,
) -> None:
    add_customer(client, admin_headers, "ann@example.com", "Ann", "en")
    made = invite(client, admin_headers, identities={"email": "ann@example.com"}, channel="link")
    assert made.status_code == 201 and made.json()["status"] == "issued"
    with make_sessionmaker(db).begin() as session:
        assert invitation_of(session, made.json()["link"].rsplit("/", 1)[1]) == made.json()["id"]
    assert work_once(factory, settings).jobs == 0 and mailbox.messages == []


def test_revoked_consent_means_no_invitation_and_no_email(
    client: TestClient,
    admin_headers: dict[str, str],
    survey: dict[str, Any],
    mailbox: Mailbox,
    factory: sessionmaker[Session],
    settings: Settings,
    db: Engine,
) -> None:
    refusing = add_customer(client, admin_headers, "no@example.com", "No", "en")
    consent = {"purpose": "surveys", "granted": False}
    client.post(f"/api/v1/customers/{refusing}/consents", json=consent, headers=admin_headers)
    refused = invite(client, admin_headers, customer_id=refusing)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "consent_refused"
    # Consent revoked after the invitation was made, before it was sent: it is not sent.
    later = add_customer(client, admin_headers, "later@example.com", "Later", "en")
    assert invite(client, admin_headers, customer_id=later).status_code == 201
    client.post(f"/api/v1/customers/{later}/consents", json=consent, headers=admin_headers)
    work_once(factory, settings)
    assert mailbox.messages == []
    [skipped] = client.get("/api/v1/surveys/purchase-csat/invitations", headers=admin_headers).json()["items"]
    assert skipped["status"] == "skipped" and count(db, "SELECT count(*) FROM invitations") == 1


def test_a_failed_send_is_retried_later_and_sent_once(
    client: TestClient,
    admin_headers: dict[str, str],
    survey: dict[str, Any],
    db: Engine,
    database_url: str,
) -> None:
    port = free_port()  # nobody listens here yet: the SMTP server is down
    settings = Settings(database_url=database_url, smtp_port=port, public_url=PUBLIC)
    factory = worker_sessions(db, settings)
    add_customer(client, admin_headers, "ann@example.com", "Ann", "en")
    made = invite(client, admin_headers, identities={"email": "ann@example.com"}).json()
    assert work_once(factory, settings).jobs == 1
    with db.connect() as connection:
        attempts, status, error = connection.execute(text("SELECT attempts, status, last_error FROM jobs")).one()
    assert (attempts, status) == (1, "queued") and "Connection" in error
    assert work_once(factory, settings).jobs == 0  # backing off: not due yet
    with smtp_server(port) as mailbox:
        assert work_once(factory, settings, now=utcnow() + timedelta(minutes=5)).jobs == 1
        work_once(factory, settings, now=utcnow() + timedelta(hours=1))
        [message] = mailbox.wait_for(1)
    assert LINK.search(text_of(message)) is not None
    listed = client.get("/api/v1/surveys/purchase-csat/invitations", headers=admin_headers).json()["items"]
    assert [(i["id"], i["status"]) for i in listed] == [(made["id"], "sent")]


def test_scheduled_invitations_wait_for_their_time(
    client: TestClient,
    admin_headers: dict[str, str],
    survey: dict[str, Any],
    mailbox: Mailbox,
    factory: sessionmaker[Session],
    settings: Settings,
) -> None:
    add_customer(client, admin_headers, "ann@example.com", "Ann", "en")
    send_at = (utcnow() + timedelta(days=1)).isoformat()
    made = invite(client, admin_headers, identities={"email": "ann@example.com"}, send_at=send_at)
    assert made.status_code == 201
    assert work_once(factory, settings).jobs == 0 and mailbox.messages == []
    assert work_once(factory, settings, now=utcnow() + timedelta(days=1, minutes=1)).jobs == 1
    assert len(mailbox.wait_for(1)) == 1


def test_reminders_go_once_to_those_who_have_not_answered(
    client: TestClient,
    admin_headers: dict[str, str],
    survey: dict[str, Any],
    mailbox: Mailbox,
    factory: sessionmaker[Session],
    settings: Settings,
) -> None:
    ids = {
        who: invite(
            client, admin_headers, customer_id=add_customer(client, admin_headers, f"{who}@example.com", who, lang)
        ).json()["id"]
        for who, lang in (("answered", "en"), ("started", "en"), ("silent", "cs"))
    }
    work_once(factory, settings)
    assert len(mailbox.wait_for(3)) == 3
    with factory.begin() as session:
        found = feedback_service.get_survey(session, "purchase-csat")
        done = feedback_service.Respondent(invitation_id=ids["answered"])
        feedback_service.record_response(session, found, {"csat": 5}, done)
        feedback_service.start_response(session, found, feedback_service.Respondent(invitation_id=ids["started"]))

    assert work_once(factory, settings, now=utcnow() + timedelta(days=2)).reminders == 0
    later = utcnow() + timedelta(days=3, hours=1)
    assert work_once(factory, settings, now=later).reminders == 2
    reminders = mailbox.wait_for(5)[3:]
    assert sorted(str(m["To"].addresses[0].addr_spec) for m in reminders) == [
        "silent@example.com",
        "started@example.com",
    ]
    czech = next(m for m in reminders if "silent" in str(m["To"]))
    assert czech["Subject"] == "Připomenutí: Váš nedávný nákup" and "před několika dny" in text_of(czech)
    assert work_once(factory, settings, now=later + timedelta(days=10)).reminders == 0
    assert len(mailbox.messages) == 5
    answered = client.get(
        "/api/v1/surveys/purchase-csat/invitations", params={"status": "answered"}, headers=admin_headers
    )
    assert [i["id"] for i in answered.json()["items"]] == [ids["answered"]]


def test_no_reminders_when_the_setting_is_zero(
    client: TestClient,
    admin_headers: dict[str, str],
    survey: dict[str, Any],
    mailbox: Mailbox,
    factory: sessionmaker[Session],
    settings: Settings,
) -> None:
    invite(client, admin_headers, customer_id=add_customer(client, admin_headers, "a@example.com", "A", "en"))
    never = settings.model_copy(update={"reminder_days": 0})
    work_once(factory, never)
    assert work_once(factory, never, now=utcnow() + timedelta(days=30)).reminders == 0
    assert len(mailbox.messages) == 1


def test_invitation_list_pages_and_refusals(
    client: TestClient, admin_headers: dict[str, str], survey: dict[str, Any]
) -> None:
    for n in range(3):
        add_customer(client, admin_headers, f"c{n}@example.com", f"C{n}", "en")
        invite(client, admin_headers, identities={"email": f"c{n}@example.com"})
    page = client.get("/api/v1/surveys/purchase-csat/invitations?limit=2&offset=1", headers=admin_headers).json()
    assert page["total"] == 3 and len(page["items"]) == 2 and page["items"][0]["status"] == "scheduled"
    nobody = invite(client, admin_headers)
    assert nobody.status_code == 422
    unknown = client.get("/api/v1/surveys/nope/invitations", headers=admin_headers)
    assert unknown.status_code == 404
    client.post("/api/v1/surveys/purchase-csat/status", json={"status": "closed"}, headers=admin_headers)
    closed = invite(client, admin_headers, identities={"email": "c0@example.com"}, channel="link")
    assert closed.status_code == 409
