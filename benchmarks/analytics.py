"""Analytics speed: sync of the DuckDB store and dashboard queries through cxm vs raw DuckDB SQL.

Generates N responses (default 10M) over N/10 customers and two years in a fresh SQLite database,
syncs them into DuckDB (and a Parquet lake), then times four dashboard queries through cxm and as
hand-written DuckDB SQL in the same run; Spark (local) and PostgreSQL are timed for the record.
Prints figures, asserts nothing. Each phase runs in its own process so its peak memory is its own.

    .venv/bin/python benchmarks/analytics.py [--responses 10000000] [--skip-spark] [--skip-postgres] [--database F]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

POSTGRES_ADMIN = os.environ.get("CXM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
CHANNELS = ["store", "web", "app", "email", "phone", "chat", "social"]
SEGMENTS = ["retail", "business", "vip", "student"]
START = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp())
SPAN = 2 * 365 * 86_400
CHUNK = 500_000
STAMP = "%Y-%m-%d %H:%M:%S.%f"


def _stamps(seconds: np.ndarray) -> list[str]:
    moments = (seconds + START).astype("datetime64[s]")
    return [f"{text.replace('T', ' ')}.000000" for text in np.datetime_as_string(moments, unit="s")]


def generate(path: Path, responses: int, seed: int = 11) -> None:
    """Customers, answered interactions, responses and NPS answers, written straight into SQLite."""
    from cxm.core.db import make_engine
    from cxm.core.migrate import upgrade
    from cxm.feedback import service as feedback_service
    from cxm.hub import Hub

    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    hub = Hub(f"sqlite:///{path}")
    with hub.session() as session:
        surveys = feedback_service.install_templates(session)
        nps = feedback_service.questions_of(session, surveys[1].id)[0]
        survey_id, question_id = nps.survey_id, nps.id
    hub.close()
    rng = np.random.default_rng(seed)
    customers, interactions = max(responses // 10, 1), max(responses // 5, 1)
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("BEGIN")
    _customers(connection, rng, customers)
    _interactions(connection, rng, customers, interactions)
    _responses(connection, rng, customers, interactions, responses, survey_id, question_id)
    connection.execute("COMMIT")
    connection.close()


def _customers(connection: sqlite3.Connection, rng: np.random.Generator, count: int) -> None:
    segments = np.array(SEGMENTS)[rng.integers(0, len(SEGMENTS), count)]
    now = datetime.now(UTC).strftime(STAMP)
    rows = ((i + 1, str(segments[i]), now, now) for i in range(count))
    sql = "INSERT INTO customers (id, segment, attributes, created_at, updated_at) VALUES (?, ?, '{}', ?, ?)"
    connection.executemany(sql, rows)


def _interactions(connection: sqlite3.Connection, rng: np.random.Generator, customers: int, count: int) -> None:
    for start in range(0, count, CHUNK):
        n = min(CHUNK, count - start)
        at = rng.integers(0, SPAN, n)
        waited = rng.gamma(1.5, 1800, n).astype(int)
        channel = np.array(CHANNELS)[rng.integers(0, len(CHANNELS), n)]
        who = rng.integers(1, customers + 1, n)
        rows = zip(
            range(start + 1, start + n + 1),
            who.tolist(),
            channel.tolist(),
            _stamps(at),
            _stamps(at + waited),
            [datetime.now(UTC).strftime(STAMP)] * n,
            strict=True,
        )
        connection.executemany(
            "INSERT INTO interactions (id, customer_id, channel, direction, type, occurred_at, responded_at, "
            "attributes, ingested_at) VALUES (?, ?, ?, 'inbound', 'question', ?, ?, '{}', ?)",
            rows,
        )


def _responses(
    connection: sqlite3.Connection,
    rng: np.random.Generator,
    customers: int,
    interactions: int,
    count: int,
    survey_id: int,
    question_id: int,
) -> None:
    for start in range(0, count, CHUNK):
        n = min(CHUNK, count - start)
        ids = range(start + 1, start + n + 1)
        touch = rng.integers(1, interactions + 1, n)
        who = rng.integers(1, customers + 1, n)
        stamps = _stamps(rng.integers(0, SPAN, n))
        scores = np.clip(np.round(rng.normal(7.4, 2.2, n)), 0, 10).astype(int)
        connection.executemany(
            "INSERT INTO responses (id, survey_id, customer_id, interaction_id, language, channel, status, "
            "started_at, completed_at, updated_at, attributes) VALUES (?, ?, ?, ?, 'en', 'email', 'complete', "
            "?, ?, ?, '{}')",
            zip(ids, [survey_id] * n, who.tolist(), touch.tolist(), stamps, stamps, stamps, strict=True),
        )
        connection.executemany(
            "INSERT INTO answers (id, response_id, question_id, customer_id, score) VALUES (?, ?, ?, ?, ?)",
            zip(ids, ids, [question_id] * n, who.tolist(), scores.tolist(), strict=True),
        )


RAW_SQL = {
    "NPS by channel x month": """
        SELECT channel, date_trunc('month', completed_at) AS period, count(*) AS n,
               100.0 * (count(*) FILTER (score >= 9) - count(*) FILTER (score <= 6)) / count(*) AS nps,
               100.0 * sqrt(((count(*) FILTER (score >= 9) + count(*) FILTER (score <= 6)) / count(*)
                 - pow((count(*) FILTER (score >= 9) - count(*) FILTER (score <= 6)) / count(*), 2)) / count(*)) AS se
        FROM scores WHERE kind = 'nps' GROUP BY ALL ORDER BY ALL""",
    "NPS by segment x month": """
        SELECT c.segment, date_trunc('month', s.completed_at) AS period, count(*) AS n,
               100.0 * (count(*) FILTER (s.score >= 9) - count(*) FILTER (s.score <= 6)) / count(*) AS nps
        FROM scores s LEFT JOIN customers c USING (customer_id) WHERE s.kind = 'nps' GROUP BY ALL ORDER BY ALL""",
    "First-response time by channel": """
        SELECT channel, count(*) AS n, quantile_cont(response_seconds, 0.5) AS median,
               quantile_cont(response_seconds, 0.9) AS p90, avg((response_seconds <= 3600)::int) AS within
        FROM response_times GROUP BY ALL ORDER BY ALL""",
    # A date range, as the dashboard's filter bar asks (the facts hold plain UTC times).
    "NPS by channel x month since 2025-06-01": """
        SELECT channel, date_trunc('month', completed_at) AS period, count(*) AS n,
               100.0 * (count(*) FILTER (score >= 9) - count(*) FILTER (score <= 6)) / count(*) AS nps
        FROM scores WHERE kind = 'nps' AND completed_at >= TIMESTAMP '2025-06-01' GROUP BY ALL ORDER BY ALL""",
    # Months of a time zone with summer time, by DuckDB's own zone support (ICU).
    "NPS by channel x month in Europe/Prague": """
        SELECT channel, date_trunc('month', timezone('Europe/Prague', completed_at::TIMESTAMPTZ)) AS period,
               count(*) AS n,
               100.0 * (count(*) FILTER (score >= 9) - count(*) FILTER (score <= 6)) / count(*) AS nps
        FROM scores WHERE kind = 'nps' GROUP BY ALL ORDER BY ALL""",
    # Answers per response vary: a response is counted once, whatever it answered (a DISTINCT over every answer).
    "Responses by channel x month": """
        SELECT channel, date_trunc('month', completed_at) AS period, count(DISTINCT response_id) AS n
        FROM scores GROUP BY ALL ORDER BY ALL""",
}
# The segment question again as raw SQL on the answers' own copy of their customer's segment (what cxm reads since
# the scores fact carries it): the fair raw figure for cxm's query; the join above is how one asks without it.
RAW_OWN_SEGMENT = """
        SELECT segment, date_trunc('month', completed_at) AS period, count(*) AS n,
               100.0 * (count(*) FILTER (score >= 9) - count(*) FILTER (score <= 6)) / count(*) AS nps
        FROM scores WHERE kind = 'nps' GROUP BY ALL ORDER BY ALL"""


def cxm_queries() -> dict[str, Callable[[Any], Any]]:
    """The same questions through cxm's metric service."""
    from cxm.analytics import service
    from cxm.analytics.dimensions import Query

    since_june = Query(by=["channel"], period="month", since="2025-06-01")
    prague = Query(by=["channel"], period="month", zone="Europe/Prague")
    return {
        "NPS by channel x month": lambda e: service.metric(e, "nps", Query(by=["channel"], period="month")),
        "NPS by segment x month": lambda e: service.metric(e, "nps", Query(by=["segment"], period="month")),
        "First-response time by channel": lambda e: service.metric(e, "first_response_time", Query(by=["channel"])),
        "Responses by channel x month": lambda e: service.metric(e, "responses", Query(by=["channel"], period="month")),
        "NPS by channel x month since 2025-06-01": lambda e: service.metric(e, "nps", since_june),
        "NPS by channel x month in Europe/Prague": lambda e: service.metric(e, "nps", prague),
    }


