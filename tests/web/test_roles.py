"""Every route of the app, walked with every role: allowed where the role grants the route's permission, else 403."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from cxm.core.auth import GRANTS, Permission, Role
from tests.web.conftest import sign_in

# Routes anyone may call: sign-in, health, API docs, the public survey pages and the embeddable widget.
PUBLIC = {"/", "/healthz", "/login", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"}
SKIPPED = {("POST", "/logout")}  # ends the walking session; tested in test_signin


def routes(app: FastAPI) -> Iterator[tuple[str, APIRoute]]:
    """(full path, route) of every API route, through included routers."""
    stack: list[Any] = list(app.routes)
    while stack:
        route = stack.pop(0)
        if hasattr(route, "effective_route_contexts"):
            stack[:0] = [(ctx.path, ctx.original_route) for ctx in route.effective_route_contexts()]
        elif isinstance(route, tuple) and isinstance(route[1], APIRoute):
            yield route
        elif isinstance(route, APIRoute):
            yield route.path, route


def permission_of(route: APIRoute) -> Permission | None:
    """The permission a route's dependencies require (None: public)."""
    stack = list(route.dependant.dependencies)
    while stack:
        dependency = stack.pop()
        found = getattr(dependency.call, "permission", None)
        if found is not None:
            return Permission(found)
        stack.extend(dependency.dependencies)
    return None


def concrete(path: str) -> str:
    """A path with every parameter filled with a harmless value."""
    return re.sub(r"\{[^}]+\}", "1", path)


def calls(app: FastAPI) -> list[tuple[str, str, Permission | None]]:
    """(method, path, permission) of every route."""
    found = []
    for path, route in routes(app):
        for method in sorted(route.methods - {"HEAD"}):
            found.append((method, path, permission_of(route)))
    return found


def test_every_route_is_public_or_guarded(client: TestClient) -> None:
    found = calls(client.app)  # type: ignore[arg-type]
    assert len(found) > 50
    unguarded = [(m, p) for m, p, permission in found if permission is None]
    assert all(p in PUBLIC or p.startswith("/s/") for _, p in unguarded), unguarded
    pages = {p for _, p, permission in found if permission is not None and not p.startswith("/api/")}
    assert {"/overview", "/customers", "/customers/{customer_id}"} <= pages


def _request(client: TestClient, method: str, path: str, csrf: str) -> int:
    url = concrete(path)
    if method == "GET":
        return client.get(url, follow_redirects=False).status_code
    if path.startswith("/api/"):
        return client.request(method, url, json={}, headers={"X-CSRF-Token": csrf}).status_code
    return client.request(method, url, data={"csrf": csrf}, follow_redirects=False).status_code


def test_every_role_on_every_route(client: TestClient, people: dict[str, str]) -> None:
    walked = [(m, p, permission) for m, p, permission in calls(client.app) if permission and (m, p) not in SKIPPED]  # type: ignore[arg-type]
    for role in Role:
        csrf = sign_in(client, people[role.value])
        for method, path, permission in walked:
            status = _request(client, method, path, csrf)
            if permission in GRANTS[role]:
                assert status not in (401, 403), (role, method, path, status)
            else:
                assert status == 403, (role, method, path, status)


def test_strangers_get_401_from_the_api_and_the_sign_in_page_elsewhere(client: TestClient) -> None:
    for method, path, permission in calls(client.app):  # type: ignore[arg-type]
        if permission is None:
            continue
        response = client.request(method, concrete(path), follow_redirects=False)
        if path.startswith("/api/"):
            assert response.status_code == 401, (method, path)
        else:
            assert response.status_code == 303 and response.headers["location"].startswith("/login"), (method, path)
