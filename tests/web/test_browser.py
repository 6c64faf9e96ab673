"""The dashboard in a real browser (Debian's chromium): every role walks every page on a desktop and a phone, a
survey is designed, answered on its public page and found on the customer's 360 page; the filter bar's sentiment and
theme stay in the URL and pick the comments; the 360 page's risk panel fills in by itself; hostile text never runs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import Engine

from cxm.web.report import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import make_key
from tests.feedback.test_pages_browser import server
from tests.web.comments_data import UNANALYSED, analyse, mood_of, stored_answers
from tests.web.conftest import PASSWORD
from tests.web.pages_data import store_company

__all__ = ["server"]
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
PAGES = {
    "viewer": ["/overview", "/channels", "/journey", "/feedback", "/customers", "/surveys"],
    "agent": ["/overview", "/channels", "/journey", "/feedback", "/customers", "/surveys"],
    "analyst": ["/overview", "/channels", "/journey", "/feedback", "/customers", "/surveys", "/surveys/new"],
    "admin": ["/overview", "/channels", "/journey", "/feedback", "/customers", "/surveys", "/settings"],
}
SURVEY = """key: delivery-check
name: Delivery check
languages: [en, hr]
title: {en: "How was your delivery?", hr: "Kako je prošla dostava?"}
thank_you: {en: "Thank you!", hr: "Hvala!"}
questions:
  - key: csat
    kind: csat
    required: true
    label: {en: "How satisfied are you with the delivery?", hr: "Koliko ste zadovoljni dostavom?"}
  - key: comment
    kind: text
    label: {en: "Anything to add?", hr: "Želite li nešto dodati?"}
"""

expect.set_options(timeout=30_000)


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Debian's chromium, headless."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where this run's screenshots go."""
    folder = tmp_path / "screenshots"
    folder.mkdir()
    return folder


@pytest.fixture
def company(server: str, db: Engine, people: dict[str, str]) -> dict[str, str]:
    """The small company on the live server; the admin API key's headers."""
    headers = {"Authorization": f"Bearer {make_key(db, 'admin')}"}
    with httpx.Client(base_url=server, timeout=60) as http:
        store_company(http, headers)  # type: ignore[arg-type]
        assert http.post("/api/v1/analytics/sync", headers=headers).status_code == 200
    return headers


def signed_in_page(browser: Browser, server: str, email: str, viewport: str) -> Page:
    """A fresh browser context signed in through the form; page errors and dialogs fail the test."""
    context = browser.new_context(viewport=VIEWPORTS[viewport], is_mobile=viewport == "phone")  # type: ignore[arg-type]
    page = context.new_page()
    page.on("pageerror", lambda error: pytest.fail(f"script error on {page.url}: {error}"))
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened on {page.url}: {dialog.message}"))
    page.goto(server + "/overview")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in|Přihlásit|Zaloguj|Prijava|Autentificare")).click()
    expect(page).to_have_url(re.compile(r"/overview$"), timeout=90_000)  # a loaded CI machine is slow
    return page


def nothing_ran(page: Page) -> None:
    """The hostile name and comment are shown as text: no script of theirs ran."""
    assert page.evaluate("typeof window.pwned") == "undefined"


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_every_role_walks_every_page(
    browser: Browser, server: str, company: dict[str, str], people: dict[str, str], shots: Path, viewport: str
) -> None:
    for role, paths in PAGES.items():
        page = signed_in_page(browser, server, people[role], viewport)
        for path in [*paths, "/customers?q=c0@example.com", "/feedback?q=pwned"]:
            page.goto(server + path)
            expect(page.locator("main h1")).to_be_visible()
            nothing_ran(page)
            page.screenshot(path=str(shots / f"{role}-{viewport}{path.replace('/', '-')[:40]}.png"), full_page=True)
        page.goto(server + "/customers?q=c0@example.com")
        page.locator("table.data a").first.click()
        expect(page.locator("main h1")).to_contain_text("<script>")  # the hostile name, as text
        nothing_ran(page)
        forbidden = page.goto(server + "/settings")
        assert forbidden is not None and forbidden.status == (200 if role == "admin" else 403)
        page.context.close()
    assert len(list(shots.glob("*.png"))) >= 30


def test_a_survey_designed_answered_and_found_on_the_360_page(
    browser: Browser, server: str, company: dict[str, str], people: dict[str, str], shots: Path
) -> None:
    analyst = signed_in_page(browser, server, people["analyst"], "desktop")
    analyst.goto(server + "/surveys/new")
    analyst.get_by_label("Definition").fill(SURVEY)
    analyst.get_by_role("button", name="Save").click()
    expect(analyst.locator("main h1")).to_contain_text("Delivery check")
    analyst.get_by_role("button", name="Activate").click()
    expect(analyst.get_by_role("link", name="Open the public page")).to_be_visible()
    analyst.screenshot(path=str(shots / "survey-designed.png"), full_page=True)
    with httpx.Client(base_url=server, timeout=60) as http:
        body = {"identities": {"email": "c5@example.com"}, "channel": "link"}
        invited = http.post("/api/v1/surveys/delivery-check/invitations", json=body, headers=company)
        assert invited.status_code == 201, invited.text
        link = invited.json()["link"]
    respondent = browser.new_context(viewport=VIEWPORTS["phone"], is_mobile=True).new_page()  # type: ignore[arg-type]
    respondent.goto(link.replace("http://127.0.0.1:8000", server) + "?lang=hr")
    respondent.locator("#q-csat-2").check()
    respondent.locator("#q-comment").fill("Paket je stigao oštećen")
    respondent.get_by_role("button", name=re.compile("Pošalji|Submit")).click()
    expect(respondent.get_by_text("Hvala!")).to_be_visible()
    agent = signed_in_page(browser, server, people["agent"], "phone")
    agent.goto(server + "/customers?q=c5@example.com")
    agent.locator("table.data a").first.click()
    expect(agent.get_by_text("Paket je stigao oštećen")).to_be_visible()
    expect(agent.locator("li.response").first).to_contain_text("Delivery check")
    agent.screenshot(path=str(shots / "customer-360-with-response.png"), full_page=True)


