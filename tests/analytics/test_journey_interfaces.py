"""Journeys and the loyalty ladder give the same tables from the library, the API and `cxm report`."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine as SqlEngine
from sqlalchemy.orm import Session

from cxm.app import create_app
from cxm.config import Settings
from cxm.core.errors import NotFound
from cxm.hub import Hub
from tests.analytics import journey_data
from tests.analytics.conftest import analytics_environment
from tests.conftest import make_key
from tests.test_cli import CXM

JUNE = {"until": "2026-06-15T00:00:00Z", "months": 2}


def _both(session: Session) -> dict[str, int]:
    journey_data.load_journeys(session)
    return journey_data.load_ladder(session)


@pytest.fixture
def journeys_env(db: SqlEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Planted journeys and ladder loaded; a fresh DuckDB store for SQLite (PostgreSQL is read directly)."""
    found: dict[str, int] = {}
    env = analytics_environment(db, tmp_path, monkeypatch, lambda session: found.update(_both(session)))
    hub = Hub(env["CXM_DATABASE_URL"])
    hub.sync_analytics()
    hub.close()
    return {"env": env, "ids": found}


def _cli(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CXM, "report", *arguments], capture_output=True, text=True, env={**os.environ, **env})


def _get(db: SqlEngine, path: str, params: dict[str, Any]) -> Any:
    with TestClient(create_app(Settings(serve_worker=False), engine=db)) as client:
        headers = {"Authorization": f"Bearer {make_key(db, 'viewer')}"}
        return client.get(f"/api/v1/analytics/{path}", params=params, headers=headers)


def test_funnel_and_paths_agree_everywhere(journeys_env: dict[str, Any], db: SqlEngine, tmp_path: Path) -> None:
    env = journeys_env["env"]
    hub = Hub(env["CXM_DATABASE_URL"])
    funnel, paths = hub.analytics.funnel(by="channel"), hub.analytics.paths(top=3, detail=True)
    times, svg = hub.analytics.stage_times(segment="retail"), hub.analytics.funnel_chart(by="channel")
    hub.close()
    answer = _get(db, "journeys", {"by": "channel", "top": 3, "detail": "true"})
    assert answer.status_code == 200, answer.text
    pd.testing.assert_frame_equal(pd.DataFrame(answer.json()["funnel"]), funnel, check_dtype=False)
    pd.testing.assert_frame_equal(pd.DataFrame(answer.json()["paths"]), paths, check_dtype=False)
    printed = _cli(env, "funnel", "--by", "channel", "--format", "json", "--chart", str(tmp_path / "f.svg"))
    assert printed.returncode == 0, printed.stderr
    pd.testing.assert_frame_equal(pd.DataFrame(json.loads(printed.stdout)), funnel, check_dtype=False)
    social = funnel.set_index(["group", "stage"]).loc[("social", "purchase")]
    assert social["conversion_pct"] == pytest.approx(25.0)
    assert times.set_index("from_stage").loc["awareness", "median_days"] == pytest.approx(2.0)
    assert svg.startswith(b"<?xml") and b"social" in svg and (tmp_path / "f.svg").read_bytes().startswith(b"<?xml")
    table = _cli(env, "paths", "--top", "2")
    assert table.returncode == 0 and "awareness > purchase >" in table.stdout


def test_journey_sub_views(journeys_env: dict[str, Any], db: SqlEngine) -> None:
    moments = _get(db, "journeys/moments", {})
    experience = _get(db, "journeys/experience", {"by_channel": "true"})
    times = _get(db, "journeys/times", {"by": "segment"})
    png = _get(db, "journeys/funnel/chart", {"image": "png"})
    assert moments.status_code == 200 and moments.json()["rows"][0]["journey_stage"] == "post_purchase"
    assert {row["channel"] for row in experience.json()["rows"]} == {"web", "email"}
    assert {row["group"] for row in times.json()["rows"]} >= {"retail", "business"}
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    printed = _cli(journeys_env["env"], "moments", "--format", "csv")
    assert printed.returncode == 0 and printed.stdout.splitlines()[1].startswith("1,post_purchase,email")


def test_loyalty_agrees_everywhere(journeys_env: dict[str, Any], db: SqlEngine) -> None:
    env, ids = journeys_env["env"], journeys_env["ids"]
    until = datetime(2026, 6, 15, tzinfo=UTC)
    hub = Hub(env["CXM_DATABASE_URL"])
    ladder = hub.analytics.loyalty(months=2, until=until)
    moves = hub.analytics.loyalty_transitions(months=2, until=until)
    rung = hub.analytics.rung_of(ids["referrer"], until=until)
    placed = hub.analytics.ladder([ids["fading"], ids["lost"]], until=until)
    with pytest.raises(NotFound):
        hub.analytics.rung_of(10**9, until=until)
    hub.close()
    answer = _get(db, "loyalty", JUNE)
    assert answer.status_code == 200, answer.text
    assert answer.json()["currency"] == "EUR" and answer.json()["rules"]["lost_days"] == 365
    pd.testing.assert_frame_equal(pd.DataFrame(answer.json()["rows"]), ladder, check_dtype=False)
    transitions = _get(db, "loyalty/transitions", JUNE)
    pd.testing.assert_frame_equal(pd.DataFrame(transitions.json()["rows"]), moves, check_dtype=False)
    printed = _cli(env, "loyalty", "--until", "2026-06-15", "--months", "2", "--format", "json")
    assert printed.returncode == 0, printed.stderr
    pd.testing.assert_frame_equal(pd.DataFrame(json.loads(printed.stdout)), ladder, check_dtype=False)
    assert rung == "advocate" and placed["rung"].tolist() == ["lost", "at_risk"]
    customers = _get(db, "loyalty/customers", {**JUNE, "customer_id": [ids["promoter"]], "lost_days": 30})
    assert [row["rung"] for row in customers.json()["rows"]] == ["advocate"]
    table = _cli(env, "transitions", "--until", "2026-06-15", "--months", "2")
    assert table.returncode == 0 and "unknown" in table.stdout and "advocate" in table.stdout


def test_bad_requests_get_the_error_shape(journeys_env: dict[str, Any], db: SqlEngine) -> None:
    wrong_by = _get(db, "journeys/funnel", {"by": "agent"})
    wrong_filter = _get(db, "journeys", {"journey_stage": "purchase"})
    wrong_rules = _get(db, "loyalty", {"lost_days": 0})
    wrong_months = _get(db, "loyalty/transitions", {"months": 500})
    assert wrong_by.status_code == 422 and wrong_by.json()["error"]["code"] == "invalid_input"
    assert "agent" in wrong_by.json()["error"]["message"] and "allowed" in wrong_by.json()["error"]["details"]
    assert wrong_filter.status_code == 422 and "journey_stage" in wrong_filter.json()["error"]["message"]
    assert wrong_rules.status_code == 422 and set(wrong_rules.json()["error"]) == {"code", "message", "details"}
    assert wrong_months.status_code == 422
    with TestClient(create_app(Settings(serve_worker=False), engine=db)) as client:
        assert client.get("/api/v1/analytics/loyalty").status_code == 401
    printed = _cli(journeys_env["env"], "funnel", "--by", "nope")
    assert printed.returncode == 1 and "error: cannot break journeys down by 'nope'" in printed.stderr
