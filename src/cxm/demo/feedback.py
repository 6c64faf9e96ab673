"""The demo company's survey responses: scores follow the customer's recent experience, comments are in their language.

- purchase-csat answers follow some purchases, a few days later (after delivery), linked to the purchase;
- support-ces answers follow some phone, chat and e-mail contacts with the contact centre, linked to the contact;
- relationship-nps is asked of a sample of customers at a random time.
Complaints, returns, failed deliveries and slow or missing replies in the weeks before lower the scores;
smooth journeys and praise raise them. Only customers who granted `surveys` consent (and did not revoke it)
answer. Everything is drawn from a random generator of its own, so the rest of the company is unchanged.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from cxm.customers import service as customers_service
from cxm.demo import comments, phrases
from cxm.demo.journeys import Event
from cxm.demo.people import Person
from cxm.feedback import service as feedback_service

PURCHASES = frozenset({"checkout", "purchase", "phone_order"})
CONTACTS = frozenset({"support_call", "chat_question", "delivery_query", "complaint", "question", "compliment"})
CONTACT_CHANNELS = frozenset({"phone", "chat", "email"})
# A reply slower than this counts against the experience (seconds, per channel).
SLOW = {"phone": 180, "chat": 180, "email": 24 * 3600, "social": 24 * 3600, "app": 48 * 3600}
# How much each kind of trouble (or delight) in the weeks before lowers the score, in NPS points.
WEIGHTS = {"complaint": 3.0, "return": 1.5, "failed_delivery": 2.5, "unanswered": 2.0, "slow": 1.2, "praise": -0.8}
THEME_OF = {"complaint": "quality", "return": "quality", "failed_delivery": "delivery", "unanswered": "waiting"}
THEME_OF |= {"slow": "waiting"}
OPTION_OF = {"price": "price", "quality": "quality", "delivery": "delivery", "staff": "service"}
OPTION_OF |= {"waiting": "service", "website": "website"}
WINDOW = timedelta(days=45)
# A relationship score remembers older trouble too, at half weight.
MEMORY = timedelta(days=180)
CHUNK = 10_000


@dataclass
class Drawn:
    """One response of the demo: to which survey, by whom, when, after which touchpoint, with which answers."""

    survey: str
    person: Person
    at: datetime
    answers: dict[str, Any]
    event_index: int | None = None
    channel: str = "email"
    # Whom the answer is filed under: the touchpoint's identities (so both land on the same profile), else
    # the person's main identity.
    keys: dict[str, str] = field(default_factory=dict)


def trouble(event: Event) -> list[str]:
    """What in a touchpoint shapes how the customer feels afterwards."""
    values = event.values
    kind, topic = values["type"], values["attributes"].get("topic")
    found = []
    if kind == "complaint" or topic == "complaint":
        found.append("complaint")
    if kind in ("return", "return_request"):
        found.append("return")
    if kind == "delivery_failed":
        found.append("failed_delivery")
    if topic == "praise" or kind == "compliment":
        found.append("praise")
    return found + _reply_trouble(event)


def _reply_trouble(event: Event) -> list[str]:
    values = event.values
    if values["direction"] != "inbound" or values["channel"] not in SLOW or values["type"] not in CONTACTS:
        return []
    if values["responded_at"] is None:
        return ["unanswered"]
    waited = (values["responded_at"] - event.at).total_seconds()
    return ["slow"] if waited > SLOW[values["channel"]] else []


class Feedback:
    """Draws the demo's responses for one seed."""

    def __init__(self, rng: random.Random, anchor: datetime) -> None:
        self.rng, self.anchor = rng, anchor
        self.history: dict[int, list[tuple[datetime, str]]] = defaultdict(list)

    def draw(self, people: Sequence[Person], events: Sequence[Event]) -> list[Drawn]:
        """Every response, oldest first."""
        first_seen: dict[int, datetime] = {}
        for event in events:
            if event.person is not None:
                first_seen.setdefault(event.person.index, event.at)
                self.history[event.person.index].extend((event.at, found) for found in trouble(event))
        drawn = [d for index, event in enumerate(events) if (d := self.after(index, event)) is not None]
        drawn += [d for person in people if (d := self.relationship(person, first_seen)) is not None]
        drawn = [d for d in drawn if d.at <= self.anchor and d.person.consents.get("surveys")]
        drawn.sort(key=lambda d: d.at)
        return drawn

    def after(self, index: int, event: Event) -> Drawn | None:
        """A transactional response to a purchase or a contact centre contact, sometimes."""
        person, values = event.person, event.values
        if person is None or not person.consents.get("surveys"):
            return None
        if values["type"] in PURCHASES and self.rng.random() < 0.15:
            at = event.at + timedelta(days=self.rng.uniform(2, 6))
            return self.linked(Drawn("purchase-csat", person, at, self.csat(person, at, event), index), event)
        contact = values["type"] in CONTACTS and values["channel"] in CONTACT_CHANNELS
        if contact and values["direction"] == "inbound" and self.rng.random() < 0.25:
            at = (values["responded_at"] or event.at) + timedelta(hours=self.rng.uniform(1, 30))
            return self.linked(Drawn("support-ces", person, at, self.ces(person, event), index), event)
        return None

    def linked(self, drawn: Drawn, event: Event) -> Drawn:
        """A response filed like its touchpoint, invited by e-mail, or by text message when only a phone is known."""
        drawn.keys = dict(event.keys)
        drawn.channel = "email" if "email" in event.keys else "sms"
        return drawn

    def relationship(self, person: Person, first_seen: dict[int, datetime]) -> Drawn | None:
        """A relationship NPS answer at a random time after the customer's first touchpoint, sometimes."""
        start = first_seen.get(person.index)
        if start is None or not person.consents.get("surveys") or self.rng.random() > 0.4:
            return None
        at = start + (self.anchor - start) * self.rng.random()
        channel = self.rng.choices(("email", "link", "widget"), (7, 2, 1))[0]
        return Drawn("relationship-nps", person, at, self.nps(person, at), channel=channel)

    # -- scores ---------------------------------------------------------------------------------------

    def recent(
        self, person: Person, at: datetime, since: timedelta = WINDOW, until: timedelta = timedelta()
    ) -> list[str]:
        """The trouble (and praise) a customer met between `since` and `until` before `at`."""
        return [found for when, found in self.history[person.index] if at - since <= when <= at - until]

    def penalty(self, found: Sequence[str], older: Sequence[str] = ()) -> float:
        """How many NPS points the experience costs (capped; praise gives some back)."""
        remembered = 0.5 * sum(WEIGHTS[f] for f in older if f != "praise")
        return max(-1.5, min(7.0, sum(WEIGHTS[f] for f in found) + remembered))

    def score(self, mean: float, spread: float, low: int, high: int, penalty: float) -> int:
        """A score on a scale, drawn around `mean` less the penalty."""
        return max(low, min(high, round(self.rng.gauss(mean - penalty, spread))))

    def nps(self, person: Person, at: datetime) -> dict[str, Any]:
        """Answers to relationship-nps."""
        found = self.recent(person, at)
        older = self.recent(person, at, since=MEMORY, until=WINDOW)
        score = self.score(8.4, 1.5, 0, 10, self.penalty(found, older))
        answers: dict[str, Any] = {"nps": score}
        sentiment = "negative" if score <= 6 else "mixed" if score <= 8 else "positive"
        themes = self.themes(found, sentiment)
        if self.rng.random() < 0.55:
            answers["reason"] = self.comment(person, sentiment, themes)
        if score <= 6 and self.rng.random() < 0.75:
            answers["improve"] = sorted({OPTION_OF[t] for t in themes})
        return answers

    def csat(self, person: Person, at: datetime, event: Event) -> dict[str, Any]:
        """Answers to purchase-csat."""
        found = self.recent(person, at)
        score = self.score(4.4, 0.6, 1, 5, 0.45 * self.penalty(found))
        answers: dict[str, Any] = {"csat": score, "found": "yes" if score >= 4 else self.rng.choice(("partly", "no"))}
        if self.rng.random() < 0.4:
            sentiment = "negative" if score <= 2 else "mixed" if score == 3 else "positive"
            answers["comment"] = self.comment(person, sentiment, self.themes(found, sentiment))
        return answers

    def ces(self, person: Person, event: Event) -> dict[str, Any]:
        """Answers to support-ces: effort follows this contact's reply and topic."""
        found = trouble(event) + [f for f in self.recent(person, event.at) if f == "failed_delivery"]
        score = self.score(6.0, 0.9, 1, 7, 0.7 * self.penalty(found))
        resolved = "yes" if score >= 5 or (score >= 3 and self.rng.random() < 0.4) else "no"
        answers: dict[str, Any] = {"ces": score, "resolved": resolved}
        if score <= 4 and self.rng.random() < 0.6:
            themes = self.themes(found, "negative", preferred=("waiting", "staff"))
            answers["effort_reason"] = self.comment(person, "negative", themes)
        return answers

    # -- comments -------------------------------------------------------------------------------------

    def themes(self, found: Sequence[str], sentiment: str, preferred: Sequence[str] = ()) -> list[str]:
        """One or two themes: from what went wrong when negative, else any."""
        caused = [THEME_OF[f] for f in found if f in THEME_OF]
        pool = (caused or list(preferred)) if sentiment == "negative" else []
        first = self.rng.choice(pool or list(comments.THEMES))
        second = self.rng.choice([t for t in comments.THEMES if t != first])
        return [first, second] if sentiment == "mixed" or self.rng.random() < 0.45 else [first]

    def comment(self, person: Person, sentiment: str, themes: Sequence[str]) -> str:
        """A free-text comment in the customer's language, composed from parts."""
        language, rng = person.language, self.rng
        parts = []
        if rng.random() < 0.6:
            parts.append(rng.choice(comments.OPENERS[language][sentiment]))
        if sentiment == "mixed":
            good = self.sentence(person, themes[-1], "positive")
            parts += [good, f"{comments.BUT[language]} {_lowered(self.sentence(person, themes[0], 'negative'))}"]
        else:
            parts += [self.sentence(person, theme, sentiment) for theme in themes]
        if sentiment != "mixed" and rng.random() < 0.35:
            parts.append(rng.choice(comments.CLOSERS[language][sentiment]))
        return " ".join(parts)

    def sentence(self, person: Person, theme: str, sentiment: str) -> str:
        """One sentence about a theme, with a product and the customer's city."""
        template = self.rng.choice(comments.SENTENCES[person.language][theme, sentiment])
        return template.format(product=self.rng.choice(phrases.PRODUCTS)[1], city=person.city)


