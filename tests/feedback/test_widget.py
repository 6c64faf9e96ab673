"""The embeddable web widget: its script, CORS limited to configured sites, strict answers, and a real browser."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from playwright.sync_api import sync_playwright
from sqlalchemy import Engine, text

from cxm.app import create_app
from cxm.config import Settings
from cxm.core.db import make_sessionmaker
from cxm.customers import service as customers_service
from cxm.feedback import service
from cxm.feedback.service import visitor_token

SHOP = "https://shop.example.com"
ELSEWHERE = "https://evil.example.net"


def install_templates(db: Engine) -> None:
    """The three built-in surveys, committed."""
    with make_sessionmaker(db)() as session, session.begin():
        service.install_templates(session)


@pytest.fixture
def widget(db: Engine, database_url: str) -> Iterator[TestClient]:
    """A client of an app that lets the shop embed the widget."""
    install_templates(db)
    app = create_app(Settings(database_url=database_url, widget_origins=[SHOP]), engine=db)
    with TestClient(app) as client:
        yield client


def stored(db: Engine) -> list[dict[str, Any]]:
    """Every stored response, as plain rows."""
    with db.connect() as connection:
        rows = connection.execute(text("SELECT id, channel, language, status, customer_id, attributes FROM responses"))
        return [dict(row._mapping) for row in rows]


def post(client: TestClient, origin: str | None, body: dict[str, Any], survey: str = "relationship-nps") -> Any:
    """POST an answer as the widget would, from a page on `origin`."""
    headers = {"Origin": origin} if origin else {}
    return client.post(f"/s/{survey}/widget", json=body, headers=headers)


def test_script_is_served_as_javascript_and_builds_no_markup_from_data(widget: TestClient) -> None:
    script = widget.get("/s/widget.js")
    assert script.status_code == 200
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert script.headers["x-content-type-options"] == "nosniff"
    assert "textContent" in script.text and "innerHTML" not in script.text


def test_definition_is_translated_with_its_follow_up(widget: TestClient) -> None:
    found = widget.get("/s/relationship-nps/widget.json", params={"lang": "cs-CZ"}, headers={"Origin": SHOP})
    assert found.status_code == 200 and found.headers["access-control-allow-origin"] == SHOP
    body = found.json()
    assert body["language"] == "cs" and body["title"] == "Jak se nám daří?"
    assert (body["question"]["key"], body["question"]["scale_min"], body["question"]["scale_max"]) == ("nps", 0, 10)
    assert body["follow_up"]["key"] == "reason" and body["ui"]["send"] == "Odeslat"
    ces = widget.get("/s/support-ces/widget.json", params={"lang": "xx"}).json()
    assert ces["language"] == "en" and ces["follow_up"]["show_if"] == {"question": "ces", "op": "<=", "value": 4}
    refused = widget.get("/s/relationship-nps/widget.json", headers={"Origin": ELSEWHERE})
    assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers


def test_preflight_answers_allowed_sites_only(widget: TestClient) -> None:
    asked = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    allowed = widget.options("/s/relationship-nps/widget", headers={"Origin": SHOP, **asked})
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == SHOP
    assert "POST" in allowed.headers["access-control-allow-methods"]
    refused = widget.options("/s/relationship-nps/widget", headers={"Origin": ELSEWHERE, **asked})
    assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers


def test_answer_from_an_allowed_site_is_stored_with_channel_widget(widget: TestClient, db: Engine) -> None:
    body = {"answers": {"nps": 9, "reason": "Rychlé <b>doručení</b>"}, "language": "cs", "page_url": f"{SHOP}/p/1"}
    answered = post(widget, SHOP, body)
    assert answered.status_code == 201, answered.text
    assert answered.headers["access-control-allow-origin"] == SHOP
    [row] = stored(db)
    assert (row["channel"], row["language"], row["status"], row["customer_id"]) == ("widget", "cs", "complete", None)
    attributes = row["attributes"] if isinstance(row["attributes"], dict) else json.loads(row["attributes"])
    assert attributes == {"origin": SHOP, "page_url": f"{SHOP}/p/1"}
    with make_sessionmaker(db)() as session:
        assert service.stored_answers(session, row["id"]) == {"nps": 9, "reason": "Rychlé <b>doručení</b>"}


@pytest.mark.parametrize("origin", [ELSEWHERE, None, "https://shop.example.com.evil.net"])
def test_answer_from_another_site_is_refused_and_not_stored(widget: TestClient, db: Engine, origin: str | None) -> None:
    refused = post(widget, origin, {"answers": {"nps": 9}})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "origin_not_allowed"
    assert "access-control-allow-origin" not in refused.headers
    assert stored(db) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"answers": {"nps": 11}}, "nps"),
        ({"answers": {"nps": "ten"}}, "nps"),
        ({"answers": {"reason": "no score"}}, "nps"),
        ({"answers": {"nps": 5, "improve": ["price"]}}, "improve"),
    ],
)
def test_wrong_answers_are_refused_with_the_error_shape(
    widget: TestClient, db: Engine, body: dict[str, Any], field: str
) -> None:
    refused = post(widget, SHOP, body)
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "invalid_input" and any(d["question"] == field for d in error["details"]), error
    assert refused.headers["access-control-allow-origin"] == SHOP  # the page can show why
    assert stored(db) == []


def test_malformed_bodies_are_refused(widget: TestClient, db: Engine) -> None:
    for body in ({"answers": {"nps": 9}, "page_url": "javascript:alert(1)"}, {"answers": {"nps": 9}, "extra": 1}):
        refused = post(widget, SHOP, body)
        assert refused.status_code == 422 and refused.json()["error"]["details"]
    assert post(widget, SHOP, {"answers": {"nps": 9}}, survey="no-such-survey").status_code == 404
    assert stored(db) == []


def test_answers_are_limited_per_address(widget: TestClient, db: Engine) -> None:
    codes = [post(widget, SHOP, {"answers": {"nps": 100}}).status_code for _ in range(21)]
    assert codes[:20] == [422] * 20 and codes[20] == 429
    assert post(widget, SHOP, {"answers": {"nps": 9}}).json()["error"]["code"] == "rate_limited"


def test_a_visitor_token_links_the_answer_to_the_customer(widget: TestClient, db: Engine) -> None:
    with make_sessionmaker(db)() as session, session.begin():
        [ann] = customers_service.resolve(
            session, [customers_service.Claim(keys=(("email", "ann@example.com"),))], actor="t"
        )
        token = visitor_token(session, ann)
    assert post(widget, SHOP, {"answers": {"nps": 4}, "token": token}).status_code == 201
    assert [row["customer_id"] for row in stored(db)] == [ann]
    forged = post(widget, SHOP, {"answers": {"nps": 4}, "token": token[:-2] + "xx"})
    assert forged.status_code == 422 and len(stored(db)) == 1


def test_a_closed_survey_takes_no_widget_answers(widget: TestClient, db: Engine) -> None:
    with make_sessionmaker(db)() as session, session.begin():
        service.set_status(session, service.get_survey(session, "relationship-nps"), service.SurveyStatus.closed)
    assert post(widget, SHOP, {"answers": {"nps": 9}}).status_code == 409
    assert widget.get("/s/relationship-nps/widget.json").status_code == 409
    assert stored(db) == []


# -- a real browser: a shop page on one origin embeds the widget served by cxm on another ------------------


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def cxm_server(db: Engine, database_url: str) -> Iterator[tuple[str, str]]:
    """cxm served by uvicorn on one port, allowing a shop page on another; (cxm address, shop address)."""
    install_templates(db)
    cxm_port, shop_port = free_port(), free_port()
    shop = f"http://127.0.0.1:{shop_port}"
    app = create_app(Settings(database_url=database_url, widget_origins=[shop]), engine=db)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=cxm_port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.05)
    yield f"http://127.0.0.1:{cxm_port}", shop
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def shop_page(tmp_path: Path, cxm_server: tuple[str, str]) -> Iterator[str]:
    """The shop's page with the widget's script tag, served by a plain HTTP server on the shop's port."""
    cxm_address, shop = cxm_server
    tag = f'<script src="{cxm_address}/s/widget.js" data-survey="relationship-nps" data-lang="cs" async></script>'
    (tmp_path / "index.html").write_text(
        f'<!doctype html><html lang="cs"><head><meta charset="utf-8"><title>Lumo</title></head>'
        f"<body><h1>Lumo shop</h1>{tag}</body></html>",
        encoding="utf-8",
    )
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None  # type: ignore[method-assign, assignment]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", int(shop.rsplit(":", 1)[1])), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"{shop}/index.html"
    httpd.shutdown()
    thread.join(10)


def test_browser_answers_through_the_widget_on_another_site(shop_page: str, db: Engine, tmp_path: Path) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(shop_page)
        panel = page.get_by_role("complementary", name="Jak se nám daří?")
        panel.get_by_role("button", name="9", exact=True).click()
        assert panel.get_by_role("button", name="9", exact=True).get_attribute("aria-pressed") == "true"
        panel.get_by_label("Co je hlavním důvodem vašeho hodnocení?").fill("Rychlé doručení & milý personál")
        panel.get_by_role("button", name="Odeslat").click()
        panel.get_by_text("Děkujeme! Vaše zpětná vazba nám pomáhá zlepšovat se.").wait_for()
        page.screenshot(path=str(tmp_path / "widget.png"))
        browser.close()
    [row] = stored(db)
    assert (row["channel"], row["language"]) == ("widget", "cs")
    with make_sessionmaker(db)() as session:
        assert service.stored_answers(session, row["id"]) == {"nps": 9, "reason": "Rychlé doručení & milý personál"}