def timed(action: Callable[[], Any], repeat: int) -> float:
    """Median seconds of `repeat` runs after one warm-up run."""
    action()
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def cpu_seconds() -> float:
    """CPU seconds of this process and of the sync's reader processes (children of the fork server, which reaps
    them): under load the fairer figure, as wall time swings with other people's work."""
    import multiprocessing.forkserver

    usage = resource.getrusage(resource.RUSAGE_SELF)
    own = usage.ru_utime + usage.ru_stime
    server = multiprocessing.forkserver._forkserver._forkserver_pid  # type: ignore[attr-defined]
    if not server:
        return own
    fields = Path(f"/proc/{server}/stat").read_text().rsplit(")", 1)[1].split()
    return own + sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def phase_sync(args: argparse.Namespace) -> dict[str, Any]:
    """Sync the generated database into a fresh store and lake."""
    from cxm.analytics.sync import sync
    from cxm.core.db import make_engine

    started = time.perf_counter()
    report = sync(make_engine(f"sqlite:///{args.db}"), args.store, lake=Path(args.lake))
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": report.rows, "lake_included": True, "cpu_seconds": cpu_seconds()}


def phase_sync_store_only(args: argparse.Namespace) -> dict[str, Any]:
    """Sync into a fresh store without writing the lake (the pure store rate)."""
    from cxm.analytics.sync import sync
    from cxm.core.db import make_engine

    started = time.perf_counter()
    report = sync(make_engine(f"sqlite:///{args.db}"), args.store)
    return {"seconds": time.perf_counter() - started, "rows": report.rows, "cpu_seconds": cpu_seconds()}


