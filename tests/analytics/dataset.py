"""A small, varied feedback dataset written to the operational database, with the same rows kept in Python."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from cxm.customers.models import Customer
from cxm.feedback import service as feedback_service
from cxm.feedback.models import Answer, Invitation, Question, Response
from cxm.interactions.models import Interaction

CHANNELS = ["web", "store", "phone", "chat"]
STAGES = ["awareness", "purchase", "post_purchase", None]
SEGMENTS = ["retail", "business", None]
LANGUAGES = ["en", "cs", "pl"]
KINDS = {"relationship-nps": "nps", "purchase-csat": "csat", "support-ces": "ces"}


@dataclass
class Dataset:
    """What was written, as plain records: the reference computes from these, not from a database."""

    scores: list[dict[str, Any]] = field(default_factory=list)
    # Completed responses without a scored answer (a comment only, a skipped score): counted as responses only.
    unscored: list[dict[str, Any]] = field(default_factory=list)
    waits: list[dict[str, Any]] = field(default_factory=list)
    invitations: list[dict[str, Any]] = field(default_factory=list)
    segments: dict[int, str | None] = field(default_factory=dict)
    attributes: dict[int, dict[str, Any]] = field(default_factory=dict)
    erased: int | None = None


def _when(rng: random.Random) -> datetime:
    return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=rng.randrange(120), seconds=rng.randrange(86_400))


def _attributes(index: int) -> dict[str, Any]:
    """Free attributes of every JSON kind: text (sometimes absent), a boolean, a number, a key with a dash, text that
    looks like markup."""
    found: dict[str, Any] = {"vip": index % 5 == 0, "visits": index % 3 + 1}
    if index % 4:
        found["tier"] = ["gold", "silver", "bronze"][index % 3]
    if index % 2:
        found["home-store"] = "Brno" if index % 3 else None
    if index % 7 == 0:  # customers' own words, which no output may read as markup
        found["motto"] = "[/x] [b]loud[/b] :smile: <i>"
    return found


def _customers(session: Session, rng: random.Random, data: Dataset) -> list[Customer]:
    people = [
        Customer(name=f"P{i}", segment=rng.choice(SEGMENTS), country="CZ", attributes=_attributes(i)) for i in range(70)
    ]
    session.add_all(people)
    session.flush()
    data.segments = {person.id: person.segment for person in people}
    data.attributes = {person.id: dict(person.attributes) for person in people}
    return people


def _interactions(session: Session, rng: random.Random, people: list[Customer], data: Dataset) -> list[Interaction]:
    made = []
    for index in range(400):
        person, at = rng.choice(people), _when(rng)
        answered = at + timedelta(seconds=rng.choice([30, 600, 3000, 3600, 7200, 90_000])) if index % 5 else None
        channel = rng.choice(CHANNELS)
        made.append(
            Interaction(
                customer_id=person.id,
                channel=channel,
                store=["Brno", "Praha", "Ostrava"][index % 3] if channel == "store" else None,
                journey_stage=rng.choice(STAGES),
                direction="inbound" if index % 7 else "outbound",
                type="question",
                occurred_at=at,
                responded_at=answered,
                agent=rng.choice(["ann", "bob"]),
                attributes={},
            )
        )
    session.add_all(made)
    session.flush()
    for row in made:
        if row.direction == "inbound" and row.responded_at is not None:
            seconds = (row.responded_at - row.occurred_at).total_seconds()
            data.waits.append(
                {"customer_id": row.customer_id, "channel": row.channel, "store": row.store, "seconds": seconds}
            )
    return made


def _questions(session: Session) -> dict[str, Question]:
    surveys = feedback_service.install_templates(session)
    found = {}
    for survey in surveys:
        main = feedback_service.questions_of(session, survey.id)[0]
        found[survey.key] = main
    return found


def _responses(session: Session, rng: random.Random, touchpoints: list[Interaction], data: Dataset) -> None:
    questions = _questions(session)
    for index in range(900):
        survey = rng.choice(list(KINDS))
        question, touch = questions[survey], rng.choice(touchpoints)
        at = _when(rng)
        score = rng.randint(question.scale_min or 0, question.scale_max or 0)
        response = Response(
            survey_id=question.survey_id,
            customer_id=touch.customer_id,
            interaction_id=touch.id,
            language=rng.choice(LANGUAGES),
            channel="email",
            status="complete" if index % 10 else "partial",
            started_at=at,
            completed_at=at if index % 10 else None,
            updated_at=at,
            attributes={},
        )
        session.add(response)
        session.flush()
        session.add(
            Answer(response_id=response.id, question_id=question.id, customer_id=touch.customer_id, score=score)
        )
        if response.status == "complete":
            data.scores.append(
                {
                    "kind": KINDS[survey],
                    "survey": survey,
                    "score": score,
                    "channel": touch.channel,
                    "store": touch.store,
                    "stage": touch.journey_stage,
                    "language": response.language,
                    "month": at.strftime("%Y-%m"),
                    "quarter": f"{at.year}-Q{(at.month - 1) // 3 + 1}",
                    "completed_at": at,
                    "customer_id": touch.customer_id,
                }
            )


def _unscored_responses(session: Session, rng: random.Random, touchpoints: list[Interaction], data: Dataset) -> None:
    """Completed responses that gave no score: a comment alone, or a skipped score with a comment; and a partial one
    with a comment (counted nowhere)."""
    surveys = {survey.key: survey.id for survey in feedback_service.install_templates(session)}
    for index in range(31):
        survey, touch, at = rng.choice(list(KINDS)), rng.choice(touchpoints), _when(rng)
        asked = feedback_service.questions_of(session, surveys[survey])
        main, comment = asked[0], next(question for question in asked if question.kind == "text")
        complete = index % 10 != 9
        response = Response(
            survey_id=surveys[survey], customer_id=touch.customer_id, interaction_id=touch.id,
            language=rng.choice(LANGUAGES), channel="email", status="complete" if complete else "partial",
            started_at=at, completed_at=at if complete else None, updated_at=at, attributes={},
        )  # fmt: skip
        session.add(response)
        session.flush()
        person = touch.customer_id
        skipped = [Answer(response_id=response.id, question_id=main.id, customer_id=person)] if index % 2 else []
        said = Answer(response_id=response.id, question_id=comment.id, customer_id=person, text="ok")
        session.add_all([*skipped, said])
        if complete:
            data.unscored.append(
                {"survey": survey, "channel": touch.channel, "language": response.language,
                 "month": at.strftime("%Y-%m"), "completed_at": at, "customer_id": touch.customer_id}
            )  # fmt: skip


def _invitations(session: Session, rng: random.Random, people: list[Customer], data: Dataset) -> None:
    surveys = {s.key: s.id for s in feedback_service.install_templates(session)}
    for index in range(150):
        person, survey, at = rng.choice(people), rng.choice(list(KINDS)), _when(rng)
        answered = at + timedelta(hours=3) if rng.random() < 0.4 else None
        session.add(
            Invitation(
                survey_id=surveys[survey],
                customer_id=person.id,
                channel="email",
                key=f"ds-{index}",
                status="sent",
                send_at=at,
                sent_at=at,
                answered_at=answered,
            )
        )
        data.invitations.append({"survey": survey, "answered": answered is not None, "customer_id": person.id})


def load(session: Session, seed: int = 3) -> Dataset:
    """Write the dataset; the same seed writes the same rows."""
    rng, data = random.Random(seed), Dataset()
    people = _customers(session, rng, data)
    touchpoints = _interactions(session, rng, people, data)
    _responses(session, rng, touchpoints, data)
    _unscored_responses(session, random.Random(seed + 1), touchpoints, data)
    _invitations(session, rng, people, data)
    return data
