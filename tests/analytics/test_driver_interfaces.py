"""Key drivers give the same table from the library, `GET /api/v1/analytics/drivers` and `cxm report drivers`."""

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
from tests.analytics import driver_data
from tests.analytics.conftest import analytics_environment
from tests.conftest import make_key
from tests.test_cli import CXM

COMPARED = ["driver", "rank", "weight", "weight_ci_low", "weight_ci_high", "performance", "quadrant", "n"]


@pytest.fixture
def drivers_env(db: SqlEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The planted ratings loaded; a fresh DuckDB store for SQLite (PostgreSQL is read directly)."""
    return analytics_environment(db, tmp_path, monkeypatch, driver_data.load)


def test_library_api_and_cli_agree(drivers_env: dict[str, str], db: SqlEngine, tmp_path: Path) -> None:
    hub = Hub(drivers_env["CXM_DATABASE_URL"])
    hub.sync_analytics()
    library = hub.analytics.drivers("store-visit", "overall", segment="retail", resamples=100)
    svg = hub.analytics.drivers_chart("store-visit", "overall", resamples=0)
    hub.close()
    with TestClient(create_app(Settings(serve_worker=False), engine=db)) as client:
        headers = {"Authorization": f"Bearer {make_key(db, 'viewer')}"}
        params = {"survey": "store-visit", "outcome": "overall", "segment": "retail", "resamples": 100}
        answer = client.get("/api/v1/analytics/drivers", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["r_squared"] == pytest.approx(library["r_squared"].iloc[0])
    command = [CXM, "report", "drivers", "--survey", "store-visit", "--outcome", "overall", "--where", "segment=retail"]
    command += ["--resamples", "100", "--format", "json", "--chart", str(tmp_path / "q.svg")]
    printed = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **drivers_env}, check=True)
    for other in (pd.DataFrame(answer.json()["rows"]), pd.DataFrame(json.loads(printed.stdout))):
        pd.testing.assert_frame_equal(other[COMPARED], library[COMPARED], check_dtype=False)
    assert library["driver"].iloc[0] == "waiting"
    assert svg.startswith(b"<?xml") and b"waiting" in svg and (tmp_path / "q.svg").read_bytes().startswith(b"<?xml")


def test_chart_endpoint_and_errors(drivers_env: dict[str, str], db: SqlEngine) -> None:
    hub = Hub(drivers_env["CXM_DATABASE_URL"])
    hub.sync_analytics()
    hub.close()
    with TestClient(create_app(Settings(serve_worker=False), engine=db)) as client:
        headers = {"Authorization": f"Bearer {make_key(db, 'viewer')}"}
        asked = {"survey": "store-visit", "outcome": "overall", "resamples": 0}
        svg = client.get("/api/v1/analytics/drivers/chart", params=asked, headers=headers)
        png = client.get("/api/v1/analytics/drivers/chart", params=asked | {"image": "png"}, headers=headers)
        shapley = client.get("/api/v1/analytics/drivers", params=asked | {"method": "shapley"}, headers=headers)
        wrong = client.get("/api/v1/analytics/drivers", params=asked | {"driver": "nope"}, headers=headers)
        anonymous = client.get("/api/v1/analytics/drivers", params=asked)
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert b"tidiness" in svg.content
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    assert shapley.status_code == 200 and shapley.json()["rows"][0]["driver"] == "waiting"
    assert wrong.status_code == 422 and "store-visit.nope" in wrong.json()["error"]["message"]
    assert anonymous.status_code == 401


def test_cli_refuses_drivers_without_an_outcome(drivers_env: dict[str, str]) -> None:
    printed = subprocess.run(
        [CXM, "report", "drivers", "--survey", "store-visit"],
        capture_output=True,
        text=True,
        env={**os.environ, **drivers_env},
    )
    assert printed.returncode == 1 and "error: drivers needs --survey and --outcome" in printed.stderr