def interleaved(actions: dict[str, Callable[[], Any]], repeat: int) -> dict[str, float]:
    """Median seconds of each action, after one warm-up each, run in turns (so a change in other people's load
    on the machine falls on all of them alike)."""
    for action in actions.values():
        action()
    runs: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(repeat):
        for name, action in actions.items():
            started = time.perf_counter()
            action()
            runs[name].append(time.perf_counter() - started)
    return {name: statistics.median(seconds) for name, seconds in runs.items()}


def phase_duckdb(args: argparse.Namespace) -> dict[str, Any]:
    """cxm (the store opened per query, and kept open as by default) vs raw DuckDB SQL on the store, in turns."""
    import duckdb

    from cxm.analytics import keepalive
    from cxm.analytics.engines import open_engine

    url = f"duckdb:///{args.store}"
    engine, kept = open_engine(url), open_engine(url, keep_open=2.0)
    # First alone: any other connection in the process would keep the database open, and opening it cheap.
    found: dict[str, dict[str, float]] = {
        "cxm": {name: timed(lambda q=q: q(engine), 5) for name, q in cxm_queries().items()}
    }
    found |= {"kept": {}, "raw": {}}
    # Read-write like cxm's connections: DuckDB refuses two configurations of one store in a process.
    with duckdb.connect(args.store) as con:
        for name, ask in cxm_queries().items():
            actions = {"kept": lambda ask=ask: ask(kept), "raw": lambda sql=RAW_SQL[name]: con.execute(sql).fetchall()}
            if name == "NPS by segment x month":
                actions["raw_own"] = lambda: con.execute(RAW_OWN_SEGMENT).fetchall()
            for kind, seconds in interleaved(actions, 5).items():
                found.setdefault(kind, {})[name] = seconds
    keepalive.release(args.store)
    return found


