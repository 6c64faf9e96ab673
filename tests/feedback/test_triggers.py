"""Triggers: interactions ingested through the real API invite their customers, sampled, capped, with consent."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from cxm.config import Settings
from cxm.core.db import utcnow
from cxm.feedback import service as feedback_service
from cxm.worker import work_once, worker_sessions
from tests.feedback.mailbox import Mailbox, smtp_server

PURCHASE = {"interaction_type": "purchase", "channel": "store", "journey_stage": "purchase", "cap_days": 30}


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server on a free port."""
    with smtp_server() as box:
        yield box


@pytest.fixture
def settings(database_url: str, mailbox: Mailbox) -> Settings:
    """The worker's settings (no reminders: they have tests of their own)."""
    return Settings(
        database_url=database_url, smtp_port=mailbox.port, public_url="https://cx.example.com", reminder_days=0
    )


@pytest.fixture
def factory(db: Engine, settings: Settings) -> sessionmaker[Session]:
    """The worker's sessions."""
    return worker_sessions(db, settings)


@pytest.fixture
def api(client: TestClient, admin_headers: dict[str, str]) -> Api:
    """The API with the purchase CSAT and relationship NPS surveys created."""
    for name in ("purchase-csat", "relationship-nps"):
        assert client.post(f"/api/v1/surveys/from-template/{name}", headers=admin_headers).status_code == 201
    client.post("/api/v1/surveys/relationship-nps/status", json={"status": "active"}, headers=admin_headers)
    return Api(client, admin_headers)


class Api:
    """Short calls to the real API."""

    def __init__(self, client: TestClient, headers: dict[str, str]) -> None:
        self.client, self.headers = client, headers
        self.events = 0

    def trigger(self, survey: str = "purchase-csat", **body: Any) -> dict[str, Any]:
        """Create a trigger."""
        made = self.client.post(f"/api/v1/surveys/{survey}/triggers", json=body, headers=self.headers)
        assert made.status_code == 201, made.text
        return dict(made.json())

    def interactions(self, emails: list[str], at: datetime | None = None, **fields: Any) -> None:
        """Ingest one interaction per e-mail address in one batch (purchase in store unless told)."""
        items = []
        for email in emails:
            self.events += 1
            item = {"channel": "store", "journey_stage": "purchase", "type": "purchase", **fields}
            when = (at or utcnow()).isoformat()
            items.append({"event_id": f"e{self.events}", "identities": {"email": email}, "occurred_at": when, **item})
        stored = self.client.post("/api/v1/interactions/batch", json={"interactions": items}, headers=self.headers)
        assert stored.status_code == 200, stored.text

    def invitations(self, survey: str = "purchase-csat") -> list[dict[str, Any]]:
        """A survey's invitations, oldest first."""
        listed = self.client.get(f"/api/v1/surveys/{survey}/invitations?limit=500", headers=self.headers)
        return list(reversed(listed.json()["items"]))

    def customer(self, email: str) -> int:
        """A customer's id by e-mail."""
        found = self.client.get("/api/v1/customers", params={"identity": f"email:{email}"}, headers=self.headers)
        return int(found.json()["items"][0]["id"])


def test_a_thirty_day_cap_invites_a_customer_once_after_five_interactions(
    api: Api, factory: sessionmaker[Session], settings: Settings, mailbox: Mailbox
) -> None:
    api.trigger(**PURCHASE)
    api.interactions(["ann@example.com"] * 3)
    assert work_once(factory, settings).invited == 1
    api.interactions(["ann@example.com"] * 2)
    assert work_once(factory, settings).invited == 0
    [invitation] = api.invitations()
    assert invitation["customer_id"] == api.customer("ann@example.com") and invitation["interaction_id"] is not None
    assert len(mailbox.wait_for(1)) == 1
    # The cap holds across surveys: another survey's trigger does not ask her either.
    api.trigger("relationship-nps", interaction_type="purchase", cap_days=30)
    api.interactions(["ann@example.com"])
    assert work_once(factory, settings).invited == 0
    # After the cap she may be asked again.
    later = utcnow() + timedelta(days=31)
    api.interactions(["ann@example.com"], at=later)
    assert work_once(factory, settings, now=later).invited == 1
    assert len(mailbox.wait_for(2)) == 2


def test_without_a_cap_each_interaction_invites(api: Api, factory: sessionmaker[Session], settings: Settings) -> None:
    api.trigger(**{**PURCHASE, "cap_days": 0})
    api.interactions(["ann@example.com"] * 3)
    assert work_once(factory, settings).invited == 3
    assert work_once(factory, settings).invited == 0


@pytest.mark.parametrize(("percent", "low", "high"), [(0, 0, 0), (100, 40, 40), (50, 5, 35)])
def test_sampling(
    api: Api, factory: sessionmaker[Session], settings: Settings, percent: int, low: int, high: int
) -> None:
    api.trigger(**{**PURCHASE, "sample_percent": percent})
    api.interactions([f"c{n}@example.com" for n in range(40)])
    invited = work_once(factory, settings).invited
    assert low <= invited <= high
    assert len(api.invitations()) == invited


