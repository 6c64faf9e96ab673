"""Signing in and out: secure cookies, CSRF, rate limits, sessions that end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cxm.access import service as access_service
from cxm.app import create_app
from cxm.config import Settings
from cxm.core.errors import Conflict, InvalidInput, Unauthorized
from tests.web.conftest import PASSWORD, form_token, sign_in


def test_pages_send_strangers_to_sign_in(client: TestClient) -> None:
    home = client.get("/", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/overview"
    page = client.get("/overview?channel=web", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login?next=%2Foverview%3Fchannel%3Dweb"
    assert client.get("/api/v1/customers").status_code == 401


def test_sign_in_sets_a_safe_cookie_and_sign_out_ends_the_session(client: TestClient, people: dict[str, str]) -> None:
    page = client.get("/login?next=/customers")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    form = {"email": people["viewer"], "password": PASSWORD, "csrf": form_token(page.text), "next": "/customers"}
    signed = client.post("/login", data=form, follow_redirects=False)
    assert signed.status_code == 303 and signed.headers["location"] == "/customers"
    cookie = signed.headers["set-cookie"].lower()
    assert "cxm_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    overview = client.get("/overview")
    assert overview.status_code == 200 and people["viewer"] in overview.text
    assert client.get("/api/v1/customers").status_code == 200  # the session works for the API too
    client.post("/logout", data={"csrf": form_token(overview.text)}, follow_redirects=False)
    assert client.get("/overview", follow_redirects=False).status_code == 303


def test_cookie_is_secure_behind_https(db: Engine, database_url: str, people: dict[str, str]) -> None:
    settings = Settings(database_url=database_url, serve_worker=False, public_url="https://cx.example.com")
    with TestClient(create_app(settings, engine=db), base_url="https://testserver") as client:
        page = client.get("/login")
        form = {"email": people["admin"], "password": PASSWORD, "csrf": form_token(page.text)}
        signed = client.post("/login", data=form, follow_redirects=False)
    assert "secure" in signed.headers["set-cookie"].lower()


def test_wrong_password_and_offsite_next(client: TestClient, people: dict[str, str]) -> None:
    page = client.get("/login?next=//evil.example.com/")
    assert 'value="/overview"' in page.text
    form = {"email": people["admin"], "password": "wrong password!", "csrf": form_token(page.text)}
    refused = client.post("/login", data=form)
    assert refused.status_code == 401 and "Wrong e-mail or password" in refused.text


def test_failed_sign_ins_are_limited(client: TestClient, people: dict[str, str]) -> None:
    token = form_token(client.get("/login").text)
    codes = [
        client.post("/login", data={"email": people["admin"], "password": "nope nope nope", "csrf": token}).status_code
        for _ in range(6)
    ]
    assert codes == [401] * 5 + [429]
    right = client.post("/login", data={"email": people["admin"], "password": PASSWORD, "csrf": token})
    assert right.status_code == 429


def test_forms_without_the_csrf_token_are_refused(client: TestClient, people: dict[str, str]) -> None:
    no_token = client.post("/login", data={"email": people["admin"], "password": PASSWORD})
    assert no_token.status_code == 403
    csrf = sign_in(client, people["admin"])
    assert client.post("/logout", data={}).status_code == 403
    assert client.post("/logout", data={"csrf": "forged"}).status_code == 403
    # Cookie-authenticated API calls that change things need the token in a header.
    body = {"name": "x"}
    assert client.post("/api/v1/analytics/sync", json=body).status_code == 403
    assert client.post("/api/v1/analytics/sync", headers={"X-CSRF-Token": csrf}).status_code == 200


def test_accounts(session: Session) -> None:
    user = access_service.create_user(session, email="Ann@Example.com", password=PASSWORD, role="analyst")
    assert user.email == "ann@example.com" and user.display_name == "ann" and user.password_hash.startswith("$argon2")
    with pytest.raises(Conflict):
        access_service.create_user(session, email="ann@example.com", password=PASSWORD, role="viewer")
    with pytest.raises(InvalidInput):
        access_service.create_user(session, email="bob@example.com", password="short", role="viewer")
    with pytest.raises(InvalidInput):
        access_service.create_user(session, email="bob@example.com", password=PASSWORD, role="boss")
    opened = access_service.sign_in(session, email="ann@example.com", password=PASSWORD, hours=1)
    principal = access_service.authenticate_session(session, opened.token)
    assert principal is not None and principal.role == "analyst" and principal.actor == "user:ann@example.com"
    access_service.set_role(session, user="ann@example.com", role="viewer")
    assert access_service.authenticate_session(session, opened.token).role == "viewer"  # type: ignore[union-attr]
    access_service.deactivate_user(session, user=user.id)
    assert access_service.authenticate_session(session, opened.token) is None
    with pytest.raises(Unauthorized):
        access_service.sign_in(session, email="ann@example.com", password=PASSWORD, hours=1)


def test_sessions_expire(session: Session) -> None:
    access_service.create_user(session, email="ann@example.com", password=PASSWORD, role="admin")
    past = datetime.now(UTC) - timedelta(hours=2)
    opened = access_service.sign_in(session, email="ann@example.com", password=PASSWORD, hours=1, now=past)
    assert access_service.authenticate_session(session, opened.token) is None
    assert access_service.forget_expired_sessions(session) == 1