SERVER_PATHS = {
    "NPS by channel x month": "/api/v1/metrics/nps?by=channel&period=month",
    "NPS by segment x month": "/api/v1/metrics/nps?by=segment&period=month",
    "First-response time by channel": "/api/v1/metrics/first_response_time?by=channel",
    "Responses by channel x month": "/api/v1/metrics/responses?by=channel&period=month",
    "NPS by channel x month since 2025-06-01": "/api/v1/metrics/nps?by=channel&period=month&since=2025-06-01",
    "NPS by channel x month in Europe/Prague": "/api/v1/metrics/nps?by=channel&period=month&tz=Europe/Prague",
}


def phase_server(args: argparse.Namespace) -> dict[str, Any]:
    """The same questions over HTTP through the app `cxm serve` runs (in-process client, default settings)."""
    import duckdb
    from fastapi.testclient import TestClient

    from cxm.access import service as access_service
    from cxm.app import create_app
    from cxm.config import Settings
    from cxm.core.db import make_engine, make_sessionmaker

    settings = Settings(
        database_url=f"sqlite:///{args.db}", analytics_url=f"duckdb:///{args.store}", serve_worker=False
    )
    engine = make_engine(settings.database_url)
    with make_sessionmaker(engine)() as session, session.begin():
        key = access_service.create_api_key(session, name=f"bench-{uuid.uuid4().hex[:8]}", role="admin").secret
    headers = {"Authorization": f"Bearer {key}"}
    found: dict[str, dict[str, float]] = {"cxm": {}, "raw": {}}
    with TestClient(create_app(settings, engine=engine)) as client, duckdb.connect(args.store) as con:
        for name, path in SERVER_PATHS.items():
            actions = {
                "cxm": lambda path=path: client.get(path, headers=headers).raise_for_status(),
                "raw": lambda sql=RAW_SQL[name]: con.execute(sql).fetchall(),
            }
            for kind, seconds in interleaved(actions, 5).items():
                found[kind][name] = seconds
    return found


def phase_spark(args: argparse.Namespace) -> dict[str, Any]:
    """cxm on Spark (local, 2 cores) over the Parquet lake."""
    from cxm.analytics.engines import open_engine

    engine = open_engine(f"spark://local[2]?lake={args.lake}")
    return {"cxm": {name: timed(lambda q=q: q(engine), 3) for name, q in cxm_queries().items()}}


def phase_postgres(args: argparse.Namespace) -> dict[str, Any]:
    """cxm reading PostgreSQL directly (the operational tables, copied from the SQLite file)."""
    from cxm.analytics.engines import open_engine

    engine = open_engine(args.url)
    return {"cxm": {name: timed(lambda q=q: q(engine), 1) for name, q in cxm_queries().items()}}


PHASES = {
    "sync": phase_sync,
    "sync-store": phase_sync_store_only,
    "duckdb": phase_duckdb,
    "server": phase_server,
    "spark": phase_spark,
    "postgres": phase_postgres,
}


