"""HTML to PDF with Debian's chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

from pathlib import Path

from cxm.core.errors import CxmError

CHROMIUM = Path("/usr/bin/chromium")
# Headless and quiet: no GPU, no sandbox (containers), nothing fetched from the network.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


class PdfUnavailable(CxmError):
    """PDF cannot be made here: Playwright or chromium is missing, or chromium failed."""

    status_code = 503
    code = "pdf_unavailable"


def html_to_pdf(html: str, *, chromium: Path = CHROMIUM) -> bytes:
    """A self-contained HTML document printed to an A4 PDF (backgrounds kept, the page size from its CSS)."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError as missing:
        raise PdfUnavailable("PDF needs Playwright: pip install 'cxm[pdf]' (or use --format html)") from missing
    if not chromium.is_file():
        raise PdfUnavailable(f"PDF needs chromium at {chromium}: apt-get install chromium (or pass --chromium PATH)")
    try:
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=str(chromium), args=ARGS)
            try:
                page = browser.new_page()
                page.set_content(html, wait_until="load")
                return page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
            finally:
                browser.close()
    except Error as failed:
        raise PdfUnavailable(f"chromium could not print the PDF: {str(failed).splitlines()[0]}") from failed
