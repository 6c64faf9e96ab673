"""The Overview's latest significant changes (analytics: significant_changes)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from cxm.analytics import keepalive
from cxm.analytics import service as analytics_service
from cxm.core.db import make_sessionmaker
from cxm.interactions.models import Interaction
from cxm.web import cache
from tests.web.conftest import sign_in
from tests.web.pages_data import touchpoint

PEOPLE = 40


@pytest.fixture(autouse=True)
def forget_store(client: TestClient) -> Iterator[None]:
    """The tests share one store file while each empties its database (response ids start again): the 80 answers
    stored here would outlive it in the store, so the store and the figures remembered from it are dropped."""
    yield
    url = analytics_service.engine_for(client.app.state.settings).url  # type: ignore[attr-defined]
    keepalive.release(url.removeprefix("duckdb:///"))  # no connection kept open on the file about to go
    for path in (Path(url.removeprefix("duckdb:///")), Path(url.removeprefix("duckdb:///") + ".wal")):
        path.unlink(missing_ok=True)
    cache._remembered.clear()


def _store(client: TestClient, headers: dict[str, str], db: Engine) -> None:
    """40 web buyers answer CSAT after a purchase in September (all 5) and in October (all 1)."""
    items = [touchpoint(n, "web", "purchase", month) for n in range(PEOPLE) for month in (9, 10)]
    assert client.post("/api/v1/interactions/batch", json={"interactions": items}, headers=headers).status_code == 200
    assert client.post("/api/v1/surveys/from-template/purchase-csat", headers=headers).status_code == 201
    with make_sessionmaker(db)() as session:
        ids = dict(session.execute(select(Interaction.event_id, Interaction.id)).all())
    for n in range(PEOPLE):
        for month, score in ((9, 5), (10, 1)):
            body = {
                "survey": "purchase-csat",
                "identities": {"email": f"c{n}@example.com"},
                "interaction_id": ids[f"e-{n}-web-{month}"],
                "answers": {"csat": score, "found": "yes"},
                "completed_at": f"2026-{month:02d}-06T10:00:00Z",
                "external_id": f"a-{n}-{month}",
            }
            assert client.post("/api/v1/responses", json=body, headers=headers).status_code == 201, body


def test_a_significant_drop_is_listed_with_its_interval_and_link(
    client: TestClient, admin_headers: dict[str, str], people: dict[str, str], db: Engine
) -> None:
    _store(client, admin_headers, db)
    app = client.app
    analytics_service.sync_store(app.state.settings, app.state.engine)  # type: ignore[attr-defined]
    engine = analytics_service.engine_for(app.state.settings)  # type: ignore[attr-defined]
    found = analytics_service.significant_changes(engine, now=datetime(2026, 11, 15, tzinfo=UTC))
    assert set(zip(found["metric"], found["dimension"], found["group"], strict=True)) == {
        ("csat", "channel", "web"),
        ("csat", "journey_stage", "purchase"),
    }
    assert (found["direction"] == "drop").all() and (found["change"] == -100).all() and (found["n"] == PEOPLE).all()
    assert analytics_service.significant_changes(engine, now=datetime(2026, 10, 15, tzinfo=UTC)).empty
    sign_in(client, people["viewer"])
    page = client.get("/overview").text
    assert 'data-load="/overview/alerts?fragment=1"' in page and 'href="/overview/alerts"' in page
    alerts = client.get("/overview/alerts?fragment=1").text
    assert "<html" not in alerts and "<html" in client.get("/overview/alerts").text
    assert 'href="/channels?channel=web"' in alerts and 'href="/journey?journey_stage=purchase"' in alerts
    assert "drop" in alerts and "n = 40 / 40" in alerts
    assert "Latest significant changes" in page and "Benjamini-Hochberg" in alerts and "adjusted p = " in alerts