def _lowered(sentence: str) -> str:
    """A sentence to follow "But": lower-case first letter, unless it starts with a name or "I"."""
    if sentence[:2] in ("I ", "Lu") or sentence[:1].islower():
        return sentence
    return sentence[:1].lower() + sentence[1:]


def main_keys(person: Person) -> dict[str, str]:
    """The identity that reaches a person's main profile (the one that holds their consent)."""
    return {"email": person.email} if person.email else {"phone": person.phone or ""}


def store(
    session: Session, drawn: Sequence[Drawn], interaction_ids: Sequence[int | None], progress: Callable[[int], None]
) -> int:
    """Create the three template surveys and store the responses through the feedback service; how many."""
    surveys = {survey.key: survey for survey in feedback_service.install_templates(session)}
    stored = 0
    for start in range(0, len(drawn), CHUNK):
        chunk = drawn[start : start + CHUNK]
        for key in surveys:
            items = [_incoming(start + i, d, interaction_ids) for i, d in enumerate(chunk) if d.survey == key]
            result = feedback_service.store_responses(session, surveys[key], items, actor="demo")
            assert not result.problems, result.problems  # the demo draws only valid answers
            stored += result.stored
        progress(len(chunk))
    return stored


def _incoming(index: int, drawn: Drawn, interaction_ids: Sequence[int | None]) -> feedback_service.IncomingResponse:
    person = drawn.person
    keys = customers_service.normalise_all(drawn.keys or main_keys(person))
    linked = interaction_ids[drawn.event_index] if drawn.event_index is not None else None
    return feedback_service.IncomingResponse(
        answers=drawn.answers,
        keys=keys,
        external_id=f"demo-r{index + 1:07d}",
        interaction_id=linked,
        language=person.language,
        channel=drawn.channel,
        started_at=drawn.at - timedelta(seconds=40 + (index * 37) % 300),
        completed_at=drawn.at,
    )
