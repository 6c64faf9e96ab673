"""Dashboard speed: every page rendered server-side on the default demo company (`cxm demo`), N times each.

Generates the demo (5,000 customers, 100,000 interactions, seed 42) into a temporary SQLite file, syncs the
DuckDB analytics store, signs an admin in (a real session cookie) and requests every page through the app
in-process (FastAPI TestClient: routing, guards, queries, templates; no network). Prints per page the first
request (imports, template compilation), the median / p95 / CPU ms of N requests with nothing remembered ("cold":
every figure asked of the analytics engine, as for a new filter combination or right after a sync) and of N
repeated ones ("warm": figures remembered until the store changes, web/cache.py), with the machine's load average,
since the figures depend on it. CPU is this process's (all threads): less sensitive to other people's load. The
target is < 300 ms per page. Asserts nothing.

    .venv/bin/python benchmarks/pages.py [--runs 20] [--keep DIR] [--customers 5000] [--interactions 100000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text

from cxm import demo
from cxm.access import service as access_service
from cxm.analytics import service as analytics_service
from cxm.app import create_app
from cxm.config import Settings
from cxm.core.auth import SESSION_COOKIE
from cxm.core.db import make_engine
from cxm.hub import Hub
from cxm.web.cache import forget
from cxm.web.rendering import NAV

EMAIL = "pages-benchmark@example.com"
PASSWORD = "benchmark pages 2026"
TARGET_MS = 300.0


def build_demo(folder: Path, *, customers: int, interactions: int, seed: int = 42) -> str:
    """The demo company in `folder/cxm.db` (reused when already there), synced; returns its database URL."""
    url = f"sqlite:///{folder / 'cxm.db'}"
    hub = Hub(url)
    try:
        with hub.session() as session:
            if not demo.has_data(session):
                started = time.perf_counter()
                summary = demo.generate(session, customers=customers, interactions=interactions, seed=seed)
                print(f"demo generated in {time.perf_counter() - started:.1f} s: {summary.interactions:,} interactions")
            if session.scalar(text("select count(*) from users where email = :e"), {"e": EMAIL}) == 0:
                access_service.create_user(
                    session, email=EMAIL, password=PASSWORD, role="admin", display_name="Alex Admin"
                )
        analytics_service.sync_if_changed(hub.settings, hub.engine)
    finally:
        hub.close()
    return url


# The richest 360 page: the most survey responses, then the longest timeline.
BUSIEST = (
    "select c.id from customers c"
    " left join (select customer_id, count(*) n from responses group by customer_id) r on r.customer_id = c.id"
    " left join (select customer_id, count(*) n from interactions group by customer_id) i on i.customer_id = c.id"
    " where c.merged_into_id is null order by coalesce(r.n, 0) desc, coalesce(i.n, 0) desc limit 1"
)


def busiest_customer(url: str) -> int:
    """The customer with the most responses and interactions (the heaviest 360 page)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(text(BUSIEST)))
    finally:
        engine.dispose()


@contextmanager
def signed_in_client(url: str) -> Iterator[TestClient]:
    """The app on the demo database with an admin's session cookie set."""
    app = create_app(Settings(database_url=url, serve_worker=False))
    with TestClient(app) as client:
        with app.state.sessionmaker() as session, session.begin():
            opened = access_service.sign_in(session, email=EMAIL, password=PASSWORD, hours=1)
        client.cookies.set(SESSION_COOKIE, opened.token)
        yield client


def first_requests(client: TestClient, person: int) -> dict[str, float]:
    """Every dashboard page that exists (NAV), filtered and detail views, the downloads: path -> first (cold) ms."""
    candidates = [item.path for item in NAV] + [
        "/overview?channel=web&since=2026-05-01",
        "/overview?segment=vip&journey_stage=post_purchase",
        "/customers?q=novak",
        f"/customers/{person}",
        "/report/overview",
        "/overview?format=csv&table=metrics",
        "/charts/overview/nps.svg",
        "/charts/overview/volume.png",
    ]
    found: dict[str, float] = {}
    for path in candidates:
        started = time.perf_counter()
        if client.get(path).status_code == 200:  # pages not built yet answer 404 and are left out
            found[path] = (time.perf_counter() - started) * 1000
    return found


def timed(client: TestClient, path: str) -> tuple[float, float, int]:
    """One request: wall-clock ms, CPU ms of this process (all threads: less sensitive to load), response size."""
    started, cpu = time.perf_counter(), time.process_time()
    response = client.get(path)
    elapsed, used = (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000
    assert response.status_code == 200, (path, response.status_code)
    return elapsed, used, len(response.content)


def _summary(samples: list[tuple[float, float, int]]) -> tuple[float, float, float]:
    """Median and p95 wall-clock ms, median CPU ms."""
    times = sorted(wall for wall, _, _ in samples)
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times), p95, statistics.median(used for _, used, _ in samples)


def cold(client: TestClient, path: str) -> tuple[float, float, int]:
    """A request with nothing remembered: every figure is asked of the analytics engine again."""
    forget()
    return timed(client, path)


def measure(client: TestClient, firsts: dict[str, float], runs: int) -> None:
    """Print per page: the first request, then N with nothing remembered (cold) and N warm (median / p95 / CPU)."""
    columns = f"{'cold: median':>12} {'p95':>5} {'cpu':>5} | {'warm: median':>12} {'p95':>5}"
    print(f"{'page':50} {'first':>6} | {columns}   KiB")
    for path, first in firsts.items():
        cold_median, cold_p95, cold_cpu = _summary([cold(client, path) for _ in range(runs)])
        warm = [timed(client, path) for _ in range(runs)]
        warm_median, warm_p95, _ = _summary(warm)
        flag = "" if cold_median < TARGET_MS else "  > target"
        figures = f"{cold_median:12.0f} {cold_p95:5.0f} {cold_cpu:5.0f} | {warm_median:12.0f} {warm_p95:5.0f}"
        print(f"{path[:50]:50} {first:6.0f} | {figures} {warm[-1][2] / 1024:5.1f}{flag}")


def load() -> str:
    """The load average, and how many cores share it."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def main() -> None:
    """Build (or reuse) the demo, then time every page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="a folder to build the demo in and reuse on the next run")
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--interactions", type=int, default=100_000)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    with tempfile.TemporaryDirectory(prefix="cxm-pages-") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        url = build_demo(folder, customers=args.customers, interactions=args.interactions)
        with signed_in_client(url) as client:
            firsts = first_requests(client, busiest_customer(url))
            print(f"{len(firsts)} pages x {args.runs} runs; before: {load()}")
            measure(client, firsts, args.runs)
            print(f"after: {load()}")


if __name__ == "__main__":
    main()
