"""Screenshots of the dashboard on the default demo company, for the README (docs/screenshots/*.png).

Builds (or reuses, with --keep) the demo like benchmarks/pages.py, serves it with uvicorn on a free local port, signs
in through the real sign-in form with Debian's chromium driven by Playwright, and saves each page that exists
(the main navigation, a search, the busiest customer's 360, the printable report, the overview on a phone).

    .venv/bin/python -m benchmarks.screenshots [--keep DIR] [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from playwright.sync_api import Page, ViewportSize, sync_playwright

from benchmarks.pages import EMAIL, PASSWORD, build_demo, busiest_customer
from cxm.app import create_app
from cxm.config import Settings
from cxm.web.pdf import ARGS, CHROMIUM
from cxm.web.rendering import NAV

DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
TALLEST = 2200  # px: long pages are cut here


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(url: str) -> Iterator[str]:
    """The app on the demo database, served in a thread; yields its base URL."""
    port = free_port()
    app = create_app(Settings(database_url=url, serve_worker=False))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def sign_in(page: Page, base: str) -> None:
    """Sign in through the form, as a person would."""
    page.goto(f"{base}/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/overview")


def shoot(page: Page, base: str, path: str, target: Path) -> bool:
    """Save one page (cut at TALLEST px); False when the page does not exist yet."""
    response = page.goto(base + path)
    if response is None or response.status != 200:
        return False
    height = min(TALLEST, int(page.evaluate("document.documentElement.scrollHeight")))
    width = int(page.viewport_size["width"]) if page.viewport_size else DESKTOP["width"]
    page.screenshot(path=str(target), clip={"x": 0, "y": 0, "width": width, "height": height}, full_page=True)
    print(f"{target}  ({path})")
    return True


def screenshots(base: str, out: Path, person: int) -> None:
    """Every page that exists, on a desktop viewport; the overview also on a phone."""
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        desktop = browser.new_page(viewport=DESKTOP)
        sign_in(desktop, base)
        for item in NAV:
            shoot(desktop, base, item.path, out / f"{item.path.strip('/')}.png")
        shoot(desktop, base, f"/customers/{person}", out / "customer-360.png")
        shoot(desktop, base, "/report/overview", out / "report-overview.png")
        phone = browser.new_page(viewport=PHONE)
        sign_in(phone, base)
        shoot(phone, base, "/overview", out / "overview-phone.png")
        browser.close()


def main() -> None:
    """Build (or reuse) the demo, serve it, take the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="a folder to build the demo in and reuse on the next run")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    with tempfile.TemporaryDirectory(prefix="cxm-shots-") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        url = build_demo(folder, customers=5000, interactions=100_000)
        with serving(url) as base:
            screenshots(base, args.out, busiest_customer(url))


if __name__ == "__main__":
    main()
