"""Helpers for the survey page tests: a template survey, a customer with an interaction, an invitation."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import Engine, select

from cxm.core.db import make_sessionmaker
from cxm.feedback.models import Answer, Invitation, Question, Response, Survey
from cxm.feedback.tokens import invitation_token

SURVEY = "relationship-nps"


@dataclass
class Invited:
    """A customer invited to the relationship NPS survey after an interaction."""

    customer_id: int
    interaction_id: int
    invitation_id: int
    token: str

    @property
    def link(self) -> str:
        """The personal link's path."""
        return f"/s/{SURVEY}/{self.token}"


def install_survey(http: httpx.Client, headers: dict[str, str], *, status: str = "active") -> None:
    """Create the relationship NPS template survey (five languages, display logic on step 2)."""
    made = http.post(f"/api/v1/surveys/from-template/{SURVEY}", headers=headers)
    assert made.status_code == 201, made.text
    if status != "active":
        changed = http.post(f"/api/v1/surveys/{SURVEY}/status", json={"status": status}, headers=headers)
        assert changed.status_code == 200, changed.text


def invite(http: httpx.Client, headers: dict[str, str], db: Engine, *, language: str | None = "cs") -> Invited:
    """A customer (in `language`) with a store purchase, and an e-mail invitation about it."""
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    customer = http.post(
        "/api/v1/customers", json={"identities": {"email": email}, "language": language}, headers=headers
    )
    assert customer.status_code == 200, customer.text
    event = {
        "identities": {"email": email},
        "channel": "store",
        "type": "purchase",
        "occurred_at": "2026-05-01T10:00:00Z",
    }
    interaction = http.post("/api/v1/interactions", json=event, headers=headers)
    assert interaction.status_code == 201, interaction.text
    customer_id, interaction_id = customer.json()["id"], interaction.json()["id"]
    with make_sessionmaker(db)() as session, session.begin():
        survey_id = session.scalar(select(Survey.id).where(Survey.key == SURVEY))
        invitation = Invitation(
            survey_id=survey_id, customer_id=customer_id, interaction_id=interaction_id, channel="email", key=email
        )
        session.add(invitation)
        session.flush()
        return Invited(customer_id, interaction_id, invitation.id, invitation_token(session, invitation.id))


def csrf_of(page: httpx.Response) -> str:
    """The CSRF token of a page's form."""
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def post_step(http: httpx.Client, path: str, step: int, answers: dict[str, Any], **extra: Any) -> httpx.Response:
    """Open a step's page (for its CSRF token) and post answers to it, without following the redirect."""
    page = http.get(path, params={"step": step})
    form = {"csrf": csrf_of(page), "step": str(step), **{f"q:{key}": value for key, value in answers.items()}}
    return http.post(path, data={**form, **extra}, follow_redirects=False)


def stored(db: Engine) -> list[dict[str, Any]]:
    """Every stored response with its answers keyed by question."""
    with make_sessionmaker(db)() as session:
        rows = []
        for response in session.scalars(select(Response).order_by(Response.id)):
            query = select(Question.key, Answer.score, Answer.choices, Answer.text).select_from(Answer).join(Question)
            answers = session.execute(query.where(Answer.response_id == response.id)).all()
            values = {key: score if score is not None else choices or text for key, score, choices, text in answers}
            columns = {column.key: getattr(response, column.key) for column in Response.__table__.columns}
            rows.append({**columns, "answers": values})
        return rows


def invitation_row(db: Engine, invitation_id: int) -> Invitation:
    """An invitation as stored now."""
    with make_sessionmaker(db)() as session:
        found = session.get_one(Invitation, invitation_id)
        session.expunge(found)
        return found
