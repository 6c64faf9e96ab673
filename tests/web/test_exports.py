"""Downloads from the Overview beyond the page test's: both tables as CSV under the filters, the charts' formats."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from cxm.analytics import service as analytics_service
from tests.web.conftest import sign_in
from tests.web.pages_data import store_company


@pytest.fixture
def company(client: TestClient, admin_headers: dict[str, str], people: dict[str, str]) -> TestClient:
    """The page tests' company, stored and synced, with a viewer signed in."""
    store_company(client, admin_headers)
    app = client.app
    analytics_service.sync_store(app.state.settings, app.state.engine)  # type: ignore[attr-defined]
    sign_in(client, people["viewer"])
    return client


def _rows(client: TestClient, url: str) -> list[dict[str, str]]:
    response = client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


def test_metrics_table_as_csv_follows_the_filters(company: TestClient) -> None:
    everything = {row["metric"]: row for row in _rows(company, "/overview?format=csv")}
    assert set(everything) == {"nps", "csat", "ces", "response_rate", "first_response_time", "responses"}
    assert everything["nps"]["n"] == "60" and float(everything["nps"]["ci_low"]) < float(everything["nps"]["value"])
    recent = {row["metric"]: row for row in _rows(company, "/overview?format=csv&table=metrics&since=2026-10-01")}
    assert recent["nps"]["n"] == "30" and float(recent["responses"]["value"]) == 30


def test_volume_table_as_csv_with_its_link(company: TestClient) -> None:
    volume = _rows(company, "/overview?format=csv&table=volume")
    assert {(row["channel"], row["interactions"]) for row in volume} == {("web", "30"), ("store", "30")}
    download = company.get("/overview?format=csv&table=volume")
    assert download.headers["content-disposition"] == 'attachment; filename="overview-volume.csv"'
    assert 'href="/overview?channel=web&amp;format=csv&amp;table=volume"' in company.get("/overview?channel=web").text


def test_every_trend_chart_as_svg_and_png(company: TestClient) -> None:
    for metric in ("nps", "csat", "ces", "response_rate", "first_response_time", "responses"):
        svg = company.get(f"/overview/chart/{metric}.svg?since=2026-09-01")
        assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml" and b"<svg" in svg.content
        png = company.get(f"/overview/chart/{metric}.png")
        assert png.status_code == 200 and png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert company.get("/overview/chart/nps.gif").status_code in (404, 422)


def test_downloads_need_a_signed_in_reader(client: TestClient) -> None:
    for url in ("/overview?format=csv&table=volume", "/overview/chart/nps.svg", "/report/overview"):
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login"), url
