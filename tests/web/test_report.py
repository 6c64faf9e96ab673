"""The printable Overview: the page, the self-contained HTML file and the PDF (`cxm report overview`)."""

from __future__ import annotations

import re
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cxm.analytics import service as analytics_service
from cxm.core.db import make_sessionmaker
from cxm.web.filters import FilterBar
from cxm.web.pdf import PdfUnavailable, html_to_pdf
from cxm.web.printing import report_file
from tests.test_cli import cxm
from tests.web.conftest import sign_in
from tests.web.pages_data import HOSTILE, store_company

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def company(client: TestClient, admin_headers: dict[str, str]) -> TestClient:
    """The page tests' company, stored and synced."""
    store_company(client, admin_headers)
    app = client.app
    analytics_service.sync_store(app.state.settings, app.state.engine)  # type: ignore[attr-defined]
    return client


def test_report_page_has_no_navigation_and_keeps_the_filters(company: TestClient, people: dict[str, str]) -> None:
    sign_in(company, people["viewer"])
    page = company.get("/report/overview?channel=web&since=2026-10-01")
    assert page.status_code == 200
    assert 'class="nav"' not in page.text and "<form" not in page.text
    assert 'src="/charts/overview/nps.svg?since=2026-10-01&amp;channel=web"' in page.text
    assert "n = 15" in page.text and "Channel: <strong>web</strong>" in page.text
    assert 'href="/_static/report.css"' in page.text


def _nps(client: TestClient, filters: FilterBar) -> tuple[float, int]:
    engine = analytics_service.engine_for(client.app.state.settings)  # type: ignore[attr-defined]
    frame = analytics_service.metric(engine, "nps", filters.query("nps"))
    return float(frame["value"].iloc[0]), int(frame["n"].iloc[0])


def test_report_file_is_self_contained_with_the_analytics_figures(company: TestClient, db: Engine) -> None:
    filters = FilterBar(since=date(2026, 10, 1), segment="retail")
    engine = analytics_service.engine_for(company.app.state.settings)  # type: ignore[attr-defined]
    with make_sessionmaker(db)() as session:
        html = report_file(session, engine, filters, language="en", now=NOW)
    value, n = _nps(company, filters)
    nps = re.search(r'data-metric="nps">(.*?)</article>', html, re.S)
    assert nps and f"{value:.1f}" in nps.group(1) and f"n = {n}" in nps.group(1)
    assert "<style>" in html and ".card" in html and "/_static/" not in html  # CSS inlined
    assert html.count("<svg") >= 4 and "<img" not in html and "<?xml" not in html  # charts inline
    assert "Segment: <strong>retail</strong>" in html and HOSTILE not in html


def test_pdf_needs_playwright_and_chromium(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(PdfUnavailable, match="chromium at"):
        html_to_pdf("<p>x</p>", chromium=tmp_path / "no-chromium")
    monkeypatch.setitem(sys.modules, "playwright.sync_api", None)
    with pytest.raises(PdfUnavailable, match="needs Playwright"):
        html_to_pdf("<p>x</p>")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo company in a SQLite file, made by `cxm demo`."""
    folder = tmp_path_factory.mktemp("report")
    made = cxm(folder, "demo", "--no-serve", "--customers", "80", "--interactions", "1500")
    assert made.returncode == 0, made.stderr
    return folder


def test_cli_writes_the_overview_as_html(demo_db: Path) -> None:
    output = demo_db / "overview.html"
    written = cxm(demo_db, "report", "overview", "--format", "html", "--output", str(output))
    assert written.returncode == 0, written.stderr
    html = output.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and "All data" in html
    listed = cxm(demo_db, "report", "nps", "--format", "csv")
    value = float(listed.stdout.splitlines()[1].split(",")[0])
    assert f"{value:.1f}" in html


def test_cli_writes_the_overview_as_pdf(demo_db: Path) -> None:
    output = demo_db / "overview.pdf"
    written = cxm(demo_db, "report", "overview", "--format", "pdf", "--output", str(output))
    assert written.returncode == 0, written.stderr
    pdf = output.read_bytes()
    pages = re.search(rb"/Type /Pages\b.*?/Count (\d+)", pdf, re.S) or re.search(rb"/Count (\d+)", pdf)
    assert pdf.startswith(b"%PDF") and pages and int(pages.group(1)) > 0


def test_cli_refuses_bad_report_requests_in_one_line(demo_db: Path) -> None:
    missing = cxm(demo_db, "report", "overview", "--format", "pdf", "--output", "x.pdf", "--chromium", "/nowhere")
    assert missing.returncode == 1 and missing.stderr.strip().count("\n") == 0 and "chromium" in missing.stderr
    assert cxm(demo_db, "report", "nps", "--format", "html").returncode == 1
    assert (
        cxm(demo_db, "report", "overview", "--format", "html", "--output", "x", "--where", "colour=red").returncode == 1
    )
