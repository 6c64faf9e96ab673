"""The whole loop: an e-mail invitation arrives, its link opens the page in the customer's language, the answer lands
on the right customer and interaction once, and the invitation is marked answered."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from cxm.config import Settings
from cxm.worker import work_once
from tests.feedback.mailbox import Mailbox, text_of
from tests.feedback.survey_pages import invitation_row, post_step, stored
from tests.feedback.test_invitations import LINK, PUBLIC, add_customer, factory, mailbox, settings, survey

__all__ = ["factory", "mailbox", "settings", "survey"]  # fixtures shared with the invitation tests


def test_email_link_page_answer_once(
    client: TestClient,
    admin_headers: dict[str, str],
    survey: dict[str, Any],
    mailbox: Mailbox,
    factory: sessionmaker[Session],
    settings: Settings,
    db: Engine,
) -> None:
    customer_id = add_customer(client, admin_headers, "petra@example.cz", "Petra Malá", "cs")
    event = {
        "identities": {"email": "petra@example.cz"},
        "channel": "web",
        "type": "purchase",
        "occurred_at": "2026-11-20T10:00:00Z",
    }
    interaction_id = client.post("/api/v1/interactions", json=event, headers=admin_headers).json()["id"]
    body = {"customer_id": customer_id, "interaction_id": interaction_id}
    invitation = client.post("/api/v1/surveys/purchase-csat/invitations", json=body, headers=admin_headers).json()
    work_once(factory, settings)
    [message] = mailbox.wait_for(1)
    found = LINK.search(text_of(message))
    assert found is not None
    path = found.group(0).removeprefix(PUBLIC)
    page = client.get(path)
    assert page.status_code == 200 and 'lang="cs"' in page.text and "Jak jste spokojeni" in page.text
    for _ in range(2):  # the second submission edits the one response
        saved = post_step(client, path, 1, {"csat": "2", "found": "partly", "comment": "Dlouhé čekání na kurýra"})
        assert saved.status_code in (302, 303), saved.text
    [response] = stored(db)
    assert response["customer_id"] == customer_id and response["interaction_id"] == interaction_id
    assert response["invitation_id"] == invitation["id"] and response["language"] == "cs"
    assert response["answers"]["csat"] == 2 and response["status"] == "complete"
    assert invitation_row(db, invitation["id"]).answered_at is not None
