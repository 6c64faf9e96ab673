"""Customer journeys of the demo company: information search, purchase and service, in every channel."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from cxm.demo import phrases
from cxm.demo.people import Person, agents

HISTORY_DAYS = 548
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 4, 7, 9, 10, 10, 10, 11, 10, 10, 10, 11, 12, 13, 13, 11, 8, 5, 2)
# (median seconds to first response, spread, share never answered) for inbound questions per channel.
RESPONSE = {
    "phone": (50.0, 1.0, 0.08),
    "chat": (40.0, 0.9, 0.05),
    "email": (4 * 3600.0, 1.2, 0.1),
    "social": (2 * 3600.0, 1.3, 0.2),
    "app": (26 * 3600.0, 0.8, 0.6),
}
CARRIERS = ("DPD", "GLS", "PPL", "InPost", "DHL")
REFERRAL_ODDS = {"premium": 0.12, "business": 0.06, "consumer": 0.05}  # per purchase without trouble
EMAIL_TYPES = {"delivery": "delivery_query", "complaint": "complaint", "question": "question", "praise": "compliment"}


@dataclass
class Sale:
    """An order as the shop system records it."""

    order_id: str
    currency: str
    amount: Decimal
    items: list[dict[str, Any]]


@dataclass
class Event:
    """One touchpoint of a person: when, which identities it carried, and its columns."""

    at: datetime
    keys: dict[str, str]
    values: dict[str, Any]
    sale: Sale | None = None
    person: Person | None = None


@dataclass
class Episode:
    """The running state of one journey: whose, when, and what was bought."""

    person: Person
    at: datetime
    events: list[Event] = field(default_factory=list)
    sale: Sale | None = None
    purchase_channel: str | None = None


class Journeys:
    """Draws journeys for one seed; each episode runs from information search to after-sales service."""

    def __init__(self, rng: random.Random, anchor: datetime, referrals: random.Random | None = None) -> None:
        self.rng = rng
        # Referrals draw from a generator of their own, so adding them left every other draw of a seed as it was.
        self.referrals = referrals or random.Random(0)
        self.anchor = anchor
        self.orders = 0
        self.teams = {language: agents(language) for language in phrases.LANGUAGES}

    # -- building blocks ------------------------------------------------------------------------------

    def keys(self, p: Person, *kinds: str) -> dict[str, str]:
        """The identities a channel sees, in order of preference; never empty."""
        known = {"email": p.email, "phone": p.phone, "loyalty_card": p.loyalty_card, "web_cookie": p.cookie}
        found = {kind: value for kind in kinds if (value := known.get(kind))}
        if "social" in kinds and p.social:
            found[p.social[0]] = p.social[1]
        if not found:
            found = {"email": p.email} if p.email else {"phone": p.phone or ""}
        return found

    def add(self, ep: Episode, channel: str, stage: str, kind: str, keys: dict[str, str], **extra: Any) -> Event:
        """Record one touchpoint at the episode's current time."""
        values = {
            "channel": channel,
            "journey_stage": stage,
            "direction": extra.pop("direction", "inbound"),
            "type": kind,
            "occurred_at": ep.at,
            "text": extra.pop("text", None),
            "agent": extra.pop("agent", None),
            # Customers visit the shop of their own city.
            "store": ep.person.city if channel == "store" else None,
            "value": extra.pop("value", None),
            "responded_at": None,
            "attributes": extra,
        }
        event = Event(at=ep.at, keys=keys, values=values, person=ep.person)
        ep.events.append(event)
        return event

    def question(self, event: Event, p: Person) -> None:
        """Give an inbound question its first response time and agent, or leave it unanswered."""
        channel = event.values["channel"]
        median, spread, unanswered = RESPONSE[channel]
        if self.rng.random() < unanswered:
            return
        wait = self.rng.lognormvariate(0, spread) * median
        event.values["responded_at"] = event.at + timedelta(seconds=round(wait))
        if channel != "app":
            event.values["agent"] = self.rng.choice(self.teams[p.language])

    def text(self, p: Person, topic: str, order: str | None = None) -> str:
        """A short text in the person's language."""
        template = self.rng.choice(phrases.TEXTS[p.language][topic])
        product = self.rng.choice(phrases.PRODUCTS)[1]
        return template.format(order=order or "", product=product, city=p.city)

    def wait(self, ep: Episode, low: float, high: float) -> None:
        """Move the episode on by between `low` and `high` minutes."""
        ep.at += timedelta(minutes=self.rng.uniform(low, high))

    def start(self) -> datetime:
        """When an episode begins: within the history, more often recently, mostly by day."""
        days_ago = HISTORY_DAYS * self.rng.random() ** 1.25
        day = (self.anchor - timedelta(days=days_ago)).date()
        hour = self.rng.choices(range(24), HOUR_WEIGHTS)[0]
        return datetime.combine(day, time(hour), tzinfo=UTC) + timedelta(seconds=self.rng.randrange(3600))

    # -- awareness: information search ----------------------------------------------------------------

    def browse_web(self, ep: Episode) -> None:
        """Pages on the web shop; a second device browses anonymously until its owner logs in."""
        p = ep.person
        keys = self.keys(p, "web_cookie") if p.anonymous_browsing else self.keys(p, "web_cookie", "email")
        sku = self.rng.choice(phrases.PRODUCTS)[0]
        kind = self.rng.choices(("page_view", "product_view", "site_search"), (3, 4, 2))[0]
        self.add(ep, "web", "awareness", kind, keys, page=f"/p/{sku}")

    def browse_app(self, ep: Episode) -> None:
        """A product looked at in the app."""
        sku = self.rng.choice(phrases.PRODUCTS)[0]
        self.add(ep, "app", "awareness", "product_view", self.keys(ep.person, "email"), product_id=sku)

    def see_social(self, ep: Episode) -> None:
        """An ad clicked, or a public question to the brand."""
        p = ep.person
        if p.social and self.rng.random() < 0.3:
            event = self.add(
                ep, "social", "awareness", "mention", self.keys(p, "social"), text=self.text(p, "question")
            )
            self.question(event, p)
            return
        network = self.rng.choice(phrases.SOCIAL_NETWORKS)
        keys = self.keys(p, "web_cookie") if p.anonymous_browsing else self.keys(p, "web_cookie", "email")
        self.add(ep, "social", "awareness", "ad_click", keys, network=network, campaign="seasonal")

    def visit_store(self, ep: Episode) -> None:
        """A look round a store, recognised by the loyalty card."""
        p = ep.person
        self.add(ep, "store", "awareness", "browse", self.keys(p, "loyalty_card"), store=f"Lumo {p.city}")

    def read_newsletter(self, ep: Episode) -> None:
        """A newsletter sent (with consent only), sometimes clicked."""
        keys = self.keys(ep.person, "email")
        self.add(ep, "email", "awareness", "newsletter", keys, direction="outbound", campaign=f"{ep.at:%Y-%m}")
        if self.rng.random() < 0.45:
            self.wait(ep, 5, 600)
            self.add(ep, "email", "awareness", "newsletter_click", keys, campaign=f"{ep.at:%Y-%m}")

    def ask_before_buying(self, ep: Episode) -> None:
        """A product question to the contact centre."""
        p = ep.person
        channel = self.rng.choices(("chat", "phone", "email"), (5, 3, 2))[0]
        keys = {"phone": self.keys(p, "phone"), "email": self.keys(p, "email")}.get(channel)
        keys = keys or self.keys(p, "email", "web_cookie")
        text = self.text(p, "question") if channel != "phone" else None
        self.question(self.add(ep, channel, "awareness", "product_question", keys, text=text), p)

    def meet_popup(self, ep: Episode) -> None:
        """A visit to the brand's stand at a fair."""
        keys = self.keys(ep.person, "loyalty_card", "email")
        self.add(ep, "other", "awareness", "popup_visit", keys, place=f"{ep.person.city} fair")

    def awareness(self, ep: Episode) -> None:
        """One to four information-search touchpoints."""
        p = ep.person
        options: list[tuple[float, Callable[[Episode], None]]] = [
            (3 * p.online, self.browse_web),
            (2 * p.online if p.app_user else 0, self.browse_app),
            (0.6, self.see_social),
            (2 * (1 - p.online), self.visit_store),
            (1.5 if p.email and p.consents.get("marketing_email") else 0, self.read_newsletter),
            (0.5, self.ask_before_buying),
            (0.15, self.meet_popup),
        ]
        for _ in range(self.rng.choices((1, 2, 3, 4), (35, 30, 20, 15))[0]):
            self.rng.choices([step for _, step in options], [weight for weight, _ in options])[0](ep)
            self.wait(ep, 2, 60 if self.rng.random() < 0.6 else 4 * 1440)

    # -- purchase -------------------------------------------------------------------------------------

    def sale(self, p: Person) -> Sale:
        """An order with one to four product lines, priced in the person's currency."""
        currency = phrases.CURRENCY[p.country]
        products = self.rng.sample(phrases.PRODUCTS, self.rng.choices((1, 2, 3, 4), (55, 28, 12, 5))[0])
        items: list[dict[str, Any]] = []
        amount = Decimal(0)
        for sku, _, eur in products:
            business = p.segment == "business"
            quantity = self.rng.randint(1, 10) if business else self.rng.choices((1, 2, 3), (80, 15, 5))[0]
            price = phrases.local_price(eur, currency)
            items.append({"product_id": sku, "quantity": quantity, "unit_price": price})
            amount += quantity * price
        self.orders += 1
        return Sale(order_id=f"{p.country}-{self.orders:07d}", currency=currency, amount=amount, items=items)

    def purchase(self, ep: Episode) -> None:
        """Buy online, in the app, in a store or by phone; some online carts are left behind."""
        p = ep.person
        channel = self.rng.choices(
            ("web", "app", "store", "phone"), (p.online, p.online if p.app_user else 0, 1.2 * (1 - p.online), 0.08)
        )[0]
        if channel in ("web", "app"):
            self.add(ep, channel, "purchase", "add_to_cart", self.keys(p, "web_cookie", "email"))
            self.wait(ep, 1, 20)
            if self.rng.random() < 0.25:
                self.leave_cart(ep)
                return
        sale = self.sale(p)
        kind = {"web": "checkout", "app": "checkout", "store": "purchase", "phone": "phone_order"}[channel]
        keys = self.keys(p, "loyalty_card") if channel == "store" else self.keys(p, "email", "phone", "web_cookie")
        agent = self.rng.choice(self.teams[p.language]) if channel == "phone" else None
        event = self.add(ep, channel, "purchase", kind, keys, value=sale.amount, agent=agent, order_id=sale.order_id)
        event.sale, ep.sale, ep.purchase_channel = sale, sale, channel
        if channel != "store" and p.email:
            self.wait(ep, 0.1, 2)
            self.add(ep, "email", "purchase", "order_confirmation", self.keys(p, "email"), direction="outbound")

    def leave_cart(self, ep: Episode) -> None:
        """A reminder about a cart left behind, to those who allow marketing e-mail."""
        p = ep.person
        if p.email and p.consents.get("marketing_email"):
            self.wait(ep, 60, 1440)
            self.add(ep, "email", "purchase", "cart_reminder", self.keys(p, "email"), direction="outbound")

    # -- post-purchase: delivery, service, returns ----------------------------------------------------

    def deliver(self, ep: Episode) -> None:
        """Shipping notice and the courier's delivery, sometimes at the second attempt."""
        p = ep.person
        carrier = self.rng.choice(CARRIERS)
        if p.email:
            self.wait(ep, 300, 1800)
            self.add(ep, "email", "post_purchase", "shipping_notice", self.keys(p, "email"), direction="outbound")
        self.wait(ep, 1440, 4 * 1440)
        if self.rng.random() < 0.06:
            self.add(ep, "other", "post_purchase", "delivery_failed", self.keys(p, "phone"), direction="outbound")
            self.wait(ep, 1440, 2 * 1440)
        self.add(
            ep, "other", "post_purchase", "delivered", self.keys(p, "phone"), direction="outbound", carrier=carrier
        )

    def contact_service(self, ep: Episode) -> None:
        """A question, complaint, return or review after the purchase."""
        p, order = ep.person, ep.sale.order_id if ep.sale else None
        choice = self.rng.choices(
            ("phone", "chat", "email", "social", "store", "web", "app"),
            (4, 3, 2, 1 if p.social else 0, 1.5 * (1 - p.online), 1, 1.5 if p.app_user else 0),
        )[0]
        if choice in ("store", "web"):
            self.return_goods(ep, choice)
            return
        topic = self.rng.choices(("delivery", "complaint", "question", "praise"), (4, 3, 2, 1))[0]
        keys = {
            "phone": self.keys(p, "phone"),
            "chat": self.keys(p, "email", "web_cookie"),
            "email": self.keys(p, "email"),
            "social": self.keys(p, "social"),
            "app": self.keys(p, "email"),
        }[choice]
        kind = {"phone": "support_call", "chat": "chat_question", "social": "mention", "app": "review"}.get(choice)
        kind = kind or EMAIL_TYPES[topic]
        text = self.text(p, topic, order) if choice != "phone" or self.rng.random() < 0.2 else None
        extra = {"rating": self.rng.choice((1, 2, 5) if topic != "praise" else (4, 5))} if choice == "app" else {}
        event = self.add(ep, choice, "post_purchase", kind, keys, text=text, topic=topic, **extra)
        self.question(event, p)
        if topic == "complaint" and self.rng.random() < 0.3:
            self.wait(ep, 60, 2 * 1440)
            agent = self.rng.choice(self.teams[p.language])
            self.add(ep, "phone", "post_purchase", "callback", self.keys(p, "phone"), direction="outbound", agent=agent)

    def return_goods(self, ep: Episode, channel: str) -> None:
        """One line of the order returned in a store or requested back on the web."""
        p, sale = ep.person, ep.sale
        if sale is None:
            return
        line = self.rng.choice(sale.items)
        text = self.text(p, "return") if self.rng.random() < 0.5 else None
        keys = self.keys(p, "loyalty_card", "email") if channel == "store" else self.keys(p, "email", "web_cookie")
        refund = line["unit_price"]
        kind = "return" if channel == "store" else "return_request"
        self.add(ep, channel, "post_purchase", kind, keys, text=text, value=refund, order_id=sale.order_id)

    def after_sale(self, ep: Episode) -> None:
        """Delivery for remote orders, sometimes a service contact, sometimes a survey invitation."""
        p = ep.person
        if ep.purchase_channel in ("web", "app", "phone"):
            self.deliver(ep)
        if self.rng.random() < (0.45 if p.segment == "premium" else 0.3):
            self.wait(ep, 60, 10 * 1440)
            self.contact_service(ep)
        if p.email and p.consents.get("surveys") and self.rng.random() < 0.25:
            self.wait(ep, 1440, 3 * 1440)
            self.add(ep, "email", "post_purchase", "survey_invitation", self.keys(p, "email"), direction="outbound")

    def refer(self, ep: Episode) -> None:
        """Now and then a happy buyer recommends the shop: a friend orders with their referral code."""
        p, side = ep.person, self.referrals
        unhappy = any(e.values["type"] in ("complaint", "delivery_failed", "return_request") for e in ep.events)
        if unhappy or side.random() >= REFERRAL_ODDS.get(p.segment, 0.04):
            return
        ep.at += timedelta(days=side.uniform(2, 40))
        channel = side.choice(("web", "social")) if p.social else "web"
        keys = self.keys(p, "social") if channel == "social" else self.keys(p, "email", "web_cookie")
        self.add(ep, channel, "post_purchase", "referral", keys, code=f"FRIEND-{p.index:05d}")

    def episode(self, person: Person) -> list[Event]:
        """One journey of a person, without anything that would lie after the anchor."""
        ep = Episode(person=person, at=self.start())
        self.awareness(ep)
        if self.rng.random() < 0.6:
            self.wait(ep, 5, 3 * 1440)
            self.purchase(ep)
            if ep.sale:
                self.after_sale(ep)
                self.refer(ep)
        elif self.rng.random() < 0.15:
            self.contact_service(ep)
        return [event for event in ep.events if event.at <= self.anchor]
