"""Dashboard fixtures: one account per role, and signing a test client in."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cxm.access import service as access_service
from cxm.core.auth import Role
from cxm.core.db import make_sessionmaker

PASSWORD = "correct horse battery"


def email_of(role: str) -> str:
    """The test account of a role."""
    return f"{role}@example.com"


@pytest.fixture
def people(db: Engine) -> dict[str, str]:
    """One account per role (password PASSWORD); role -> e-mail."""
    with make_sessionmaker(db)() as session, session.begin():
        for role in Role:
            access_service.create_user(session, email=email_of(role.value), password=PASSWORD, role=role.value)
    return {role.value: email_of(role.value) for role in Role}


def form_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Sign the client in; returns the session's CSRF token (for forms and the API)."""
    client.cookies.clear()
    page = client.get("/login")
    posted = client.post(
        "/login",
        data={"email": email, "password": password, "csrf": form_token(page.text), "next": "/overview"},
        follow_redirects=False,
    )
    assert posted.status_code == 303, posted.text
    return form_token(client.get("/overview").text)