def test_preview_choice_distribution_and_alerts_panel(
    browser: Browser, server: str, company: dict[str, str], people: dict[str, str], shots: Path
) -> None:
    with httpx.Client(base_url=server, timeout=60) as http:
        for n, chosen in enumerate([["price"], ["price", "delivery"]]):
            body = {"survey": "relationship-nps", "answers": {"nps": 2, "improve": chosen}, "external_id": f"b-{n}"}
            assert http.post("/api/v1/responses", json=body, headers=company).status_code == 201
        assert http.post("/api/v1/analytics/sync", headers=company).status_code == 200
    viewer = signed_in_page(browser, server, people["viewer"], "desktop")
    expect(viewer.locator("#alerts h2")).to_be_visible()
    viewer.goto(server + "/feedback?survey=relationship-nps")
    figure = viewer.locator('#choices figure[data-question="relationship-nps.improve"]')
    expect(figure).to_contain_text("n = 2")
    expect(figure.locator("tr", has_text="Prices")).to_contain_text("100.0%")
    viewer.goto(server + "/surveys/relationship-nps")
    viewer.get_by_role("link", name="Preview (cs)").click()
    expect(viewer.locator("aside.preview")).to_contain_text("Náhled")
    expect(viewer.get_by_role("button", name=re.compile("Další|Odeslat"))).to_be_disabled()
    viewer.get_by_role("link", name="Krok 2").click()
    expect(viewer.get_by_text("Co bychom měli zlepšit nejdříve?")).to_be_visible()
    nothing_ran(viewer)
    viewer.screenshot(path=str(shots / "survey-preview.png"), full_page=True)


def _shown_comments(page: Page) -> list[tuple[int, int]]:
    """(customer n, month) of each comment the Feedback page shows (`reason {n} {month}`)."""
    texts = page.locator("#comments blockquote.comment").all_inner_texts()
    return [(int(n), int(m)) for n, m in (text.split()[1:3] for text in texts)]


def _apply(page: Page, **chosen: str) -> None:
    """Choose values in the filter bar's menus (by visible label) and apply them."""
    bar = page.locator("form.filters")
    for name, label in chosen.items():
        bar.locator(f'select[name="{name}"]').select_option(label=label)
    bar.get_by_role("button", name="Apply").click()


def test_sentiment_and_theme_filters_stay_in_the_url_and_pick_the_comments(
    browser: Browser, server: str, company: dict[str, str], db: Engine, people: dict[str, str], shots: Path
) -> None:
    theme = analyse(db)
    with httpx.Client(base_url=server, timeout=60) as http:
        assert http.post("/api/v1/analytics/sync", headers=company).status_code == 200
    page = signed_in_page(browser, server, people["viewer"], "desktop")
    _apply(page, sentiment="negative", theme="delivery")
    expect(page).to_have_url(re.compile(rf"/overview\?.*sentiment=negative&theme={theme}"))
    negative = [(n, s) for n, s in stored_answers() if n >= UNANALYSED and n % 3 == 0 and mood_of(s) == "negative"]
    expect(page.locator('article[data-metric="nps"]')).to_contain_text(f"n = {len(negative)}")
    expect(page.locator('select[name="theme"]')).to_have_value(str(theme))
    page.goto(server + "/feedback")
    _apply(page, sentiment="positive", theme="delivery")
    expect(page).to_have_url(re.compile(rf"/feedback\?.*sentiment=positive&theme={theme}"))
    shown = _shown_comments(page)
    assert shown and all(n % 3 == 0 and mood_of((n + m) % 11) == "positive" for n, m in shown)
    page.get_by_label("Search in comments").fill("reason")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(rf"sentiment=positive&theme={theme}.*q=reason"))
    assert _shown_comments(page) == shown
    page.screenshot(path=str(shots / "feedback-filtered.png"), full_page=True)
    _apply(page, sentiment="negative", theme="All")
    expect(page).to_have_url(re.compile(r"sentiment=negative&theme=(&|$)"))  # the blank menu: every theme
    shown = _shown_comments(page)
    assert shown and all(n >= UNANALYSED and mood_of((n + m) % 11) == "negative" for n, m in shown)
    nothing_ran(page)


def test_the_360_panel_fills_in_by_itself(
    browser: Browser, server: str, company: dict[str, str], people: dict[str, str]
) -> None:
    page = signed_in_page(browser, server, people["agent"], "desktop")
    page.goto(server + "/customers?q=c7@example.com")
    page.locator("table.data a").first.click()
    panel = page.locator("section[data-load] [data-slot]")
    expect(panel.locator("dt", has_text="Loyalty rung")).to_be_visible()
    expect(panel.locator("[data-pending]")).to_have_count(0)
    nothing_ran(page)
