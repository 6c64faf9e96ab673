"""The demo company's customers: people and firms with identities, traits and consent history."""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import phonenumbers

from cxm.customers.schemas import ConsentIn, CustomerUpsert
from cxm.demo import phrases

SEGMENTS = (("consumer", 72), ("premium", 16), ("business", 12))
PURPOSES = (("marketing_email", 0.55), ("surveys", 0.65), ("profiling", 0.4))
GRANT_SOURCES = ("web signup", "store form", "app settings", "loyalty programme")
# Every SPLIT_EVERY-th person is known to the contact centre by phone only, under a second profile.
SPLIT_EVERY = 25
ASCII = str.maketrans({"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "'": ""})


@dataclass
class Person:
    """One real customer of the demo company and what each channel knows about them."""

    index: int
    language: str
    country: str
    segment: str
    name: str
    city: str
    since: datetime
    email: str | None
    phone: str | None
    loyalty_card: str | None
    cookie: str | None
    social: tuple[str, str] | None
    activity: float
    online: float  # share of web/app over store for this person
    app_user: bool
    anonymous_browsing: bool  # browses on a second device before logging in
    split: bool  # the contact centre holds a separate phone-only profile
    consents: dict[str, bool] = field(default_factory=dict)
    consent_log: list[ConsentIn] = field(default_factory=list)


def ascii_slug(text: str) -> str:
    """Lower-case ASCII letters and digits of a name, for e-mail addresses and handles."""
    folded = unicodedata.normalize("NFKD", text.translate(ASCII)).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum() or c in ".-")


def mobile_number(rng: random.Random, country: str) -> str:
    """A valid mobile number of the country in E.164."""
    code, prefixes, digits = phrases.MOBILE[country]
    while True:
        candidate = code + rng.choice(prefixes) + "".join(str(rng.randrange(10)) for _ in range(digits))
        if phonenumbers.is_valid_number(phonenumbers.parse(candidate)):
            return candidate


class People:
    """Draws people for one seed, keeping identities unique."""

    def __init__(self, rng: random.Random, anchor: datetime) -> None:
        self.rng = rng
        self.anchor = anchor
        self.taken: set[str] = set()

    def unique(self, make: Any) -> str:
        """A value from `make()` not handed out before."""
        value: str = make()
        while value in self.taken:
            value = make()
        self.taken.add(value)
        return value

    def person_name(self, language: str, segment: str) -> tuple[str, str, str]:
        """(display name, first name, surname) of a person or, for business, a firm."""
        rng = self.rng
        female = rng.random() < 0.5
        first = rng.choice(phrases.FIRST_NAMES[language][female])
        surname = rng.choice(phrases.SURNAMES[language])[female]
        if segment == "business":
            trades, form = phrases.COMPANY_FORMS[language]
            return f"{surname} {rng.choice(trades)} {form}", "info", surname
        return f"{first} {surname}", first, surname

    def email(self, first: str, surname: str, country: str) -> str:
        """A unique address at an example domain of the country."""
        rng = self.rng
        f, s = ascii_slug(first), ascii_slug(surname)
        local = rng.choice((f"{f}.{s}", f"{f}{s}", f"{f[0]}{s}", f"{s}.{f}"))
        if first == "info":
            local = f"info.{s}{rng.randrange(10, 1000)}"
        domain = rng.choice(phrases.MAIL_DOMAINS[country])
        return self.unique(lambda: f"{local}{rng.choice(['', str(rng.randrange(1, 100))])}@{domain}")

    def draw(self, index: int) -> Person:
        """The person with this index."""
        rng = self.rng
        language = rng.choices(phrases.LANGUAGES, phrases.LANGUAGE_WEIGHTS)[0]
        country = rng.choice(phrases.COUNTRIES[language]) if language != "en" else rng.choices(("GB", "IE"), (7, 3))[0]
        segment = rng.choices([s for s, _ in SEGMENTS], [w for _, w in SEGMENTS])[0]
        name, first, surname = self.person_name(language, segment)
        has_email = rng.random() < 0.92
        has_phone = rng.random() < 0.8 or not has_email
        online = rng.betavariate(2, 1.5)
        person = Person(
            index=index,
            language=language,
            country=country,
            segment=segment,
            name=name,
            city=rng.choice(phrases.CITIES[country]),
            since=self.anchor - timedelta(days=rng.randint(30, 6 * 365)),
            email=self.email(first, surname, country) if has_email else None,
            phone=self.unique(lambda: mobile_number(rng, country)) if has_phone else None,
            loyalty_card=self.unique(lambda: f"LUMO{rng.randrange(10**9, 10**10)}") if rng.random() < 0.35 else None,
            cookie=f"{rng.getrandbits(128):032x}" if rng.random() < 0.75 else None,
            social=self.social(first, surname) if rng.random() < 0.15 else None,
            activity=rng.lognormvariate(0, 0.9) * (1.5 if segment != "consumer" else 1.0),
            online=online,
            app_user=rng.random() < 0.35 * online * 2,
            anonymous_browsing=rng.random() < 0.05,
            split=False,
        )
        person.split = index % SPLIT_EVERY == SPLIT_EVERY // 2 and bool(person.email and person.phone)
        self.consent_history(person)
        return person

    def social(self, first: str, surname: str) -> tuple[str, str]:
        """A unique social handle on one network."""
        network = self.rng.choice(phrases.SOCIAL_NETWORKS)
        base = f"{ascii_slug(first)}_{ascii_slug(surname)}".replace(".", "")
        return f"social:{network}", self.unique(lambda: f"{base}{self.rng.randrange(1, 1000)}")

    def consent_history(self, person: Person) -> None:
        """Grants, refusals and some later revocations, oldest first."""
        rng = self.rng
        for purpose, share in PURPOSES:
            granted = rng.random() < share
            at = person.since + timedelta(days=rng.randint(0, 28), minutes=rng.randint(0, 1440))
            if not granted and rng.random() > 0.3:
                continue  # never asked
            source = rng.choice(GRANT_SOURCES)
            person.consent_log.append(ConsentIn(purpose=purpose, granted=granted, source=source, at=at))
            person.consents[purpose] = granted
            if granted and rng.random() < 0.1:
                later = at + (self.anchor - at) * rng.random()
                source = "unsubscribe link" if purpose == "marketing_email" else "app settings"
                person.consent_log.append(ConsentIn(purpose=purpose, granted=False, source=source, at=later))
                person.consents[purpose] = False


def upserts(person: Person) -> list[CustomerUpsert]:
    """What the shop's systems hold about a person: one profile, or two when the contact centre has its own."""
    identities: dict[str, str] = {}
    if person.email:
        identities["email"] = person.email
    if person.phone and not person.split:
        identities["phone"] = person.phone
    if person.loyalty_card:
        identities["loyalty_card"] = person.loyalty_card
    if person.social:
        identities[person.social[0]] = person.social[1]
    traits: dict[str, Any] = {"name": person.name, "language": person.language, "country": person.country}
    attributes = {"city": person.city, "customer_since": person.since.date().isoformat(), "source": "e-shop"}
    main = CustomerUpsert(
        identities=identities, segment=person.segment, attributes=attributes, consents=person.consent_log, **traits
    )
    if not person.split:
        return [main]
    phone_only = CustomerUpsert(
        identities={"phone": person.phone or ""}, attributes={"source": "contact centre"}, **traits
    )
    return [main, phone_only]


def agents(language: str) -> list[str]:
    """The contact-centre team that serves customers of a language."""
    firsts = phrases.FIRST_NAMES[language]
    surnames = phrases.SURNAMES[language]
    return [f"{firsts[i % 2][i]} {surnames[i + 3][i % 2]}" for i in range(6)]
