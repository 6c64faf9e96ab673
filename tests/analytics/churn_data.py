"""Customers whose churn is planted: people who leave first wait in vain for answers and complain.

Everyone orders every 10-30 days until they leave (or to the end). In the 50 days before leaving, a leaver asks
two questions nobody answers and files a complaint, and gives an NPS of 2; stayers' questions are answered within
hours and they give NPS 9. Recency alone only sees leavers who are already gone, so a model that reads the
unanswered questions beats it on a later cut-off. Customer `planted` leaves just before the test cut-off with only
unanswered questions (no complaint, no score): its top reason must be the unanswered questions.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from cxm.customers.models import Customer
from cxm.feedback import service as feedback_service
from cxm.feedback.models import Answer, Response
from cxm.interactions.models import Interaction, Order

START = datetime(2025, 1, 1, tzinfo=UTC)
END = datetime(2026, 1, 1, tzinfo=UTC)
TRAIN = datetime(2025, 7, 1, tzinfo=UTC)
TEST = TRAIN + timedelta(days=90)
PEOPLE = 240


@dataclass
class ChurnData:
    """What was written: per customer the leaving time and orders, for hand computations."""

    leaves: dict[int, datetime | None] = field(default_factory=dict)
    orders: dict[int, list[tuple[datetime, float]]] = field(default_factory=dict)
    segments: dict[int, str] = field(default_factory=dict)
    category_spend: dict[int, float] = field(default_factory=dict)
    planted: int = 0


def _leaving(rng: random.Random, index: int) -> datetime | None:
    """A third never leave; the others leave at a time spread over the second half of the history."""
    if index == 0:
        return TEST - timedelta(days=1)
    if index % 3 == 0:
        return None
    return START + timedelta(days=rng.uniform(120, 420))


def _person(session: Session, rng: random.Random, index: int, data: ChurnData) -> Customer:
    segment = ("retail", "business")[index % 2]
    attributes = {"category_spend": 4000.0} if index % 4 == 1 else {}
    person = Customer(name=f"C{index}", segment=segment, country="CZ", attributes=attributes)
    session.add(person)
    session.flush()
    data.segments[person.id] = segment
    if attributes:
        data.category_spend[person.id] = 4000.0
    return person


def _orders(session: Session, rng: random.Random, person: Customer, leaves: datetime | None, data: ChurnData) -> None:
    at, made = START + timedelta(days=rng.uniform(0, 200) if person.id % 2 else rng.uniform(0, 20)), []
    last = min(leaves or END, END)
    while at < last:
        amount = float(rng.choice((40, 60, 80, 120)))
        made.append((at, amount))
        session.add(
            Order(
                order_id=f"o-{person.id}-{len(made)}",
                customer_id=person.id,
                occurred_at=at,
                amount=Decimal(str(amount)),
                currency="EUR",
                channel=rng.choice(("web", "store")),
                attributes={},
            )
        )
        at += timedelta(days=rng.uniform(10, 30))
    data.orders[person.id] = made


def _contact(person: Customer, at: datetime, kind: str, answered: bool) -> Interaction:
    return Interaction(
        customer_id=person.id,
        channel="email",
        journey_stage="post_purchase",
        direction="inbound",
        type=kind,
        occurred_at=at,
        responded_at=at + timedelta(hours=2) if answered else None,
        attributes={},
    )


def _contacts(session: Session, rng: random.Random, person: Customer, leaves: datetime | None, planted: bool) -> None:
    if leaves is not None:
        for days in (rng.uniform(20, 50), rng.uniform(5, 20)):
            session.add(_contact(person, leaves - timedelta(days=days), "question", answered=False))
        if not planted:
            session.add(_contact(person, leaves - timedelta(days=rng.uniform(5, 40)), "complaint", answered=True))
    for _ in range(rng.randint(0, 3)):
        at = START + timedelta(days=rng.uniform(0, 365))
        if leaves is None or at < leaves - timedelta(days=60):
            session.add(_contact(person, at, "question", answered=True))


def _nps(session: Session, person: Customer, leaves: datetime | None, survey_id: int, question_id: int) -> None:
    at = (leaves - timedelta(days=10)) if leaves is not None else START + timedelta(days=100 + person.id % 200)
    score = 2 if leaves is not None else 9
    response = Response(
        survey_id=survey_id, customer_id=person.id, language="en", channel="email", status="complete",
        started_at=at, completed_at=at, updated_at=at, attributes={},
    )  # fmt: skip
    session.add(response)
    session.flush()
    session.add(Answer(response_id=response.id, question_id=question_id, customer_id=person.id, score=score))


def load(session: Session, seed: int = 11) -> ChurnData:
    """Write the customers, their orders, contacts and NPS answers; the same seed writes the same rows."""
    rng, data = random.Random(seed), ChurnData()
    survey = next(s for s in feedback_service.install_templates(session) if s.key == "relationship-nps")
    question = feedback_service.questions_of(session, survey.id)[0]
    for index in range(PEOPLE):
        person, leaves = _person(session, rng, index, data), _leaving(rng, index)
        data.leaves[person.id] = leaves
        _orders(session, rng, person, leaves, data)
        _contacts(session, rng, person, leaves, planted=index == 0)
        if index:
            _nps(session, person, leaves, survey.id, question.id)
    data.planted = next(iter(data.leaves))
    session.flush()
    return data
