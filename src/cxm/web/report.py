"""The printable Overview: the same figures as the page, as a standalone HTML file or a PDF (Debian's chromium)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from cxm.analytics import service as analytics_service
from cxm.core.errors import InvalidInput
from cxm.web.charts import inline_svg, trend_chart
from cxm.web.figures import TITLES, metric_frame, value_columns
from cxm.web.filters import FilterBar
from cxm.web.pages.overview import overview_context
from cxm.web.rendering import page_html

STATIC = Path(__file__).parent / "static"
# The trends the report draws in full (the cards' sparklines show the rest).
REPORT_CHARTS = ("nps", "csat", "ces")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def overview_html(session: Session, engine: analytics_service.Engine, filters: FilterBar, language: str = "en") -> str:
    """The report as one self-contained HTML file (its stylesheet inside: a file is not served with our CSP)."""
    context = overview_context(session, engine, filters)
    css = (STATIC / "dashboard.css").read_text() + (STATIC / "print.css").read_text()
    charts = {metric: inline_svg(_trend(engine, metric, filters)) for metric in REPORT_CHARTS}
    return page_html(
        None, "report.html", "/report/overview", standalone=True, css=css, language=language, charts=charts, **context
    )


def _trend(engine: analytics_service.Engine, metric: str, filters: FilterBar) -> bytes:
    """A metric's monthly trend chart as SVG, as the chart download draws it."""
    frame = metric_frame(engine, metric, filters.query(metric, period="month"))
    return trend_chart(frame, TITLES[metric], value_columns(metric), image="svg")


def pdf_from_html(html: str, chromium: str = CHROMIUM) -> bytes:
    """Print HTML to an A4 PDF with chromium driven by Playwright (installed with `cxm[pdf]`)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise InvalidInput("PDF reports need Playwright: pip install 'cxm[pdf]' (and chromium)") from None
    if not Path(chromium).exists():
        raise InvalidInput(f"PDF reports need chromium at {chromium}")
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_content(html, wait_until="load")
            return page.pdf(format="A4", print_background=True, margin={"top": "12mm", "bottom": "12mm"})
        finally:
            browser.close()
