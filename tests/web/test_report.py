"""The printable Overview: its charts, the self-contained HTML file with the analytics' figures, the PDF's pages."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cxm.analytics import service as analytics_service
from cxm.core.db import make_sessionmaker
from cxm.core.errors import InvalidInput
from cxm.web import report as web_report
from cxm.web.filters import FilterBar
from tests.test_cli import cxm
from tests.web.conftest import sign_in
from tests.web.pages_data import HOSTILE, store_company


@pytest.fixture
def company(client: TestClient, admin_headers: dict[str, str]) -> TestClient:
    """The page tests' company, stored and synced."""
    store_company(client, admin_headers)
    app = client.app
    analytics_service.sync_store(app.state.settings, app.state.engine)  # type: ignore[attr-defined]
    return client


def test_report_page_shows_the_trend_charts_under_the_filters(company: TestClient, people: dict[str, str]) -> None:
    sign_in(company, people["viewer"])
    page = company.get("/report/overview?since=2026-10-01")
    assert page.status_code == 200
    for metric in ("nps", "csat", "ces"):
        assert f'src="/overview/chart/{metric}.svg?since=2026-10-01"' in page.text


def test_report_file_is_self_contained_with_the_analytics_figures(company: TestClient, db: Engine) -> None:
    filters = FilterBar(since=date(2026, 10, 1), segment="retail")
    engine = analytics_service.engine_for(company.app.state.settings)  # type: ignore[attr-defined]
    with make_sessionmaker(db)() as session:
        html = web_report.overview_html(session, engine, filters)
    frame = analytics_service.metric(engine, "nps", filters.query("nps"))
    value, n = float(frame["value"].iloc[0]), int(frame["n"].iloc[0])
    nps = re.search(r'data-metric="nps">(.*?)</article>', html, re.S)
    assert nps and f"{value:.1f}" in nps.group(1) and f"n = {n}" in nps.group(1)
    assert "<style>" in html and 'rel="stylesheet"' not in html  # CSS inlined
    assert html.count('class="card chart"') == 3 and "<img" not in html and "<?xml" not in html  # charts inline
    assert HOSTILE not in html


def test_pdf_needs_chromium(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="chromium"):
        web_report.pdf_from_html("<p>x</p>", chromium=str(tmp_path / "no-chromium"))


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo company in a SQLite file, made by `cxm demo`."""
    folder = tmp_path_factory.mktemp("report")
    made = cxm(folder, "demo", "--no-serve", "--customers", "80", "--interactions", "1500")
    assert made.returncode == 0, made.stderr
    return folder


def test_cli_html_carries_the_figures_of_cxm_report(demo_db: Path) -> None:
    written = cxm(demo_db, "report", "overview", "--format", "html", "--output", "overview.html")
    assert written.returncode == 0, written.stderr
    html = (demo_db / "overview.html").read_text(encoding="utf-8")
    listed = cxm(demo_db, "report", "nps", "--format", "csv")
    value = float(listed.stdout.splitlines()[1].split(",")[0])
    assert f"{value:.1f}" in html and html.count("<svg") >= 3


def test_cli_pdf_has_pages(demo_db: Path) -> None:
    written = cxm(demo_db, "report", "overview", "--format", "pdf", "--output", "overview.pdf")
    assert written.returncode == 0, written.stderr
    pdf = (demo_db / "overview.pdf").read_bytes()
    pages = re.search(rb"/Type /Pages\b.*?/Count (\d+)", pdf, re.S) or re.search(rb"/Count (\d+)", pdf)
    assert pdf.startswith(b"%PDF") and pages and int(pages.group(1)) > 0


def test_cli_refuses_an_unknown_filter_in_one_line(demo_db: Path) -> None:
    wrong = cxm(demo_db, "report", "overview", "--format", "html", "--output", "x.html", "--where", "colour=red")
    assert wrong.returncode == 1 and wrong.stderr.strip().count("\n") == 0 and "colour" in wrong.stderr
