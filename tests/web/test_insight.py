"""The 360 page's loyalty and risk panel: the rung, churn risk with reasons and value that analytics computes."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cxm.app import create_app
from cxm.config import Settings
from cxm.hub import Hub
from tests.analytics import churn_data
from tests.analytics.conftest import analytics_environment
from tests.web.conftest import sign_in


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
    with TestClient(create_app(Settings(serve_worker=False), engine=db)) as client:
        sign_in(client, people["viewer"])
        page = client.get(f"/customers/{first}")
        panel = client.get(f"/customers/{first}/insight", params={"fragment": "1"})
        whole = client.get(f"/customers/{first}/insight")
        client.cookies.clear()
        stranger = client.get(f"/customers/{first}/insight", follow_redirects=False)
    assert f'data-load="/customers/{first}/insight?fragment=1"' in page.text
    assert panel.status_code == 200 and "<html" not in panel.text
    assert f"rung-{insight['loyalty']['rung']}" in panel.text
    for reason in insight["churn"]["reasons"]:
        assert html.escape(reason) in panel.text
    assert whole.status_code == 200 and "<html" in whole.text and "Loyalty and risk" in whole.text
    assert stranger.status_code in (302, 303, 401)