def run_phase(name: str, **paths: str) -> dict[str, Any]:
    """Run one phase in a child process; its result with the child's peak memory."""
    command = [sys.executable, __file__, "--phase", name]
    for key, value in paths.items():
        command += [f"--{key}", value]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def copy_to_postgres(sqlite_path: Path, url: str) -> None:
    """The generated tables, copied into a migrated PostgreSQL database."""
    from cxm.core.db import make_engine
    from cxm.core.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    source = sqlite3.connect(sqlite_path)
    tables = ["customers", "surveys", "questions", "interactions", "responses", "answers"]
    with psycopg.connect(url) as target:
        for name in tables:
            columns = [row[1] for row in source.execute(f"PRAGMA table_info({name})")]
            with target.cursor().copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in source.execute(f"SELECT {', '.join(columns)} FROM {name}"):
                    copy.write_row(row)
        target.commit()
        target.execute("ANALYZE")  # as autovacuum would: without statistics the planner picks nested loops
        target.commit()
    source.close()


def report(label: str, ours: dict[str, float], raw: dict[str, float] | None = None) -> None:
    """Print one engine's query times (and the ratio to raw SQL)."""
    for name, seconds in ours.items():
        ratio = f" vs raw DuckDB SQL {raw[name]:.3f} s = {seconds / raw[name]:.2f}x" if raw else ""
        print(f"{label}: {name}: {seconds:.3f} s{ratio}")


def main() -> None:
    """Generate, sync, time; print every figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=10_000_000)
    parser.add_argument("--skip-spark", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--database", help="generated SQLite database to reuse (generated there when missing)")
    for hidden in ("phase", "db", "store", "lake", "url"):
        parser.add_argument(f"--{hidden}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        result = PHASES[args.phase](args)
        result["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    workdir = Path(tempfile.mkdtemp(prefix="cxm-analytics-bench-"))
    try:
        run_all(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run_all(args: argparse.Namespace, workdir: Path) -> None:
    """Every measurement, in order."""
    db, store, lake = Path(args.database or workdir / "cxm.db"), workdir / "store.duckdb", workdir / "lake"
    started = time.perf_counter()
    reused = db.exists()
    if not reused:
        generate(db, args.responses)
    customers = max(args.responses // 10, 1)
    print(
        f"{args.responses:,} NPS responses of {customers:,} customers over 2 years, "
        f"{max(args.responses // 5, 1):,} answered inbound interactions "
        + (f"(reused {db})" if reused else f"(generated in {time.perf_counter() - started:.0f} s)")
    )
    alone = run_phase("sync-store", db=str(db), store=str(workdir / "alone.duckdb"))
    rows = alone["rows"]["score answers"]
    print(
        f"sync into DuckDB: {rows:,} score rows + {alone['rows']['response times']:,} response times + "
        f"{alone['rows']['customers']:,} customers in {alone['seconds']:.1f} s = "
        f"{rows / alone['seconds']:,.0f} responses/s (peak RSS {alone['peak_mib']:.0f} MiB; "
        f"{alone['cpu_seconds']:.1f} CPU s with the readers; load {os.getloadavg()[0]:.1f})"
    )
    synced = run_phase("sync", db=str(db), store=str(store), lake=str(lake))
    print(
        f"sync into DuckDB + Parquet lake: {synced['seconds']:.1f} s (peak RSS {synced['peak_mib']:.0f} MiB; "
        f"{synced['cpu_seconds']:.1f} CPU s)"
    )
    duck = run_phase("duckdb", store=str(store))
    report("DuckDB, store opened per query (timed alone, before)", duck["cxm"], duck["raw"])
    report("DuckDB, store kept open (the default; in turns with raw)", duck["kept"], duck["raw"])
    report("  raw DuckDB SQL on the answers' own segment (no join)", duck["raw_own"])
    print(f"  (query phase peak RSS {duck['peak_mib']:.0f} MiB)")
    server = run_phase("server", db=str(db), store=str(store))
    report("DuckDB via the HTTP API (in-process client)", server["cxm"], server["raw"])
    if not args.skip_spark:
        report("Spark local[2]", run_phase("spark", lake=str(lake))["cxm"])
    if not args.skip_postgres:
        name = f"cxm_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        url = POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"
        try:
            copy_to_postgres(db, url)
            report("PostgreSQL (live)", run_phase("postgres", url=url)["cxm"])
        finally:
            with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
