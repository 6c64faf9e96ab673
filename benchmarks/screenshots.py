"""README screenshots: the main dashboard pages on the default demo company, written to docs/screenshots/.

Uses the same demo database as benchmarks/pages.py (generated when empty), serves it with uvicorn on a free local
port and photographs each page with Debian's chromium (Playwright), signed in as the demo admin. The Feedback page is
shown filtered by sentiment (negative comments), and its comments filtered by the first theme (by name), each tagged
with its sentiment and themes: on a database the library generated, run the text jobs first (`cxm worker --once`),
or its comments have no sentiment nor themes yet and the filtered lists are empty (`cxm demo` analyses the comments
and fits themes itself).

    .venv/bin/python -m benchmarks.screenshots [--database cxm.db]
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

from benchmarks.pages import PASSWORD, prepared
from cxm.app import create_app
from cxm.web.report import CHROMIUM, CHROMIUM_ARGS

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
SHOTS = {
    "overview": "/overview",
    "channels": "/channels",
    "feedback": "/feedback?survey=relationship-nps&sentiment=negative",
    "customers": "/customers",
    "surveys": "/surveys/relationship-nps",
    "settings": "/settings",
}


def serve(database: Path) -> tuple[str, uvicorn.Server]:
    """The app on the demo database, in a thread; its base URL."""
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(prepared(database)), log_level="warning", lifespan="on"))
    threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{listening.getsockname()[1]}", server


def main() -> None:
    """Photograph each page (desktop), plus the customer 360 on a phone."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, default=None)
    args = parser.parse_args()
    base, server = serve(args.database or Path(tempfile.mkdtemp(prefix="cxm-shots-")) / "cxm.db")
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(base + "/login")
        page.get_by_label("E-mail").fill("bench@example.com")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/overview", timeout=120_000)
        for name, path in SHOTS.items():
            page.goto(base + path, wait_until="networkidle")  # panels loaded after the page (latest changes) too
            page.screenshot(path=str(OUT / f"{name}.png"), full_page=name not in ("feedback", "customers"))
        page.goto(base + SHOTS["feedback"] + "&q=but")  # the negative comments with a "but"
        page.locator("#comments").screenshot(path=str(OUT / "feedback-comments.png"))
        theme = page.locator("select[name=theme] option").nth(1).get_attribute("value")  # the first theme by name
        page.goto(base + f"/feedback?survey=relationship-nps&theme={theme}", wait_until="networkidle")
        page.locator("#comments").screenshot(path=str(OUT / "feedback-theme.png"))
        page.goto(base + "/customers?q=novak")
        page.locator("table.data a").first.click()
        page.locator("section[data-load] dt").first.wait_for(timeout=120_000)  # the churn panel filled in
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=str(OUT / "customer-360-phone.png"))
        browser.close()
    server.should_exit = True
    print(f"screenshots written to {OUT}")


if __name__ == "__main__":
    main()
