"""Downloads from the Overview: its tables as CSV and its charts as SVG/PNG, under the filter bar, for readers only."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from cxm.analytics import service as analytics_service
from tests.web.conftest import sign_in
from tests.web.pages_data import store_company

PNG = b"\x89PNG\r\n\x1a\n"


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


def test_overview_metrics_table_as_csv_follows_the_filters(company: TestClient) -> None:
    everything = {row["metric"]: row for row in _rows(company, "/overview?format=csv&table=metrics")}
    assert set(everything) == {"nps", "csat", "ces", "response_rate", "first_response_time"}
    assert everything["nps"]["n"] == "60" and float(everything["nps"]["ci_low"]) < float(everything["nps"]["value"])
    recent = {row["metric"]: row for row in _rows(company, "/overview?format=csv&table=metrics&since=2026-10-01")}
    assert recent["nps"]["n"] == "30"
    web = {
        row["metric"]: row for row in _rows(company, "/overview?format=csv&table=metrics&channel=web&since=2026-10-01")
    }
    assert web["first_response_time"]["n"] == "15"
    download = company.get("/overview?format=csv")
    assert download.headers["content-disposition"] == 'attachment; filename="overview-metrics.csv"'


def test_overview_volume_table_as_csv_and_unknown_tables(company: TestClient) -> None:
    volume = _rows(company, "/overview?format=csv&table=volume")
    assert {(row["channel"], row["interactions"]) for row in volume} == {("web", "30"), ("store", "30")}
    assert company.get("/overview?format=csv&table=nothing").status_code == 404


def test_overview_links_to_its_downloads_keeping_the_filters(company: TestClient) -> None:
    page = company.get("/overview?channel=web").text
    assert 'href="/overview?channel=web&amp;format=csv&amp;table=metrics"' in page
    assert 'href="/overview?channel=web&amp;format=csv&amp;table=volume"' in page
    assert (
        'href="/charts/overview/nps.svg?channel=web"' in page
        and 'href="/charts/overview/volume.png?channel=web"' in page
    )


def test_overview_charts_as_svg_and_png(company: TestClient) -> None:
    svg = company.get("/charts/overview/nps.svg")
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert "<svg" in svg.text and "NPS" in svg.text and "<script" not in svg.text
    assert "default-src 'none'" in svg.headers["content-security-policy"]
    assert company.get("/charts/overview/nps.svg?channel=web").content != svg.content  # the filters apply
    for chart in ("csat", "ces", "response_rate", "first_response_time", "volume"):
        png = company.get(f"/charts/overview/{chart}.png")
        assert png.status_code == 200 and png.headers["content-type"] == "image/png" and png.content.startswith(PNG)
    assert company.get("/charts/overview/nps.gif").status_code == 404
    assert company.get("/charts/overview/drivers.svg").status_code == 404


def test_downloads_need_a_signed_in_reader(client: TestClient) -> None:
    for url in ("/overview?format=csv", "/charts/overview/nps.svg", "/report/overview"):
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login"), url
