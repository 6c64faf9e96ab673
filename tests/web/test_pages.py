"""Overview and Customers pages on a small company: figures from the analytics engine, search, the 360 view."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from cxm.analytics import service as analytics_service
from tests.web.conftest import form_token, sign_in
from tests.web.pages_data import HOSTILE, store_company


@pytest.fixture
def company(client: TestClient, admin_headers: dict[str, str], people: dict[str, str]) -> TestClient:
    """The company stored and synced to the analytics store."""
    store_company(client, admin_headers)
    app = client.app
    analytics_service.sync_store(app.state.settings, app.state.engine)  # type: ignore[attr-defined]
    return client


def test_overview_shows_metrics_with_intervals_and_trend(company: TestClient, people: dict[str, str]) -> None:
    sign_in(company, people["viewer"])
    page = company.get("/overview")
    assert page.status_code == 200
    nps = re.search(r'data-metric="nps">(.*?)</article>', page.text, re.S)
    assert nps and "CI" in nps.group(1) and "n = 60" in nps.group(1)
    assert 'class="spark"' in nps.group(1) and "Last month" in nps.group(1)
    volume = re.search(r'data-metric="responses">(.*?)</article>', page.text, re.S)
    assert volume and '<p class="value">60</p>' in volume.group(1)  # 30 customers answered in two months
    assert "in responses per day" in volume.group(1)  # October against September, per day (30 vs 31 days)
    assert "Interactions by channel" in page.text and "<rect" in page.text
    filtered = company.get("/overview?channel=web&since=2026-10-01")
    assert "n = 15" in filtered.text and 'value="2026-10-01"' in filtered.text
    assert '<option value="web" selected>' in filtered.text
    assert "Last month (partial)" not in page.text  # September and October 2026 are over
    cut = company.get("/overview?until=2026-10-20")  # October counted until the 20th
    card = re.search(r'data-metric="nps">(.*?)</article>', cut.text, re.S)
    assert card and "Last month (partial)" in card.group(1)


def test_customer_search_paginates_and_escapes(company: TestClient, people: dict[str, str]) -> None:
    sign_in(company, people["agent"])
    first = company.get("/customers")
    assert "30 customers" in first.text and 'rel="next"' in first.text
    assert HOSTILE not in first.text and "&lt;script&gt;" in first.text
    found = company.get("/customers?q=c7@example")
    assert "Customer 7" in found.text and "Customer 8" not in found.text
    csv = company.get("/customers?q=Customer 1&format=csv")
    assert csv.headers["content-type"].startswith("text/csv") and csv.text.startswith("id,name")


def _customer_id(client: TestClient, email: str) -> int:
    found = re.search(r'href="/customers/(\d+)"', client.get(f"/customers?q={email}").text)
    assert found
    return int(found.group(1))


def test_customer_360_timeline_merge_and_undo(company: TestClient, people: dict[str, str]) -> None:
    csrf = sign_in(company, people["agent"])
    first, second = _customer_id(company, "c0@example.com"), _customer_id(company, "c1@example.com")
    page = company.get(f"/customers/{first}")
    assert page.status_code == 200 and "c0@example.com" in page.text
    assert HOSTILE not in page.text and page.text.count("&lt;script&gt;") >= 2  # name and comment
    assert 'data-kind="response"' in page.text and 'data-kind="interaction"' in page.text
    assert "Export (JSON)" not in page.text  # agents may merge, not export or erase
    merged = company.post(f"/customers/{first}/merge", data={"csrf": csrf, "other_id": str(second), "reason": "same"})
    assert merged.status_code == 200 and "c1@example.com" in merged.text
    undo = re.search(rf'action="(/customers/{first}/merges/\d+/undo)"', merged.text)
    assert undo
    undone = company.post(undo.group(1), data={"csrf": csrf})
    assert "c1@example.com" not in undone.text and "undone" in undone.text


def test_admin_exports_and_erases_with_confirmation(company: TestClient, people: dict[str, str]) -> None:
    csrf = sign_in(company, people["admin"])
    target = _customer_id(company, "c3@example.com")
    exported = company.get(f"/customers/{target}/export")
    assert exported.headers["content-disposition"].endswith(f'customer-{target}.json"')
    assert exported.json()["customer_id"] == target
    form = company.get(f"/customers/{target}/erase")
    assert 'name="confirm"' in form.text
    wrong = company.post(f"/customers/{target}/erase", data={"csrf": form_token(form.text), "confirm": "12345"})
    assert wrong.status_code == 422
    erased = company.post(f"/customers/{target}/erase", data={"csrf": csrf, "confirm": str(target)})
    assert erased.status_code == 200 and "Erased" in erased.text
    assert "c3@example.com" not in company.get(f"/customers/{target}").text


def test_overview_exports(company: TestClient, people: dict[str, str]) -> None:
    sign_in(company, people["viewer"])
    csv = company.get("/overview?format=csv&channel=web")
    assert csv.text.startswith("metric,value,ci_low") and "\nnps," in csv.text
    svg = company.get("/overview/chart/nps.svg")
    assert svg.headers["content-type"] == "image/svg+xml" and b"<svg" in svg.content
    assert b"partial period" not in svg.content
    assert b"partial period" in company.get("/overview/chart/nps.svg?until=2026-10-20").content  # drawn hollow
    png = company.get("/overview/chart/csat.png?channel=store")
    assert png.content.startswith(b"\x89PNG")
    report = company.get("/report/overview?channel=web")
    assert report.status_code == 200 and "Overview report" in report.text and "channel = web" in report.text
    assert 'href="/_static/print.css" media="print"' in report.text and "<style>" not in report.text


def test_metrics_with_trend_match_separate_queries(company: TestClient) -> None:
    import pandas as pd

    from cxm.web.filters import FilterBar

    engine = analytics_service.engine_for(company.app.state.settings)  # type: ignore[attr-defined]
    for filters in (FilterBar(), FilterBar(channel="web"), FilterBar(survey="none-such")):
        metrics = ("nps", "csat", "ces", "response_rate", "first_response_time", "responses")
        asked = [(m, filters.query(m)) for m in metrics]
        pairs = analytics_service.metrics_with_trend(engine, asked, "month")
        for (name, query), (whole, trend) in zip(asked, pairs, strict=True):
            by_month = filters.query(name, period="month")
            separate = analytics_service.metrics(engine, [(name, query), (name, by_month)])
            pd.testing.assert_frame_equal(
                whole.reset_index(drop=True), separate[0].reset_index(drop=True), check_dtype=False
            )
            pd.testing.assert_frame_equal(
                trend.reset_index(drop=True), separate[1].reset_index(drop=True), check_dtype=False
            )


def test_the_filter_bar_reads_its_dates_as_days_of_the_installation_time_zone() -> None:
    from datetime import date

    from cxm.web.filters import FilterBar

    bar = FilterBar(since=date(2026, 3, 1), until=date(2026, 3, 31), channel="web", zone="Asia/Tokyo")
    query = bar.query("nps", period="day")
    # Tokyo's 1 March begins at 15:00 UTC the day before; the last day counted whole ends at its midnight after.
    assert query.since == datetime(2026, 2, 28, 15, tzinfo=UTC) and query.until == datetime(2026, 3, 31, 15, tzinfo=UTC)
    assert query.zone == "Asia/Tokyo" and "zone" not in bar.params()
    assert bar.unapplied(["channel"]) == ["since", "until"]
