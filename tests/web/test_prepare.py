"""Default views prepared ahead (after the worker's sync) and one store connection per page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cxm.analytics import engines, keepalive
from cxm.analytics import service as analytics_service
from cxm.web import cache
from cxm.web.prepare import prepare_default_views
from tests.web.conftest import sign_in
from tests.web.pages_data import store_company

PAGES = ("/overview?channel=web", "/channels?segment=retail", "/journey?channel=web", "/feedback?channel=web")
DEFAULT_VIEWS = ("/overview", "/overview/alerts?fragment=1", "/channels", "/journey", "/feedback")


@pytest.fixture
def company(client: TestClient, admin_headers: dict[str, str], people: dict[str, str]) -> Iterator[TestClient]:
    """The page tests' company, synced, nothing remembered yet, a viewer signed in; the store dropped afterwards."""
    store_company(client, admin_headers)
    app = client.app
    analytics_service.sync_store(app.state.settings, app.state.engine)  # type: ignore[attr-defined]
    cache._remembered.clear()
    sign_in(client, people["viewer"])
    yield client
    url = analytics_service.engine_for(app.state.settings).url  # type: ignore[attr-defined]
    keepalive.release(url.removeprefix("duckdb:///"))  # no connection kept open on the file about to go
    for path in (Path(url.removeprefix("duckdb:///")), Path(url.removeprefix("duckdb:///") + ".wal")):
        path.unlink(missing_ok=True)
    cache._remembered.clear()


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every DuckDB store connection opened from now on."""
    found: list[str] = []
    real_open = engines._open_duckdb
    monkeypatch.setattr(engines, "_open_duckdb", lambda *a: found.append(a[0]) or real_open(*a))
    return found


def test_prepared_default_views_open_no_store_connection(company: TestClient, opened: list[str]) -> None:
    before = {path: company.get(path).text for path in DEFAULT_VIEWS}
    cache._remembered.clear()
    prepare_default_views(company.app)  # type: ignore[arg-type]
    opened.clear()
    after = {path: company.get(path) for path in DEFAULT_VIEWS}
    assert opened == []
    for path, page in after.items():
        assert page.status_code == 200
        assert page.text == before[path], path


def test_a_page_asks_its_figures_on_one_store_connection(company: TestClient, opened: list[str]) -> None:
    stored = analytics_service.engine_for(company.app.state.settings).kind == "duckdb"  # type: ignore[attr-defined]
    url = analytics_service.engine_for(company.app.state.settings).url  # type: ignore[attr-defined]
    for path in PAGES:
        keepalive.release(url.removeprefix("duckdb:///"))  # none kept open from the page before
        opened.clear()
        assert company.get(path).status_code == 200
        assert len(opened) == (1 if stored else 0), path  # PostgreSQL is its own analytics engine


def test_pages_one_after_another_share_the_store_connection_kept_open(company: TestClient, opened: list[str]) -> None:
    engine = analytics_service.engine_for(company.app.state.settings)  # type: ignore[attr-defined]
    keepalive.release(engine.url.removeprefix("duckdb:///"))  # none kept open by the fixture's own requests
    for path in PAGES:
        assert company.get(path).status_code == 200
    assert len(opened) == (1 if engine.kind == "duckdb" else 0)
