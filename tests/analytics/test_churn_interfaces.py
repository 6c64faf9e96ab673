"""Churn and value give the same figures from the library, the API and `cxm report`; bad parameters are refused."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine as SqlEngine

from cxm.analytics import profiles
from cxm.app import create_app
from cxm.config import Settings
from cxm.hub import Hub
from tests.analytics import churn_data
from tests.analytics.conftest import analytics_environment
from tests.conftest import make_key
from tests.test_cli import CXM


@pytest.fixture
def churn_env(db: SqlEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The planted customers loaded; a fresh DuckDB store for SQLite (PostgreSQL is read directly)."""
    return analytics_environment(db, tmp_path, monkeypatch, churn_data.load)


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    wide = {**os.environ, **env, "COLUMNS": "250"}
    return subprocess.run([CXM, "report", *args], capture_output=True, text=True, env=wide)


def test_library_api_and_cli_agree(churn_env: dict[str, str], db: SqlEngine) -> None:
    hub = Hub(churn_env["CXM_DATABASE_URL"])
    hub.sync_analytics()
    library = hub.analytics.churn()
    evaluation = hub.analytics.churn_evaluation()
    by_segment = hub.analytics.value_at_risk(by="segment")
    economics = hub.analytics.retention_economics(uplift=0.1, margin=0.3)
    first = int(library["customer_id"].iloc[0])
    one = hub.analytics.churn_of(first)
    hub.close()
    assert list(evaluation["model"]) == ["model", "recency_baseline"]
    assert one["churn_probability"] == pytest.approx(library["churn_probability"].iloc[0])
    assert by_segment["revenue_at_risk"].sum() == pytest.approx(library["revenue_at_risk"].sum())
    with TestClient(create_app(Settings(serve_worker=False), engine=db)) as client:
        headers = {"Authorization": f"Bearer {make_key(db, 'viewer')}"}
        listed = client.get("/api/v1/analytics/churn", params={"limit": 5}, headers=headers).json()
        person = client.get(f"/api/v1/analytics/churn/customers/{first}", headers=headers).json()
        worth = client.get(
            "/api/v1/analytics/retention-economics", params={"uplift": 0.1, "margin": 0.3}, headers=headers
        )
        tested = client.get("/api/v1/analytics/churn/evaluation", headers=headers).json()
    assert listed["customers"] == len(library) and len(listed["rows"]) == 5
    assert listed["rows"][0]["churn_probability"] == pytest.approx(library["churn_probability"].iloc[0])
    assert person["reasons"] == one["reasons"] and person["clv"] == pytest.approx(one["clv"])
    assert [row["with_uplift"] for row in worth.json()["rows"]] == pytest.approx(list(economics["with_uplift"]))
    assert tested["models"][0]["auc"] == pytest.approx(evaluation["auc"].iloc[0])
    printed = _cli(churn_env, "value-at-risk", "--format", "json")
    assert printed.returncode == 0, printed.stderr
    rows = json.loads(printed.stdout)["value_at_risk"]
    assert [row["revenue_at_risk"] for row in rows] == pytest.approx(list(by_segment["revenue_at_risk"]))


def test_reports_print_tables_and_csv(churn_env: dict[str, str]) -> None:
    Hub(churn_env["CXM_DATABASE_URL"]).sync_analytics()
    for args in (("churn", "--limit", "3"), ("churn-evaluation",), ("retention", "--uplift", "0.1")):
        printed = _cli(churn_env, *args)
        assert printed.returncode == 0, printed.stderr
    assert "recency_baseline" in _cli(churn_env, "churn-evaluation").stdout
    csv = _cli(churn_env, "churn", "--format", "csv", "--limit", "2").stdout.splitlines()
    assert csv[0].startswith("customer_id,segment,channel,churn_probability,reason_1") and len(csv) == 3
    refused = _cli(churn_env, "value-at-risk", "--by", "colour")
    assert refused.returncode == 1 and "cannot group value at risk by 'colour'" in refused.stderr


def test_bad_parameters_and_unknown_customers_are_refused(churn_env: dict[str, str], db: SqlEngine) -> None:
    Hub(churn_env["CXM_DATABASE_URL"]).sync_analytics()
    with TestClient(create_app(Settings(serve_worker=False), engine=db)) as client:
        headers = {"Authorization": f"Bearer {make_key(db, 'viewer')}"}
        short = client.get("/api/v1/analytics/churn", params={"horizon_days": 1}, headers=headers)
        grouped = client.get("/api/v1/analytics/value-at-risk", params={"by": "colour"}, headers=headers)
        nobody = client.get("/api/v1/analytics/churn/customers/987654", headers=headers)
        window = client.get(
            "/api/v1/analytics/churn", params={"horizon_days": 200, "lookback_days": 100}, headers=headers
        )
        anonymous = client.get("/api/v1/analytics/churn")
    assert short.status_code == 422 and short.json()["error"]["code"]
    assert grouped.status_code == 422 and grouped.json()["error"]["details"]["allowed"] == [
        "segment",
        "channel",
        "country",
    ]
    assert nobody.status_code == 404 and "987654" in nobody.json()["error"]["message"]
    assert window.status_code == 422 and "lookback_days" in window.json()["error"]["message"]
    assert anonymous.status_code == 401


def test_a_customers_insight_joins_rung_churn_and_value(churn_env: dict[str, str], db: SqlEngine) -> None:
    hub = Hub(churn_env["CXM_DATABASE_URL"])
    hub.sync_analytics()
    scored = hub.analytics.churn()
    first = int(scored["customer_id"].iloc[0])
    placed = hub.analytics.ladder([first])
    insight = hub.analytics.customer(first)
    hub.close()
    assert insight["loyalty"]["rung"] == placed["rung"].iloc[0]
    assert insight["churn"]["churn_probability"] == pytest.approx(scored["churn_probability"].iloc[0])
    assert insight["churn"]["clv"] == pytest.approx(scored["clv"].iloc[0]) and insight["churn_note"] is None
    with TestClient(create_app(Settings(serve_worker=False), engine=db)) as client:
        headers = {"Authorization": f"Bearer {make_key(db, 'viewer')}"}
        shown = client.get(f"/api/v1/analytics/customers/{first}", headers=headers).json()
        stranger = client.get("/api/v1/analytics/customers/999999", headers=headers).json()
    assert shown["loyalty"]["rung"] == insight["loyalty"]["rung"]
    assert shown["churn"]["reasons"] == insight["churn"]["reasons"]
    assert stranger["loyalty"] is None and stranger["churn"] is None and "no order" in stranger["churn_note"]


def test_every_customers_rung_is_the_one_placed_alone(
    churn_env: dict[str, str], db: SqlEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = Hub(churn_env["CXM_DATABASE_URL"])
    hub.sync_analytics()
    some = [int(c) for c in hub.analytics.churn()["customer_id"].iloc[:12]]
    alone = {c: hub.analytics.ladder([c]).drop(columns="customer_id").to_dict("records") for c in some}
    computed: list[object] = []
    real = profiles._placements_now
    monkeypatch.setattr(profiles, "_placed", {})
    monkeypatch.setattr(profiles, "_placements_now", lambda e: computed.append(e) or real(e))
    found = {c: hub.analytics.customer(c)["loyalty"] for c in some}
    hub.close()
    assert len(computed) == 1  # every customer's rung at once, kept for the same data
    for customer, placed in found.items():
        assert placed is not None and placed["rung"] == alone[customer][0]["rung"], customer
        assert placed["orders_window"] == alone[customer][0]["orders_window"]
