"""Journeys and a loyalty ladder with planted structure (what the tests expect is written next to how it is made).

Journeys: 50 customers enter on the web (40 buy, 36 of them get post-purchase service), 40 through social ads
(only 10 buy: the planted drop-off; 5 go on), 4 buy in a store first and browse the app afterwards (out of order).
Post-purchase CSAT decides relationship NPS (the moment that matters); purchase CSAT does not.

Ladder: one customer per planted behaviour, placed at the end of May and of June 2026 (see `RUNGS`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count

from sqlalchemy.orm import Session

from cxm.customers.models import Customer
from cxm.feedback import service as feedback_service
from cxm.feedback.models import Answer, Response
from cxm.interactions.models import Interaction, Order

START = datetime(2026, 1, 5, 9, tzinfo=UTC)
DAY = timedelta(days=1)
_orders = count(1)


@dataclass
class JourneyData:
    """Customer ids per entry group and the planted experience per post-purchase customer."""

    groups: dict[str, list[int]] = field(default_factory=dict)
    post_good: dict[int, bool] = field(default_factory=dict)
    purchase_csat: dict[int, int] = field(default_factory=dict)


def _person(session: Session, name: str, segment: str | None) -> Customer:
    person = Customer(name=name, segment=segment, attributes={})
    session.add(person)
    session.flush()
    return person


def touch(session: Session, person: int, at: datetime, stage: str | None, channel: str, kind: str,
          direction: str = "inbound") -> Interaction:  # fmt: skip
    """One touchpoint."""
    made = Interaction(customer_id=person, channel=channel, journey_stage=stage, direction=direction, type=kind,
                       occurred_at=at, attributes={})  # fmt: skip
    session.add(made)
    session.flush()
    return made


def order(session: Session, person: int, at: datetime, amount: int, currency: str = "EUR") -> None:
    """One order."""
    session.add(Order(order_id=f"o-{next(_orders)}", customer_id=person, occurred_at=at, amount=amount,
                      currency=currency, channel="web", attributes={}))  # fmt: skip
    session.flush()


def answer(session: Session, person: int, survey: str, score: int, at: datetime, about: int | None = None) -> None:
    """A complete response with one scored answer, optionally tied to an interaction."""
    chosen = feedback_service.get_survey(session, survey)
    question = feedback_service.questions_of(session, chosen.id)[0]
    response = Response(survey_id=chosen.id, customer_id=person, interaction_id=about, language="en",
                        channel="email", status="complete", started_at=at, completed_at=at, updated_at=at,
                        attributes={})  # fmt: skip
    session.add(response)
    session.flush()
    session.add(Answer(response_id=response.id, question_id=question.id, customer_id=person, score=score))


def _journey(session: Session, data: JourneyData, group: str, index: int, buys: bool, served: bool) -> None:
    segment = {"web": "retail", "social": "business"}.get(group)
    person = _person(session, f"{group}{index}", segment).id
    data.groups.setdefault(group, []).append(person)
    t0 = START + timedelta(hours=len(data.groups[group]) + 100 * len(data.groups))
    touch(session, person, t0, "awareness", group, "page_view")
    if group == "web":
        touch(session, person, t0 + timedelta(hours=1), "awareness", "web", "product_view")
    if not buys:
        return
    bought = touch(session, person, t0 + (2 if group == "web" else 3) * DAY, "purchase", "web", "checkout")
    k = len(data.purchase_csat)
    data.purchase_csat[person] = 4 if k % 2 == 0 else 2
    answer(session, person, "purchase-csat", data.purchase_csat[person], bought.occurred_at + DAY, bought.id)
    if served:
        _served(session, data, person, bought.occurred_at + 3 * DAY)
    else:
        answer(session, person, "relationship-nps", 7 + k % 2, t0 + 10 * DAY)


def _served(session: Session, data: JourneyData, person: int, at: datetime) -> None:
    """Post-purchase service with a planted CSAT that decides the customer's NPS."""
    k = len(data.post_good)
    good = data.post_good[person] = k % 3 != 0
    service = touch(session, person, at, "post_purchase", "email", "delivery_query")
    answer(session, person, "purchase-csat", 5 if good else 1, at + timedelta(hours=2), service.id)
    answer(session, person, "relationship-nps", 9 + k % 2 if good else 2 + k % 4, at + 5 * DAY)