def test_revoked_consent_means_no_invitation(
    api: Api, factory: sessionmaker[Session], settings: Settings, mailbox: Mailbox
) -> None:
    api.interactions(["no@example.com", "yes@example.com", "unsaid@example.com"], type="visit")
    for email, granted in (("no@example.com", False), ("yes@example.com", True)):
        consent = {"purpose": "surveys", "granted": granted}
        api.client.post(f"/api/v1/customers/{api.customer(email)}/consents", json=consent, headers=api.headers)
    api.trigger(**PURCHASE)
    api.interactions(["no@example.com", "yes@example.com", "unsaid@example.com"])
    assert work_once(factory, settings).invited == 2
    invited = {i["customer_id"] for i in api.invitations()}
    assert invited == {api.customer("yes@example.com"), api.customer("unsaid@example.com")}
    assert sorted(str(m["To"].addresses[0].addr_spec) for m in mailbox.wait_for(2)) == [
        "unsaid@example.com",
        "yes@example.com",
    ]


def test_other_types_channels_and_stages_are_ignored(
    api: Api, factory: sessionmaker[Session], settings: Settings
) -> None:
    api.trigger(**PURCHASE)
    api.interactions(["a@example.com"], type="visit")
    api.interactions(["b@example.com"], channel="web")
    api.interactions(["c@example.com"], journey_stage="post_purchase")
    api.interactions(["d@example.com"])
    assert work_once(factory, settings).invited == 1
    assert [i["customer_id"] for i in api.invitations()] == [api.customer("d@example.com")]


def test_interactions_from_before_the_trigger_are_ignored(
    api: Api, factory: sessionmaker[Session], settings: Settings
) -> None:
    api.interactions(["early@example.com"])
    api.trigger(**PURCHASE)
    assert work_once(factory, settings).invited == 0
    api.interactions(["late@example.com"])
    assert work_once(factory, settings).invited == 1
    assert [i["customer_id"] for i in api.invitations()] == [api.customer("late@example.com")]


def test_the_invitation_goes_after_the_delay(
    api: Api, factory: sessionmaker[Session], settings: Settings, mailbox: Mailbox
) -> None:
    api.trigger(**{**PURCHASE, "delay_minutes": 120})
    occurred = utcnow()
    api.interactions(["ann@example.com"], at=occurred)
    assert work_once(factory, settings).invited == 1
    [invitation] = api.invitations()
    assert datetime.fromisoformat(invitation["send_at"]) == occurred + timedelta(minutes=120)
    assert mailbox.messages == []
    assert work_once(factory, settings, now=occurred + timedelta(minutes=121)).jobs == 1
    assert len(mailbox.wait_for(1)) == 1


def test_old_history_does_not_send_surveys(api: Api, factory: sessionmaker[Session], settings: Settings) -> None:
    api.trigger(**PURCHASE)
    api.interactions(["old@example.com"], at=utcnow() - timedelta(days=400))
    api.interactions(["new@example.com"], at=utcnow() - timedelta(days=1))
    assert work_once(factory, settings).invited == 1


def test_stopped_triggers_and_closed_surveys_invite_nobody(
    api: Api, factory: sessionmaker[Session], settings: Settings
) -> None:
    trigger = api.trigger(**PURCHASE)
    api.trigger("relationship-nps", interaction_type="visit")
    stopped = api.client.delete(f"/api/v1/surveys/purchase-csat/triggers/{trigger['id']}", headers=api.headers)
    assert stopped.status_code == 200 and stopped.json()["active"] is False
    api.client.post("/api/v1/surveys/relationship-nps/status", json={"status": "closed"}, headers=api.headers)
    api.interactions(["a@example.com"])
    api.interactions(["a@example.com"], type="visit")
    assert work_once(factory, settings).invited == 0
    listed = api.client.get("/api/v1/surveys/purchase-csat/triggers", headers=api.headers).json()
    assert [(t["id"], t["active"]) for t in listed] == [(trigger["id"], False)]


def test_a_bulk_import_is_matched_in_one_round(
    api: Api, factory: sessionmaker[Session], settings: Settings, db: Engine
) -> None:
    api.trigger(**PURCHASE)
    api.interactions([f"c{n % 300}@example.com" for n in range(900)])
    with factory.begin() as session:
        assert feedback_service.match_triggers(session) == 300
    with db.connect() as connection:
        assert connection.scalar(text("SELECT count(DISTINCT customer_id) FROM invitations")) == 300
        queued = "SELECT count(*) FROM jobs WHERE status = 'queued' AND name = 'feedback.send_invitation'"
        assert connection.scalar(text(queued)) == 300


def test_workers_side_by_side_invite_each_customer_once(
    api: Api, factory: sessionmaker[Session], settings: Settings, mailbox: Mailbox
) -> None:
    api.trigger(**PURCHASE)
    api.interactions([f"c{n}@example.com" for n in range(20)] * 2)
    rounds = [threading.Thread(target=work_once, args=(factory, settings)) for _ in range(3)]
    for worker in rounds:
        worker.start()
    for worker in rounds:
        worker.join()
    work_once(factory, settings)
    assert len(api.invitations()) == 20
    assert sorted(str(m["To"]) for m in mailbox.wait_for(20)) == sorted(f"c{n}@example.com" for n in range(20))


def test_trigger_api_checks_its_input(api: Api) -> None:
    bad = api.client.post(
        "/api/v1/surveys/purchase-csat/triggers",
        json={"interaction_type": "x", "sample_percent": 101},
        headers=api.headers,
    )
    assert bad.status_code == 422
    assert api.client.get("/api/v1/surveys/nope/triggers", headers=api.headers).status_code == 404
