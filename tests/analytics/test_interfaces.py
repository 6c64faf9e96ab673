"""The library, the REST API and `cxm report` give the same numbers for the same question."""

from __future__ import annotations

import io
import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine as SqlEngine
from sqlalchemy import text

from cxm.app import create_app
from cxm.config import Settings
from cxm.core.errors import InvalidInput
from cxm.hub import Hub
from tests.analytics import dataset
from tests.analytics.conftest import analytics_environment
from tests.conftest import make_key
from tests.test_cli import CXM


@pytest.fixture
def analytics_env(db: SqlEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The dataset loaded; a fresh DuckDB store for SQLite (PostgreSQL is read directly)."""
    return analytics_environment(db, tmp_path, monkeypatch, dataset.load)


def test_three_interfaces_agree(analytics_env: dict[str, str], db: SqlEngine) -> None:
    hub = Hub(analytics_env["CXM_DATABASE_URL"])
    hub.sync_analytics()
    library = hub.metrics.nps(by=["channel"], period="month", language=["cs", "en"])
    hub.close()
    with TestClient(create_app(Settings(serve_worker=False), engine=db)) as client:
        headers = {"Authorization": f"Bearer {make_key(db, 'viewer')}"}
        params = {"by": "channel", "period": "month", "language": ["cs", "en"]}
        answer = client.get("/api/v1/metrics/nps", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    api = pd.DataFrame(answer.json()["rows"])
    command = [CXM, "report", "nps", "--by", "channel", "--period", "month", "--where", "language=cs"]
    command += ["--where", "language=en", "--format", "json"]
    printed = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **analytics_env}, check=True)
    cli = pd.DataFrame(json.loads(printed.stdout))
    assert len(library) > 4
    for other in (api, cli):
        assert other["channel"].tolist() == library["channel"].tolist()
        assert pd.to_datetime(other["period"]).dt.tz_localize(None).tolist() == library["period"].tolist()
        for column in ("value", "n", "ci_low", "ci_high", "change", "p_value"):
            pd.testing.assert_series_equal(other[column], library[column], check_dtype=False, check_names=False)


def test_three_interfaces_agree_on_a_customer_attribute(analytics_env: dict[str, str], db: SqlEngine) -> None:
    hub = Hub(analytics_env["CXM_DATABASE_URL"])
    hub.sync_analytics()
    library = hub.metrics.csat(by="attr.tier", attributes={"vip": "false"})
    hub.close()
    with TestClient(create_app(Settings(serve_worker=False), engine=db)) as client:
        headers = {"Authorization": f"Bearer {make_key(db, 'viewer')}"}
        params = {"by": "attr.tier", "attr.vip": "false"}
        answer = client.get("/api/v1/metrics/csat", params=params, headers=headers)
        bad = client.get("/api/v1/metrics/csat", params={"by": "attr.a b"}, headers=headers)
    assert answer.status_code == 200, answer.text
    assert bad.status_code == 422 and "attribute name" in bad.json()["error"]["message"]
    command = [CXM, "report", "csat", "--by", "attr.tier", "--where", "attr.vip=false", "--format", "json"]
    printed = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **analytics_env}, check=True)
    everyone = Hub(analytics_env["CXM_DATABASE_URL"])
    unfiltered = everyone.metrics.csat(by="attr.tier")
    everyone.close()
    assert set(library["attr.tier"]) == {"gold", "silver", "bronze", "(none)"}
    assert library["n"].sum() < unfiltered["n"].sum()
    for other in (pd.DataFrame(answer.json()["rows"]), pd.DataFrame(json.loads(printed.stdout))):
        assert other["attr.tier"].tolist() == library["attr.tier"].tolist()
        for column in ("value", "n", "ci_low", "ci_high", "p_value"):
            pd.testing.assert_series_equal(other[column], library[column], check_dtype=False, check_names=False)


def test_report_as_table_and_csv(analytics_env: dict[str, str]) -> None:
    env = {**os.environ, **analytics_env}
    subprocess.run([CXM, "analytics", "sync"], capture_output=True, text=True, env=env, check=True)
    table = subprocess.run([CXM, "report", "csat", "--by", "segment"], capture_output=True, text=True, env=env)
    assert table.returncode == 0 and "csat" in table.stdout and "retail" in table.stdout
    csv = subprocess.run([CXM, "report", "ces", "--format", "csv"], capture_output=True, text=True, env=env)
    assert list(pd.read_csv(io.StringIO(csv.stdout)).columns)[:4] == ["value", "n", "ci_low", "ci_high"]
    bad = subprocess.run([CXM, "report", "nps", "--by", "shoe_size"], capture_output=True, text=True, env=env)
    assert bad.returncode == 1 and bad.stderr.startswith("error: cannot break down")


def test_report_tables_show_customers_text_as_it_is(analytics_env: dict[str, str]) -> None:
    env = {**os.environ, **analytics_env, "COLUMNS": "160"}
    subprocess.run([CXM, "analytics", "sync"], capture_output=True, text=True, env=env, check=True)
    for metric in ("nps", "first_response_time"):
        shown = subprocess.run([CXM, "report", metric, "--by", "attr.motto"], capture_output=True, text=True, env=env)
        assert shown.returncode == 0, shown.stderr
        assert "[/x] [b]loud[/b] :smile: <i>" in shown.stdout, shown.stdout  # not read as rich markup or emoji


def test_api_errors_have_the_error_shape(analytics_env: dict[str, str], db: SqlEngine) -> None:
    with TestClient(create_app(Settings(serve_worker=False), engine=db)) as client:
        headers = {"Authorization": f"Bearer {make_key(db, 'viewer')}"}
        unknown = client.get("/api/v1/metrics/happiness", headers=headers)
        assert unknown.status_code == 422 and unknown.json()["error"]["details"]["metrics"]
        period = client.get("/api/v1/metrics/nps", params={"period": "fortnight"}, headers=headers)
        assert period.status_code == 422 and "unknown period" in period.json()["error"]["message"]
        assert client.post("/api/v1/analytics/sync", headers=headers).status_code == 403


def test_every_interface_reads_times_filters_and_targets_alike(analytics_env: dict[str, str], db: SqlEngine) -> None:
    env = {**os.environ, **analytics_env}
    hub = Hub(analytics_env["CXM_DATABASE_URL"])
    hub.sync_analytics()
    utc = int(hub.metrics.nps(since=datetime(2026, 2, 10, 13, tzinfo=UTC))["n"].iloc[0])
    east = "2026-02-10T15:00:00+02:00"  # the same moment
    assert int(hub.metrics.nps(since=east)["n"].iloc[0]) == utc
    with pytest.raises(InvalidInput, match="not a date"):
        hub.metrics.nps(since="soon")
    with pytest.raises(InvalidInput, match="before 'until'"):
        hub.metrics.nps(since="2026-03-01", until="2026-02-01")
    with pytest.raises(InvalidInput, match="positive number of seconds"):
        hub.metrics.first_response_time(target_seconds=float("nan"))
    hub.close()
    command = [CXM, "report", "nps", "--since", east, "--format", "json"]
    printed = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    assert json.loads(printed.stdout)[0]["n"] == utc
    for bad, reason in ((["--where", "channel"], "dimension=value"), (["--target", "nan"], "positive number")):
        refused = subprocess.run([CXM, "report", "first_response_time", *bad], capture_output=True, text=True, env=env)
        assert refused.returncode == 1 and reason in refused.stderr, refused.stderr
    with TestClient(create_app(Settings(serve_worker=False), engine=db)) as client:
        headers = {"Authorization": f"Bearer {make_key(db, 'viewer')}"}

        def ask(metric: str, **params: object) -> Any:
            return client.get(f"/api/v1/metrics/{metric}", params=params, headers=headers)

        assert ask("nps", since=east).json()["rows"][0]["n"] == utc
        assert ask("nps", since="2026-02-10").status_code == 200  # a date without a zone: UTC, as in the CLI
        assert ask("nps", since="2026-03-01", until="2026-02-01").status_code == 422
        misspelt = ask("nps", chanel="web")
        assert misspelt.status_code == 422 and "chanel" in misspelt.json()["error"]["message"]
        assert "channel" in misspelt.json()["error"]["details"]["allowed"]
        assert ask("nps", type="question").status_code == 422  # a filter NPS cannot take is refused, not ignored
        assert ask("nps", by=["channel", "segment"]).json()["by"] == ["channel", "segment"]
        everything = ask("first_response_time").json()["rows"][0]["n"]
        assert ask("first_response_time", type="question").json()["rows"][0]["n"] == everything
        assert not [row for row in ask("first_response_time", type="complaint").json()["rows"] if row["n"]]


def test_every_interface_marks_periods_counted_in_part(analytics_env: dict[str, str], db: SqlEngine) -> None:
    env = {**os.environ, **analytics_env, "COLUMNS": "160"}
    times = {"since": "2026-01-15", "until": "2026-03-18"}  # a Thursday and a Wednesday
    hub = Hub(analytics_env["CXM_DATABASE_URL"])
    hub.sync_analytics()
    library = hub.metrics.nps(period="week", **times)
    hub.close()
    marked = library.loc[library["partial"], "period"].tolist()
    assert marked == [pd.Timestamp("2026-01-12"), pd.Timestamp("2026-03-16")]
    with TestClient(create_app(Settings(serve_worker=False), engine=db)) as client:
        headers = {"Authorization": f"Bearer {make_key(db, 'viewer')}"}
        answer = client.get("/api/v1/metrics/nps", params={"period": "week", **times}, headers=headers)
    assert answer.status_code == 200, answer.text
    assert [row["partial"] for row in answer.json()["rows"]] == library["partial"].tolist()
    asked = [CXM, "report", "nps", "--period", "week", "--since", times["since"], "--until", times["until"]]
    table = subprocess.run(asked, capture_output=True, text=True, env=env, check=True).stdout
    assert "2026-01-12 (partial)" in table and "2026-03-16 (partial)" in table and "only part of the period" in table
    assert "2026-02-02 (partial)" not in table and "2026-02-02" in table
    whole = subprocess.run([*asked[:5], "--format", "json"], capture_output=True, text=True, env=env, check=True)
    assert not any(row["partial"] for row in json.loads(whole.stdout))  # the dataset's weeks are long over


def test_every_interface_counts_responses_alike(analytics_env: dict[str, str], db: SqlEngine) -> None:
    env = {**os.environ, **analytics_env, "COLUMNS": "200"}
    hub = Hub(analytics_env["CXM_DATABASE_URL"])
    hub.sync_analytics()
    library = hub.metrics.responses(by="channel", period="month")
    hub.close()
    with TestClient(create_app(Settings(serve_worker=False), engine=db)) as client:
        headers = {"Authorization": f"Bearer {make_key(db, 'viewer')}"}
        answer = client.get("/api/v1/metrics/responses", params={"by": "channel", "period": "month"}, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["unit"].startswith("completed responses")
    asked = [CXM, "report", "responses", "--by", "channel", "--period", "month"]
    cli = subprocess.run([*asked, "--format", "json"], capture_output=True, text=True, env=env, check=True)
    with db.connect() as connection:  # every completed response, whatever it answered
        completed = connection.execute(text("SELECT count(*) FROM responses WHERE status = 'complete'")).scalar()
    assert library["n"].sum() == completed > 810 and library["compared_with"].eq("previous period").any()
    for other in (pd.DataFrame(answer.json()["rows"]), pd.DataFrame(json.loads(cli.stdout))):
        for column in ("channel", "value", "n", "ci_low", "ci_high", "change", "p_value"):
            pd.testing.assert_series_equal(other[column], library[column], check_dtype=False, check_names=False)
    table = subprocess.run(asked, capture_output=True, text=True, env=env, check=True).stdout
    assert "responses per day counted" in table and f"{int(library['n'].iloc[0])}" in table
    alone = subprocess.run(asked[:5], capture_output=True, text=True, env=env, check=True).stdout
    assert "not compared by volume" in alone and "previous period" not in alone


def test_every_interface_reads_a_compact_date_alike_and_refuses_times_out_of_range(
    analytics_env: dict[str, str], db: SqlEngine
) -> None:
    env = {**os.environ, **analytics_env}
    hub = Hub(analytics_env["CXM_DATABASE_URL"])
    hub.sync_analytics()
    library = int(hub.metrics.responses(since="20260215")["n"].iloc[0])  # ISO 8601's basic form: 15 February 2026
    assert library == int(hub.metrics.responses(since="2026-02-15")["n"].iloc[0]) < 810
    hub.close()
    cli = subprocess.run(
        [CXM, "report", "responses", "--since", "20260215", "--format", "json"], capture_output=True, text=True, env=env
    )
    assert json.loads(cli.stdout)[0]["n"] == library  # not read as 20,260,215 seconds after 1970
    far = subprocess.run(
        [CXM, "report", "nps", "--since", "0001-01-01T00:00:00+01:00"], capture_output=True, text=True, env=env
    )
    assert far.returncode == 1 and far.stderr.startswith("error: 'since' is out of range"), far.stderr
    with TestClient(create_app(Settings(serve_worker=False), engine=db)) as client:
        headers = {"Authorization": f"Bearer {make_key(db, 'viewer')}"}
        api = client.get("/api/v1/metrics/responses", params={"since": "20260215"}, headers=headers)
        out = client.get("/api/v1/metrics/nps", params={"until": "9999-12-31T23:59:59-01:00"}, headers=headers)
    assert api.status_code == 200 and api.json()["rows"][0]["n"] == library
    assert out.status_code == 422 and "out of range" in out.json()["error"]["details"][0]["message"]


def test_every_interface_cuts_periods_in_the_installation_time_zone_or_the_one_asked(
    analytics_env: dict[str, str], db: SqlEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CXM_TIMEZONE", "America/New_York")
    env = {**os.environ, **analytics_env}
    asked = {"period": "day", "since": "2026-03-01", "until": "2026-03-10"}
    hub = Hub(analytics_env["CXM_DATABASE_URL"])
    hub.sync_analytics()
    local, utc = hub.metrics.nps(**asked), hub.metrics.nps(**asked, zone="UTC")
    hub.close()
    # New York's days begin 4-5 hours after UTC's: other answers fall in each day, from its midnight there.
    assert local["period"].min() == pd.Timestamp("2026-03-01") and not local["partial"].any()
    assert local["n"].tolist() != utc["n"].tolist()
    with TestClient(create_app(Settings(serve_worker=False), engine=db)) as client:
        headers = {"Authorization": f"Bearer {make_key(db, 'viewer')}"}
        api = client.get("/api/v1/metrics/nps", params=asked, headers=headers)
        api_utc = client.get("/api/v1/metrics/nps", params={**asked, "tz": "UTC"}, headers=headers)
        unknown = client.get("/api/v1/metrics/nps", params={**asked, "tz": "Mars/Olympus"}, headers=headers)
    assert api.json()["time_zone"] == "America/New_York" and api_utc.json()["time_zone"] == "UTC"
    assert unknown.status_code == 422 and "unknown time zone 'Mars/Olympus'" in unknown.json()["error"]["message"]
    command = [CXM, "report", "nps", "--period", "day", "--since", "2026-03-01", "--until", "2026-03-10"]
    cli = subprocess.run([*command, "--format", "json"], capture_output=True, text=True, env=env, check=True)
    cli_utc = subprocess.run([*command, "--tz", "UTC", "--format", "json"], capture_output=True, text=True, env=env)
    for frame, rows in ((local, api.json()["rows"]), (utc, api_utc.json()["rows"]), (local, json.loads(cli.stdout))):
        assert [row["n"] for row in rows] == frame["n"].tolist()
    assert [row["n"] for row in json.loads(cli_utc.stdout)] == utc["n"].tolist()
    table = subprocess.run(command, capture_output=True, text=True, env={**env, "COLUMNS": "200"}, check=True).stdout
    assert "periods in America/New_York" in table
    bad = subprocess.run([*command, "--tz", "Mars/Olympus"], capture_output=True, text=True, env=env)
    assert bad.returncode == 1 and bad.stderr.startswith("error: unknown time zone 'Mars/Olympus'"), bad.stderr


def test_report_tables_write_counts_with_separators_and_keys_as_they_are() -> None:
    from cxm.cli.reports import _figure, _keys

    assert _figure(2703) == "2,703" and _figure(np.int64(12345)) == "12,345" and _figure(1005.8702) == "1,005.87"
    assert _keys(
        {"attr.born": 1990, "period": pd.Timestamp("2026-01-01"), "partial": True}, ["attr.born", "period"]
    ) == [
        "1990",
        "2026-01-01 (partial)",
    ]
