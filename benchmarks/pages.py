"""Dashboard speed: every page rendered server-side on the default demo company, in ms per page.

Generates the default demo (`cxm demo`: 5,000 customers, 100,000 interactions, surveys with responses) in a
fresh SQLite file unless --database names one and syncs the DuckDB store (in a child process, so this one starts
with nothing remembered, like a newly started server), signs in as the demo admin (without following the redirect
to the Overview) and renders each page --repeat + 1 times through the ASGI app in this process (no network).
Prints the first render (figures computed on the analytics engine; the very first page also pays for the process's
first look at the store) and the median and slowest of the later ones (figures remembered until the store
changes); the target is under 300 ms. A panel whose first answer says it is being computed (the 360 page's churn
risk, while the model is fitted in the background) is asked again until it is filled in, and that time is printed
too. Asserts nothing.

    .venv/bin/python benchmarks/pages.py [--database cxm.db] [--repeat 5]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from cxm import demo
from cxm.access import service as access_service
from cxm.analytics import service as analytics_service
from cxm.app import create_app
from cxm.config import Settings
from cxm.core.db import make_engine, make_sessionmaker
from cxm.core.migrate import upgrade

PASSWORD = "benchmark password"
PAGES = [
    "/overview",
    "/overview/alerts?fragment=1",
    "/overview?channel=web&since=2025-06-01",
    "/channels",
    "/journey",
    "/feedback",
    "/feedback?survey=relationship-nps&q=price",
    "/customers",
    "/customers?q=novak",
    "/customers/{customer}",
    "/customers/{customer}/insight?fragment=1",
    "/surveys",
    "/surveys/relationship-nps",
    "/settings",
    "/report/overview",
]


def prepared(database: Path) -> Settings:
    """The demo company in `database` (generated when empty), synced, with a benchmark admin."""
    settings = Settings(database_url=f"sqlite:///{database}", serve_worker=False)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    with make_sessionmaker(engine)() as session, session.begin():
        if not demo.has_data(session):
            started = time.perf_counter()
            demo.generate(session)
            print(f"demo generated in {time.perf_counter() - started:.0f} s")
        try:
            access_service.find_user(session, "bench@example.com")
        except Exception:
            access_service.create_user(session, email="bench@example.com", password=PASSWORD, role="admin")
    analytics_service.sync_if_changed(settings, engine)
    engine.dispose()
    return settings


def prepared_elsewhere(database: Path) -> Settings:
    """`prepared`, run in a child process (not a pool's daemon: the sync starts processes of its own), so that
    nothing about the store is remembered in this one."""
    child = multiprocessing.get_context("spawn").Process(target=prepared, args=(database,))
    child.start()
    child.join()
    assert child.exitcode == 0, "preparing the demo failed"
    return Settings(database_url=f"sqlite:///{database}", serve_worker=False)


def signed_in(client: TestClient) -> None:
    """Sign the client in as the benchmark admin."""
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    form = {"email": "bench@example.com", "password": PASSWORD, "csrf": token.group(1)}
    client.post("/login", data=form, follow_redirects=False)


def filled_after(client: TestClient, path: str, started: float) -> float:
    """A panel that answered "being computed" (the 360 page's churn risk) asked again every 50 ms, as the page's
    script does every 1.5 s: milliseconds from its first request until it came filled in."""
    while "data-pending" in client.get(path).text:
        time.sleep(0.05)
    return (time.perf_counter() - started) * 1000


def timed(client: TestClient, path: str, repeat: int) -> tuple[float, list[float], str]:
    """Milliseconds of the first render (figures computed) and of each later one (figures remembered), and the
    page."""
    started = time.perf_counter()
    page = client.get(path)
    first = (time.perf_counter() - started) * 1000
    if page.status_code == 404:  # a page this version of cxm does not have
        return first, [], ""
    assert page.status_code == 200, path
    if "data-pending" in page.text:
        filled = filled_after(client, path, started)
        print(f"{path:<48} first answer 'being computed'; filled in {filled:,.0f} ms after")
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(path)
        times.append((time.perf_counter() - started) * 1000)
    return first, times, page.text


def main() -> None:
    """Render every page and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--prepare",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run the in-process worker (as `cxm serve` does) and wait until it has prepared the default views",
    )
    args = parser.parse_args()
    database = args.database or Path(tempfile.mkdtemp(prefix="cxm-pages-")) / "cxm.db"
    settings = prepared_elsewhere(database)
    if args.prepare:
        settings = settings.model_copy(update={"serve_worker": True})
    print(f"load average {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")
    started = time.perf_counter()
    with TestClient(create_app(settings)) as client:
        if args.prepare:
            client.app.state.worker.prepared.wait(120)  # type: ignore[attr-defined]
            print(f"default views prepared by the worker {time.perf_counter() - started:.1f} s after start")
        signed_in(client)
        customer = "1"  # until the search below finds a real one
        print(f"{'page':<48} {'first ms':>9} {'median ms':>10} {'max ms':>8}")
        for path in PAGES:
            first, times, page = timed(client, path.format(customer=customer), args.repeat)
            found = re.search(r'href="/customers/(\d+)"', page) if path == "/customers?q=novak" else None
            customer = found.group(1) if found else customer
            if not times:
                print(f"{path:<48} {'(no such page)':>29}")
                continue
            print(f"{path:<48} {first:>9.1f} {statistics.median(times):>10.1f} {max(times):>8.1f}")
    print(f"load average {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
