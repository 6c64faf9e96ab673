"""Ingest throughput: raw inserts vs `cxm import`, on SQLite and PostgreSQL, and HTTP batch ingest.

Prints figures, asserts nothing. Each measured phase runs in its own process, so the peak memory shown
(resource.getrusage ru_maxrss of that process) belongs to that phase alone.

    .venv/bin/python benchmarks/ingest.py [--rows 1000000] [--http-batches 20] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq

POSTGRES_ADMIN = os.environ.get("CXM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
CHANNELS = ["store", "web", "app", "email", "phone", "chat", "social"]
STAGES = ["awareness", "purchase", "post_purchase"]
TYPES = ["visit", "purchase", "question", "complaint", "newsletter_open", "return"]
START = datetime(2026, 1, 1, tzinfo=UTC)
CXM = str(Path(sys.executable).with_name("cxm"))


def customers_for(rows: int) -> int:
    """About ten interactions per customer."""
    return max(1, rows // 10)


def generate(rows: int, seed: int = 7) -> pa.Table:
    """Interactions with identities: every customer has an e-mail, a third also a phone."""
    rng = np.random.default_rng(seed)
    who = rng.integers(0, customers_for(rows), rows)
    emails = np.char.add(np.char.add("user", who.astype(str)), "@example.com")
    phones = np.char.add("+42077", np.char.zfill(who.astype(str), 7))
    seconds = rng.integers(0, 365 * 86_400, rows) * 1_000_000
    stages = rng.integers(0, len(STAGES) + 1, rows)
    return pa.table(
        {
            "event_id": pa.array(np.char.add("evt-", np.arange(rows).astype(str))),
            "email": pa.array(emails),
            "phone": pa.array(phones, mask=who % 3 != 0),
            "channel": pa.array(np.array(CHANNELS)[rng.integers(0, len(CHANNELS), rows)]),
            "journey_stage": pa.array(np.array([*STAGES, ""])[stages], mask=stages == len(STAGES)),
            "direction": pa.array(np.where(rng.random(rows) < 0.8, "inbound", "outbound")),
            "type": pa.array(np.array(TYPES)[rng.integers(0, len(TYPES), rows)]),
            "occurred_at": pa.array(seconds + int(START.timestamp() * 1e6), pa.timestamp("us", tz="UTC")),
            "text": pa.array(np.full(rows, "Thank you, all good"), mask=rng.random(rows) > 0.05),
            "attr.page": pa.array(np.full(rows, "/products"), mask=rng.random(rows) > 0.4),
        }
    )


def raw_rows(table: pa.Table, now: datetime) -> list[tuple[Any, ...]]:
    """The table as the interactions table stores it, customer ids taken from the e-mail number."""
    data = table.to_pydict()
    stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")
    customer_ids = [int(email[4 : email.index("@")]) + 1 for email in data["email"]]
    occurred = [t.strftime("%Y-%m-%d %H:%M:%S.%f") for t in data["occurred_at"]]
    attributes = ["{}" if page is None else json.dumps({"page": page}) for page in data["attr.page"]]
    return list(
        zip(
            data["event_id"],
            customer_ids,
            data["channel"],
            data["journey_stage"],
            data["direction"],
            data["type"],
            occurred,
            data["text"],
            attributes,
            [stamp] * len(customer_ids),
            strict=True,
        )
    )


RAW_COLUMNS = (
    "event_id, customer_id, channel, journey_stage, direction, type, occurred_at, text, attributes, ingested_at"
)


def migrated(url: str) -> None:
    """Create the schema of a fresh database."""
    from cxm.core.db import make_engine
    from cxm.core.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()


def raw_sqlite(url: str, table: pa.Table, cache: bool = False) -> float:
    """Seconds to executemany the rows into `interactions` in one transaction (customers pre-created).

    `cache`: with the 64 MiB page cache cxm's engine uses (else SQLite's default 2 MiB, as measured until
    2026-11-25; at 1M rows the larger cache makes the raw insert ~1.4x faster).
    """
    import sqlite3

    migrated(url)
    rows = raw_rows(table, datetime.now(UTC))
    connection = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("PRAGMA foreign_keys=ON")
    if cache:
        connection.execute("PRAGMA cache_size=-65536")
    _sqlite_customers(connection, customers_for(table.num_rows))
    started = time.perf_counter()
    connection.execute("BEGIN IMMEDIATE")
    marks = ", ".join("?" * len(rows[0]))
    connection.executemany(f"INSERT INTO interactions ({RAW_COLUMNS}) VALUES ({marks})", rows)
    connection.execute("COMMIT")
    return time.perf_counter() - started


def _sqlite_customers(connection: Any, count: int) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    connection.execute("BEGIN")
    connection.executemany(
        "INSERT INTO customers (id, attributes, created_at, updated_at) VALUES (?, '{}', ?, ?)",
        [(i + 1, stamp, stamp) for i in range(count)],
    )
    connection.execute("COMMIT")


def raw_postgres(url: str, table: pa.Table) -> float:
    """Seconds to COPY the rows into `interactions` in one transaction (customers pre-created)."""
    migrated(url)
    now = datetime.now(UTC)
    rows = [(*row[:6], _aware(row[6]), row[7], row[8], now) for row in raw_rows(table, now)]
    with psycopg.connect(url) as connection:
        with connection.cursor().copy("COPY customers (id, attributes, created_at, updated_at) FROM STDIN") as copy:
            for i in range(customers_for(table.num_rows)):
                copy.write_row((i + 1, "{}", now, now))
        connection.commit()
        started = time.perf_counter()
        with connection.cursor().copy(f"COPY interactions ({RAW_COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        connection.commit()
        return time.perf_counter() - started


def _aware(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)


def cxm_import(url: str, path: Path) -> float:
    """Seconds `import_file` takes for the file on a fresh database, commit included."""
    from cxm.hub import Hub
    from cxm.interactions.importers import import_file

    hub = Hub(url)
    started = time.perf_counter()
    with hub.session() as session:
        summary = import_file(session, "interactions", path, actor="bench")
    elapsed = time.perf_counter() - started
    hub.close()
    print(f"    {summary.describe()}", file=sys.stderr)
    return elapsed


@contextmanager
def postgres_database() -> Iterator[str]:
    """A freshly created PostgreSQL database, dropped afterwards."""
    name = f"cxm_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def phase(args: argparse.Namespace) -> None:
    """Run one measured phase in this process and print its seconds and peak memory as JSON."""
    path = Path(args.file)
    if args.phase.startswith("raw"):
        table = pq.read_table(path)
        if args.phase == "raw-postgres":
            seconds = raw_postgres(args.url, table)
        else:
            seconds = raw_sqlite(args.url, table, cache=args.phase == "raw-sqlite-cache")
    else:
        seconds = cxm_import(args.url, path)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mib": peak_mib}))


def run_phase(name: str, url: str, path: Path) -> dict[str, float]:
    """Run a phase in a child process."""
    command = [sys.executable, __file__, "--phase", name, "--url", url, "--file", str(path)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    sys.stderr.write(done.stderr)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def compare(
    label: str, rows: int, fresh_url: Callable[[], AbstractContextManager[str]], raws: dict[str, str], path: Path
) -> None:
    """Print the raw rate(s) and the cxm import rate for one database, and the ratio to each raw rate."""
    rates = {}
    for raw, shown in raws.items():
        with fresh_url() as url:
            base = run_phase(raw, url, path)
        rates[shown] = rows / base["seconds"]
        took = f"{base['seconds']:.1f} s, peak RSS {base['peak_mib']:.0f} MiB"
        print(f"{label}: {shown} {rates[shown]:,.0f} rows/s ({took})")
    with fresh_url() as url:
        ours = run_phase("import", url, path)
    our_rate = rows / ours["seconds"]
    ratios = ", ".join(f"{our_rate / rate:.2f}x {shown}" for shown, rate in rates.items())
    took = f"{ours['seconds']:.1f} s, peak RSS {ours['peak_mib']:.0f} MiB"
    print(f"{label}: cxm import {our_rate:,.0f} rows/s ({took}) = {ratios}")


def http_ingest(table: pa.Table, batches: int, workdir: Path) -> None:
    """Post batches of 10,000 events to `cxm serve` (1 and 2 processes) with 1-2 clients; print events/s."""
    bodies = _http_bodies(table, batches)
    for workers, clients in ((1, 1), (1, 2), (2, 2)):
        url = f"sqlite:///{workdir / f'http-{workers}-{clients}.db'}"
        with served(url, workers) as (base, key):
            headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
            seconds = _post_all(base, headers, bodies, clients)
        events = 10_000 * len(bodies)
        print(
            f"HTTP batch ingest, serve --workers {workers}, {clients} client(s): "
            f"{events / seconds:,.0f} events/s ({events:,} events)"
        )


def _http_bodies(table: pa.Table, batches: int) -> list[bytes]:
    data = table.slice(0, 10_000 * batches).to_pylist()
    bodies = []
    for start in range(0, len(data), 10_000):
        items = [_api_item(row) for row in data[start : start + 10_000]]
        bodies.append(orjson.dumps({"interactions": items}))
    return bodies


def _api_item(row: dict[str, Any]) -> dict[str, Any]:
    identities = {k: row[k] for k in ("email", "phone") if row[k]}
    item = {k: row[k] for k in ("event_id", "channel", "journey_stage", "direction", "type", "text") if row[k]}
    attributes = {"page": row["attr.page"]} if row["attr.page"] else {}
    return {**item, "identities": identities, "occurred_at": row["occurred_at"].isoformat(), "attributes": attributes}


def _post_all(base: str, headers: dict[str, str], bodies: list[bytes], clients: int) -> float:
    def post(body: bytes) -> None:
        response = httpx.post(f"{base}/api/v1/interactions/batch", content=body, headers=headers, timeout=600)
        response.raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(post, bodies))
    return time.perf_counter() - started


@contextmanager
def served(url: str, workers: int = 1) -> Iterator[tuple[str, str]]:
    """`cxm serve` on a fresh database, with an admin API key."""
    env = {**os.environ, "CXM_DATABASE_URL": url}
    created = subprocess.run(
        [CXM, "apikey", "create", "--name", "bench", "--role", "admin"], env=env, capture_output=True, text=True
    )
    key = created.stdout.strip().splitlines()[-1]
    port = _free_port()
    command = [CXM, "serve", "--port", str(port), "--workers", str(workers)]
    server = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base)
        yield base, key
    finally:
        server.terminate()
        server.wait(30)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_up(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/api/v1/interactions/1", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("cxm serve did not start")


def main() -> None:
    """Generate the data, then print every figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--http-batches", type=int, default=20, help="batches of 10,000 events to post")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--http-only", action="store_true", help="only the HTTP batch figures")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        phase(args)
        return
    workdir = Path(tempfile.mkdtemp(prefix="cxm-bench-"))
    try:
        run_all(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run_all(args: argparse.Namespace, workdir: Path) -> None:
    """Every measurement, in order."""
    table = generate(args.rows)
    path = workdir / "interactions.parquet"
    pq.write_table(table, path)
    customers = customers_for(args.rows)
    print(f"{args.rows:,} interactions of {customers:,} customers (all with e-mail, 1/3 with phone), Parquet")
    counter = iter(range(1_000_000))

    @contextmanager
    def fresh_sqlite() -> Iterator[str]:
        yield f"sqlite:///{workdir / f'bench-{next(counter)}.db'}"

    if not args.http_only:
        raws = {"raw-sqlite": "raw", "raw-sqlite-cache": "raw (64 MiB cache, as cxm)"}
        compare("SQLite", args.rows, fresh_sqlite, raws, path)
    if not args.skip_postgres and not args.http_only:
        compare("PostgreSQL", args.rows, postgres_database, {"raw-postgres": "raw"}, path)
    if args.http_batches:
        http_ingest(table, args.http_batches, workdir)


if __name__ == "__main__":
    main()
