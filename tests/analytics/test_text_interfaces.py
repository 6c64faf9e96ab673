"""Sentiment and themes as dimensions, filters and drivers: the library, the REST API and `cxm report` agree."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine as SqlEngine

from cxm.app import create_app
from cxm.config import Settings
from cxm.hub import Hub
from tests.analytics import text_data
from tests.analytics.conftest import analytics_environment
from tests.conftest import make_key
from tests.test_cli import CXM

COMPARED = ["value", "n", "ci_low", "ci_high", "p_value"]


@pytest.fixture
def text_env(db: SqlEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The analysed comments loaded; a fresh DuckDB store for SQLite (PostgreSQL is read directly)."""
    return analytics_environment(db, tmp_path, monkeypatch, text_data.load)


def test_metric_by_theme_filtered_by_sentiment_everywhere(text_env: dict[str, str], db: SqlEngine) -> None:
    hub = Hub(text_env["CXM_DATABASE_URL"])
    hub.sync_analytics()
    library = hub.metrics.nps(by=["theme"], sentiment=["negative", "mixed"])
    hub.close()
    with TestClient(create_app(Settings(serve_worker=False), engine=db)) as client:
        headers = {"Authorization": f"Bearer {make_key(db, 'viewer')}"}
        params = {"by": "theme", "sentiment": ["negative", "mixed"]}
        answer = client.get("/api/v1/metrics/nps", params=params, headers=headers)
        one = client.get("/api/v1/metrics/nps", params={"theme": "delivery"}, headers=headers)
    assert answer.status_code == 200 and one.status_code == 200, answer.text
    command = [CXM, "report", "nps", "--by", "theme", "--where", "sentiment=negative", "--where", "sentiment=mixed"]
    printed = subprocess.run([*command, "--format", "json"], capture_output=True, text=True,
                             env={**os.environ, **text_env}, check=True)  # fmt: skip
    assert set(library["theme"]) == {"delivery", "staff", "price", "(none)"}
    for other in (pd.DataFrame(answer.json()["rows"]), pd.DataFrame(json.loads(printed.stdout))):
        assert other["theme"].tolist() == library["theme"].tolist()
        pd.testing.assert_frame_equal(other[COMPARED], library[COMPARED], check_dtype=False)
    delivery = library.set_index("theme").loc["delivery"]
    assert one.json()["rows"][0]["n"] > delivery["n"] > 0


def test_text_drivers_from_the_library_api_and_cli(text_env: dict[str, str], db: SqlEngine) -> None:
    drivers = ["waiting", "sentiment", "theme:delivery"]
    hub = Hub(text_env["CXM_DATABASE_URL"])
    hub.sync_analytics()
    library = hub.analytics.drivers("visit", "nps", drivers=drivers, resamples=0)
    hub.close()
    with TestClient(create_app(Settings(serve_worker=False), engine=db)) as client:
        headers = {"Authorization": f"Bearer {make_key(db, 'viewer')}"}
        params = {"survey": "visit", "outcome": "nps", "driver": drivers, "resamples": 0}
        answer = client.get("/api/v1/analytics/drivers", params=params, headers=headers)
        wrong = client.get("/api/v1/analytics/drivers", params=params | {"driver": "theme:weather"}, headers=headers)
    command = [CXM, "report", "drivers", "--survey", "visit", "--outcome", "nps", "--resamples", "0"]
    command += [part for name in drivers for part in ("--driver", name)]
    printed = subprocess.run([*command, "--format", "json"], capture_output=True, text=True,
                             env={**os.environ, **text_env}, check=True)  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert wrong.status_code == 422 and wrong.json()["error"]["details"]["themes"] == ["delivery", "price", "staff"]
    for other in (pd.DataFrame(answer.json()["rows"]), pd.DataFrame(json.loads(printed.stdout))):
        assert other["driver"].tolist() == library["driver"].tolist() == ["theme:delivery", "waiting", "sentiment"]
        pd.testing.assert_series_equal(other["weight"], library["weight"], check_dtype=False, check_names=False)
