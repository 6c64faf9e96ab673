"""A person fills the survey in a real browser (Debian's chromium) on a phone, against a real uvicorn server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.sync_api import Page, expect, sync_playwright
from sqlalchemy import Engine

from cxm.app import create_app
from cxm.config import Settings
from tests.conftest import make_key
from tests.feedback.survey_pages import install_survey, invite, post_step, stored

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
PHONE = {"width": 390, "height": 844}

# A loaded CI machine can take seconds to render a step: wait up to 30 s, not Playwright's 5 s.
expect.set_options(timeout=30_000)


@pytest.fixture
def server(db: Engine, database_url: str) -> Iterator[str]:
    """The app served by uvicorn on a free local port, in a thread; its base URL."""
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    app = create_app(Settings(database_url=database_url), engine=db)
    running = uvicorn.Server(uvicorn.Config(app, log_level="warning", loop="asyncio", lifespan="on"))
    thread = threading.Thread(target=running.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(timeout=10)
    listening.close()


@pytest.fixture
def http(server: str, db: Engine) -> Iterator[httpx.Client]:
    """An HTTP client on the live server."""
    with httpx.Client(base_url=server, timeout=30) as client:
        yield client


def answer_first_step(page: Page) -> None:
    """Score 3 with the mouse and the arrow keys, then type the reason after a Tab."""
    page.locator("#q-nps-4").click()
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#q-nps-3")).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.locator("#q-reason")).to_be_focused()
    page.keyboard.type("Dlouhá fronta u pokladny <b>")


def answer_second_step(page: Page) -> None:
    """Choose two things to improve: one by clicking, one with the keyboard."""
    page.get_by_label("Ceny").check()
    page.get_by_label("Doručení").focus()
    page.keyboard.press("Space")
    expect(page.get_by_label("Doručení")).to_be_checked()


def test_a_customer_fills_the_survey_on_a_phone(http: httpx.Client, server: str, db: Engine, database_url: str) -> None:
    headers = {"Authorization": f"Bearer {make_key(db, 'admin')}"}
    install_survey(http, headers)
    invited = invite(http, headers, db, language="cs")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / f"survey-phone-{database_url.split(':')[0]}.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        page = browser.new_page(viewport=PHONE, locale="en-US", device_scale_factor=2, is_mobile=True, has_touch=True)
        page.goto(server + invited.link)
        expect(page.locator("html")).to_have_attribute("lang", "cs")
        expect(page.get_by_text("Krok 1 z 2")).to_be_visible()
        answer_first_step(page)
        page.screenshot(path=str(shot), full_page=True)
        page.get_by_role("button", name="Další").click()
        expect(page.get_by_text("Co bychom měli zlepšit nejdříve?")).to_be_visible()
        answer_second_step(page)
        page.get_by_role("button", name="Odeslat").click()
        expect(page.get_by_text("Děkujeme! Vaše zpětná vazba nám pomáhá zlepšovat se.")).to_be_visible()
        page.screenshot(path=str(shot.with_name(shot.stem + "-thanks.png")), full_page=True)
        browser.close()
    assert shot.stat().st_size > 10_000
    [response] = stored(db)
    assert (response["customer_id"], response["interaction_id"]) == (invited.customer_id, invited.interaction_id)
    assert response["answers"] == {
        "nps": 3,
        "reason": "Dlouhá fronta u pokladny <b>",
        "improve": ["price", "delivery"],
    }
    assert response["status"] == "complete" and response["language"] == "cs"


def test_submitting_twice_over_http_keeps_one_response(http: httpx.Client, db: Engine) -> None:
    headers = {"Authorization": f"Bearer {make_key(db, 'admin')}"}
    install_survey(http, headers)
    invited = invite(http, headers, db, language="pl")
    for _ in range(2):
        sent = post_step(http, invited.link, 1, {"nps": "10", "reason": "Szybka dostawa"})
        assert sent.status_code == 303 and sent.headers["location"] == invited.link
    thanks = http.get(invited.link)
    assert "Dziękujemy! Twoja opinia pomaga nam być lepszymi." in thanks.text and "Zmień odpowiedzi" in thanks.text
    assert [(r["answers"]["nps"], r["invitation_id"]) for r in stored(db)] == [(10, invited.invitation_id)]
