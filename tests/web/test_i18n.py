"""Every built-in dashboard text in every language, chosen per person; numbers and dates in their locale."""

from __future__ import annotations

import re

from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cxm.access import service as access_service
from cxm.core.db import make_sessionmaker
from cxm.web.i18n import LANGUAGES, LOCALES, date_filter, number_filter, percent_filter
from tests.web.conftest import PASSWORD, form_token, sign_in
from tests.web.messages import message_ids

PLACEHOLDER = re.compile(r"%\(\w+\)s|%%")


def test_every_catalog_has_every_text_with_its_placeholders() -> None:
    wanted = message_ids()
    assert len(wanted) > 150
    for language in LANGUAGES:
        with (LOCALES / language / "LC_MESSAGES" / "web.po").open("rb") as source:
            catalog = read_po(source, locale=language)
        present = {message.id: message.string for message in catalog if message.id}
        assert wanted <= set(present), (language, sorted(wanted - set(present))[:10])
        for message_id in wanted:
            translated = present[message_id]
            assert translated, (language, message_id)
            assert sorted(PLACEHOLDER.findall(translated)) == sorted(PLACEHOLDER.findall(message_id)), message_id


def test_a_person_sees_the_dashboard_in_their_language(client: TestClient, db: Engine) -> None:
    with make_sessionmaker(db)() as session, session.begin():
        access_service.create_user(session, email="jana@example.com", password=PASSWORD, role="admin", locale="cs")
    csrf = sign_in(client, "jana@example.com")
    page = client.get("/customers")
    assert '<html lang="cs">' in page.text and "Zákazníci" in page.text and "Odhlásit se" in page.text
    changed = client.post("/account/locale", data={"csrf": csrf, "locale": "pl", "next": "/customers"})
    assert "Klienci" in changed.text and '<html lang="pl">' in changed.text
    assert "Ustawienia" in client.get("/settings").text


def test_numbers_and_dates_follow_the_locale() -> None:
    from datetime import date

    assert number_filter("cs")(12345.678, 1) == "12\xa0345,7"
    assert number_filter("en")(12345.678, 1) == "12,345.7"
    assert percent_filter("ro")(45.5) == "45,5\xa0%"
    assert (
        date_filter("cs")(date(2026, 11, 25)) == "25. 11. 2026"
        and date_filter("en")(date(2026, 11, 25)) == "Nov 25, 2026"
    )
    assert number_filter("pl")(None) == "\u2013"
    # Changes carry their sign, in the reader's decimals (a card's "+5.9" was Python's, whatever the language).
    assert (
        number_filter("hr")(5.94, 1, signed=True) == "+5,9"
        and number_filter("en")(-1234.5, 1, signed=True) == "-1,234.5"
    )


def test_sign_in_page_form_token_is_in_the_page(client: TestClient) -> None:
    assert form_token(client.get("/login").text)