def load_journeys(session: Session) -> JourneyData:
    """Write the planted journeys."""
    feedback_service.install_templates(session)
    data = JourneyData()
    for index in range(50):
        _journey(session, data, "web", index, buys=index < 40, served=index < 36)
    for index in range(40):
        _journey(session, data, "social", index, buys=index < 10, served=index < 5)
    for index in range(4):
        person = _person(session, f"app{index}", None).id
        data.groups.setdefault("app", []).append(person)
        touch(session, person, START + index * DAY, "purchase", "store", "purchase")
        touch(session, person, START + (index + 1) * DAY, "awareness", "app", "product_view")
    return data


def at(month: int, day: int, hour: int = 12) -> datetime:
    """A time in 2025/2026 (month 0 and below: 2025)."""
    year = 2026 if month >= 1 else 2025
    return datetime(year, month if month >= 1 else month + 12, day, hour, tzinfo=UTC)


# name -> (rung at the end of May 2026 or None when not yet a customer, rung at the end of June 2026)
RUNGS = {
    "lost": ("lost", "lost"),
    "referrer": ("unknown", "advocate"),
    "detractor": ("unknown", "at_risk"),
    "loyal": ("loyal", "loyal"),
    "satisfied": (None, "satisfied"),
    "newcomer": (None, "unknown"),
    "promoter": ("unknown", "advocate"),
    "fading": ("at_risk", "at_risk"),
    "complainer": (None, "at_risk"),
    "soured": ("satisfied", "at_risk"),
}


def load_ladder(session: Session) -> dict[str, int]:
    """One customer per planted behaviour; their ids by name."""
    feedback_service.install_templates(session)
    ids = {name: _person(session, name, "retail").id for name in RUNGS}
    touch(session, ids["lost"], at(-7, 1), "awareness", "web", "page_view")  # May 2025
    touch(session, ids["referrer"], at(5, 3), "awareness", "web", "page_view")
    touch(session, ids["referrer"], at(6, 10), None, "web", "referral")
    touch(session, ids["detractor"], at(4, 1), "awareness", "web", "page_view")
    answer(session, ids["detractor"], "relationship-nps", 3, at(6, 1))
    order(session, ids["loyal"], at(1, 15), 100)
    order(session, ids["loyal"], at(5, 20), 200)
    order(session, ids["satisfied"], at(6, 5), 30)
    answer(session, ids["satisfied"], "purchase-csat", 5, at(6, 5, 15))
    touch(session, ids["newcomer"], at(6, 20), "awareness", "web", "page_view")
    order(session, ids["newcomer"], at(6, 20, 13), 1000, "CZK")
    order(session, ids["promoter"], at(3, 1), 50)
    order(session, ids["promoter"], at(6, 1), 80)
    answer(session, ids["promoter"], "relationship-nps", 10, at(6, 2))
    for month, day in ((1, 10), (1, 20), (2, 5), (2, 20), (3, 1), (3, 10), (5, 15)):
        touch(session, ids["fading"], at(month, day), "awareness", "app", "product_view")
    touch(session, ids["complainer"], at(6, 3), "post_purchase", "email", "complaint")
    touch(session, ids["complainer"], at(6, 4), "post_purchase", "email", "newsletter", direction="outbound")
    answer(session, ids["soured"], "purchase-csat", 5, at(5, 10))
    answer(session, ids["soured"], "relationship-nps", 2, at(6, 12))
    return ids
