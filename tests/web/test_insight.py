"""The 360 page's loyalty and risk panel: the rung, churn risk with reasons and value that analytics computes; while
the churn model is fitted it says so at once and fills in later."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cxm.analytics import profiles, risk
from cxm.app import create_app
from cxm.config import Settings
from cxm.customers.models import Customer
from cxm.hub import Hub
from cxm.interactions.models import Order
from cxm.web import cache
from tests.analytics import churn_data
from tests.analytics.conftest import analytics_environment
from tests.web.conftest import sign_in

PENDING = "The churn risk is being computed on the latest data"


def _fitted_in_background() -> None:
    """Wait for the fit a panel started (the page's script asks the panel again meanwhile)."""
    for thread in list(cache._background.values()):
        thread.join(120)


def test_the_panel_shows_what_analytics_knows_and_escapes_it(
    db: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, people: dict[str, str]
) -> None:
    env = analytics_environment(db, tmp_path, monkeypatch, churn_data.load)
    hub = Hub(env["CXM_DATABASE_URL"])
    hub.sync_analytics()
    scored = hub.analytics.churn()
    first = int(scored["customer_id"].iloc[0])
    insight = hub.analytics.customer(first)
    hub.close()
    monkeypatch.setattr(risk, "_scored", {})  # a newly started server: nothing fitted yet
    monkeypatch.setattr(profiles, "_placed", {})
    with TestClient(create_app(Settings(serve_worker=False), engine=db)) as client:
        sign_in(client, people["viewer"])
        page = client.get(f"/customers/{first}")
        pending = client.get(f"/customers/{first}/insight", params={"fragment": "1"})
        _fitted_in_background()
        panel = client.get(f"/customers/{first}/insight", params={"fragment": "1"})
        whole = client.get(f"/customers/{first}/insight")
        client.cookies.clear()
        stranger = client.get(f"/customers/{first}/insight", follow_redirects=False)
    assert f'data-load="/customers/{first}/insight?fragment=1"' in page.text
    assert pending.status_code == 200 and "data-pending" in pending.text and PENDING in pending.text
    assert f'href="/customers/{first}/insight"' in pending.text  # without JavaScript: a link to ask again
    assert panel.status_code == 200 and "<html" not in panel.text and "data-pending" not in panel.text
    assert f"rung-{insight['loyalty']['rung']}" in panel.text
    for reason in insight["churn"]["reasons"]:
        assert html.escape(reason) in panel.text
    assert whole.status_code == 200 and "<html" in whole.text and "Loyalty and risk" in whole.text
    assert stranger.status_code in (302, 303, 401)


def _one_customer(session: Session) -> None:
    """One customer with one order: placed on the ladder, but far too little history for a churn model."""
    ana = Customer(name="Ana")
    session.add(ana)
    session.flush()
    at = datetime(2026, 9, 1, tzinfo=UTC)
    session.add(Order(order_id="o-1", customer_id=ana.id, occurred_at=at, amount=Decimal(10), currency="EUR"))


def test_too_little_history_settles_into_a_note_instead_of_waiting_for_ever(
    db: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, people: dict[str, str]
) -> None:
    env = analytics_environment(db, tmp_path, monkeypatch, _one_customer)
    Hub(env["CXM_DATABASE_URL"]).sync_analytics()
    monkeypatch.setattr(risk, "_scored", {})
    monkeypatch.setattr(profiles, "_placed", {})
    fits: list[object] = []
    real = risk._scored_and_valued
    monkeypatch.setattr(risk, "_scored_and_valued", lambda *a: fits.append(a) or real(*a))
    with TestClient(create_app(Settings(serve_worker=False), engine=db)) as client:
        sign_in(client, people["viewer"])
        client.get("/customers/1/insight", params={"fragment": "1"})
        _fitted_in_background()
        panels = [client.get("/customers/1/insight", params={"fragment": "1"}).text for _ in range(2)]
    for panel in panels:
        assert "data-pending" not in panel and "not enough history to fit a churn model" in panel
    assert len(fits) == 1  # the failure is kept like a score: not fitted again for the same data
