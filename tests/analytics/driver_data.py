"""Ratings with a planted key driver: `waiting` moves the overall score most, `tidiness` not at all."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from cxm.customers.models import Customer
from cxm.feedback import service as feedback_service
from cxm.feedback.models import Answer, Response
from cxm.feedback.schemas import SurveyCreate

DRIVERS = ("waiting", "staff", "price", "tidiness")
EN = {"en": "?"}


@dataclass
class DriverData:
    """What was written: per complete response its scores (None: not answered), in response id order."""

    rows: list[dict[str, int | None]] = field(default_factory=list)
    customers: dict[int, list[int]] = field(default_factory=dict)  # customer -> purchase CSAT scores
    segments: dict[int, str] = field(default_factory=dict)


def _survey(session: Session, key: str, questions: list[dict[str, object]]) -> tuple[int, dict[str, int]]:
    definition = SurveyCreate.model_validate(
        {"key": key, "name": key, "title": EN, "thank_you": EN, "questions": [q | {"label": EN} for q in questions]}
    )
    survey = feedback_service.create_survey(session, definition)
    return survey.id, {q.key: q.id for q in feedback_service.questions_of(session, survey.id)}


def _scores(rng: random.Random) -> dict[str, int | None]:
    waiting = rng.randint(1, 5)
    staff = min(5, max(1, waiting + rng.choice([-1, 0, 0, 1])))  # correlated with waiting, as in real surveys
    price, tidiness = rng.randint(1, 5), rng.randint(1, 5)
    overall = round(1.4 * waiting + 0.5 * price + 0.3 * staff - 1.5 + rng.gauss(0, 1.2))
    found: dict[str, int | None] = {"overall": min(10, max(0, overall)), "waiting": waiting, "staff": staff}
    found |= {"price": price, "tidiness": tidiness if rng.random() > 0.1 else None}  # some skip a question
    return found


def _response(session: Session, survey: int, person: Customer, at: datetime, complete: bool) -> Response:
    response = Response(
        survey_id=survey,
        customer_id=person.id,
        language="en",
        channel="email",
        status="complete" if complete else "partial",
        started_at=at,
        completed_at=at if complete else None,
        updated_at=at,
        attributes={},
    )
    session.add(response)
    session.flush()
    return response


def _answer(session: Session, response: Response, questions: dict[str, int], scores: dict[str, int | None]) -> None:
    for key, score in scores.items():
        if score is not None:
            session.add(
                Answer(
                    response_id=response.id, question_id=questions[key], customer_id=response.customer_id, score=score
                )
            )


def load(session: Session, seed: int = 11) -> DriverData:
    """Write 60 customers, 700 store-visit responses (10% partial) and purchase CSAT answers."""
    rng, data = random.Random(seed), DriverData()
    people = [Customer(name=f"D{i}", segment=rng.choice(["retail", "business"]), attributes={}) for i in range(60)]
    session.add_all(people)
    session.flush()
    data.segments = {p.id: str(p.segment) for p in people}
    overall = {"key": "overall", "kind": "rating", "scale_min": 0, "scale_max": 10}
    ratings = [overall, *({"key": key, "kind": "rating"} for key in DRIVERS), {"key": "note", "kind": "text"}]
    visit, visit_questions = _survey(session, "store-visit", ratings)
    purchase, csat = _survey(session, "purchase", [{"key": "csat", "kind": "csat"}])
    start = datetime(2026, 2, 1, tzinfo=UTC)
    for index in range(700):
        person, at = rng.choice(people), start + timedelta(hours=index)
        scores = _scores(rng)
        response = _response(session, visit, person, at, complete=index % 10 != 0)
        _answer(session, response, visit_questions, scores)
        if response.status == "complete":
            data.rows.append(scores | {"customer_id": person.id})
    for person in people[:45]:
        score = rng.randint(1, 5)
        _answer(session, _response(session, purchase, person, start, True), csat, {"csat": score})
        data.customers.setdefault(person.id, []).append(score)
    return data
