"""A realistic demo company, the same for the same seed, stored through the real services.

Customers in Czechia, Poland, Croatia, Romania, the UK and Ireland meet the shop in every channel along
the whole journey; some identities arrive apart (a phone-only contact-centre profile, an anonymous second
device) and are joined later by identity resolution, as they would be in production.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from itertools import accumulate
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from cxm.access import service as access_service
from cxm.core.errors import Conflict
from cxm.customers import service as customers_service
from cxm.customers.schemas import CustomerUpsert
from cxm.demo import feedback
from cxm.demo.accounts import demo_accounts
from cxm.demo.journeys import Event, Journeys
from cxm.demo.leaving import staying
from cxm.demo.people import People, Person, upserts
from cxm.feedback import service as feedback_service
from cxm.interactions import service as interactions_service

__all__ = ["ANCHOR", "DemoDataExists", "DemoSummary", "generate", "has_data", "reuse"]

# The demo's "today": fixed, so a seed always yields the same company.
ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)
CHUNK = 10_000
ACTOR = "demo"
MIN_YIELD = 0.1  # a round of draws keeping less than this share: nearly everyone left, more draws would not help
BASE_URL = "http://127.0.0.1:8000"
T = TypeVar("T")
Progress = Callable[[int, int], None]


class DemoDataExists(Conflict):
    """The database already holds a company; the demo never adds a second one."""

    code = "demo_data_exists"


@dataclass(frozen=True)
class DemoSummary:
    """What the demo holds, and the admin API key to explore it with."""

    customers: int
    interactions: int
    orders: int
    merges: int
    api_key: str
    example_query: str = "novak"
    existing: bool = False
    surveys: int = 0
    responses: int = 0
    accounts: tuple[tuple[str, str, str], ...] = ()

    def describe(self, base_url: str = BASE_URL) -> str:
        """Where to look next, for a person at a terminal."""
        held = f"{self.customers:,} customer profiles, {self.interactions:,} interactions, {self.orders:,} orders"
        held += f", {self.surveys} surveys with {self.responses:,} responses"
        if self.existing:
            head = f"The database already has data ({held}); kept as it is. A fresh demo API key was created."
        else:
            head = f"Demo company generated: {held}; {self.merges:,} profiles merged by identity resolution."
        curl = f'curl -H "Authorization: Bearer {self.api_key}" "{base_url}/api/v1/customers?q={self.example_query}"'
        return "\n".join(
            [
                head,
                "",
                f"  Dashboard:    {base_url}/login",
                f"  API docs:     {base_url}/docs",
                f"  API key:      {self.api_key}  (admin; shown once, store it now)",
                f"  Responses:    {base_url}/api/v1/responses?survey=relationship-nps",
                "",
                "Try:",
                f"  {curl}",
                "",
                "Dashboard sign-ins (passwords shown once; new ones each run):",
                *(f"  {role:<8} {email:<28} {password}" for email, role, password in self.accounts),
            ]
        )


def has_data(session: Session) -> bool:
    """Whether the database already holds customers."""
    return customers_service.count_customers(session) > 0


def reuse(session: Session) -> DemoSummary:
    """A fresh demo API key for a database that already has data, with what it holds."""
    key = access_service.create_api_key(session, name="demo", role="admin")
    totals = interactions_service.totals(session)
    surveys = feedback_service.list_surveys(session)
    return DemoSummary(
        customers=customers_service.count_customers(session),
        interactions=totals["interactions"],
        orders=totals["orders"],
        merges=0,
        api_key=key.secret,
        existing=True,
        surveys=len(surveys),
        responses=sum(survey.responses for survey in surveys),
        accounts=tuple(demo_accounts(session)),
    )


def draw_people(rng: random.Random, count: int) -> list[Person]:
    """`count` people, the same for the same random state."""
    people = People(rng, ANCHOR)
    return [people.draw(index) for index in range(count)]


def draw_events(
    rng: random.Random, people: Sequence[Person], count: int, referrals: random.Random | None = None
) -> list[Event]:
    """About `count` touchpoints (exactly, unless there is nobody or nearly everyone left), oldest first; active
    people have more; some people leave after a bad experience (`leaving.py`)."""
    if not people:
        return []
    journeys = Journeys(rng, ANCHOR, referrals)
    weights = list(accumulate(person.activity for person in people))
    drawn: list[Event] = []
    events: list[Event] = []
    # People who left after a bad experience lose their later touchpoints: draw more until `count` remain, or until
    # so few people stay that a round keeps almost nothing (many touchpoints asked of few people: the loop would
    # never end).
    while len(events) < count:
        wanted, before = len(drawn) + count - len(events), (len(drawn), len(events))
        while len(drawn) < wanted:
            drawn.extend(journeys.episode(rng.choices(people, cum_weights=weights)[0]))
        events = staying(drawn)
        if len(events) - before[1] < MIN_YIELD * (len(drawn) - before[0]):
            break
    events = events[:count]
    events.sort(key=lambda event: event.at)  # stable: ties keep their drawing order
    return events


@lru_cache(maxsize=100_000)
def normal_keys(keys: tuple[tuple[str, str], ...]) -> tuple[customers_service.Key, ...]:
    """Identities in the normal form the ingest path expects (a person's few key sets repeat often)."""
    return customers_service.normalise_all(dict(keys))


def interaction_record(index: int, event: Event) -> interactions_service.Incoming:
    """The bulk-ingest form of a touchpoint, with its event id."""
    event_id = f"demo-{index:07d}"
    return interactions_service.Incoming(
        values={"event_id": event_id, **event.values},
        keys=normal_keys(tuple(event.keys.items())),
        client_id=event_id,
    )


def order_record(event: Event) -> interactions_service.Incoming:
    """The bulk-ingest form of the order a purchase touchpoint made."""
    assert event.sale is not None
    sale = event.sale
    values: dict[str, Any] = {
        "order_id": sale.order_id,
        "occurred_at": event.at,
        "amount": sale.amount,
        "currency": sale.currency,
        "channel": event.values["channel"],
        "attributes": {"items": len(sale.items)},
    }
    keys = normal_keys(tuple(event.keys.items()))
    return interactions_service.Incoming(values=values, keys=keys, client_id=sale.order_id, children=sale.items)


def chunks(items: Sequence[T]) -> Iterable[Sequence[T]]:
    """Consecutive slices of at most CHUNK items."""
    return (items[start : start + CHUNK] for start in range(0, len(items), CHUNK))


class _Store:
    """Stores chunks through the services, reporting progress and every profile it touched."""

    def __init__(self, session: Session, total: int, progress: Progress | None) -> None:
        self.session, self.total, self.progress = session, total, progress
        self.done = 0
        self.profiles: set[int] = set()
        self.interaction_ids: list[int | None] = []
        if progress:
            progress(0, total)

    def advance(self, count: int, ids: Iterable[int | None]) -> None:
        self.profiles.update(i for i in ids if i is not None)
        self.done += count
        if self.progress:
            self.progress(self.done, self.total)

    def customers(self, profiles: Sequence[CustomerUpsert]) -> None:
        for chunk in chunks(profiles):
            self.advance(len(chunk), customers_service.upsert_customers(self.session, chunk, actor=ACTOR))

    def interactions(self, records: Sequence[interactions_service.Incoming]) -> None:
        for chunk in chunks(records):
            result = interactions_service.store_interactions(self.session, chunk, actor=ACTOR)
            self.interaction_ids.extend(result.ids)
            self.advance(len(chunk), result.customer_ids)

    def orders(self, records: Sequence[interactions_service.Incoming]) -> None:
        for chunk in chunks(records):
            self.advance(len(chunk), interactions_service.store_orders(self.session, chunk, actor=ACTOR).customer_ids)

    def responses(self, drawn: Sequence[feedback.Drawn]) -> int:
        return feedback.store(self.session, drawn, self.interaction_ids, lambda count: self.advance(count, ()))


def generate(
    session: Session,
    *,
    customers: int = 5000,
    interactions: int = 100_000,
    seed: int = 42,
    progress: Progress | None = None,
) -> DemoSummary:
    """Generate the demo company for `seed` into an empty database, with an admin API key named "demo"."""
    if has_data(session):
        raise DemoDataExists("the database already has customers; the demo does not add a second company")
    rng = random.Random(seed)
    people = draw_people(rng, customers)
    events = draw_events(rng, people, interactions, random.Random(f"{seed}:referrals"))
    interaction_records = [interaction_record(index, event) for index, event in enumerate(events, start=1)]
    order_records = [order_record(event) for event in events if event.sale is not None]
    profiles = [upsert for person in people for upsert in upserts(person)]
    # A generator of its own: responses are added without changing the company a seed always gave.
    drawn = feedback.Feedback(random.Random(f"{seed}:feedback"), ANCHOR).draw(people, events)
    total = len(profiles) + len(interaction_records) + len(order_records) + len(drawn)
    store = _Store(session, total, progress)
    store.customers(profiles)
    store.interactions(interaction_records)
    store.orders(order_records)
    responses = store.responses(drawn)
    live = customers_service.count_customers(session)
    key = access_service.create_api_key(session, name="demo", role="admin")
    return DemoSummary(
        customers=live,
        interactions=len(interaction_records),
        orders=len(order_records),
        merges=len(store.profiles) - live,
        api_key=key.secret,
        example_query=example_query(people),
        surveys=len(feedback_service.template_names()),
        responses=responses,
        accounts=tuple(demo_accounts(session)),
    )


def example_query(people: Sequence[Person]) -> str:
    """A search term that finds one of the company's most active customers."""
    known = [person for person in people if person.email]
    if not known:
        return "a"
    busiest = max(known, key=lambda person: person.activity)
    return (busiest.email or "").split("@")[0]
