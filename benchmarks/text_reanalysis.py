"""What the worker's look for texts of an older text engine costs each round: the scan of `text_signals`.

Builds a database with --sources analysed texts (a language and a sentiment signal each, made by an older engine
version), then times, --rounds times each: the look when every text is outdated (the first 2,000 queued), when none
is (the scan that finds nothing, what a converged worker would pay each round without RECHECK), and a round while
re-analysis jobs are pending. Prints the load with every figure; asserts nothing.

    .venv/bin/python benchmarks/text_reanalysis.py [--sources 200000] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, update
from sqlalchemy.orm import Session, sessionmaker

from cxm.config import Settings
from cxm.core import migrate
from cxm.core.db import make_engine
from cxm.text import analysis, reanalysis
from cxm.text.models import TextSignal

OLD = "offline:000000000000:0"


def fill(engine: Engine, sources: int) -> None:
    """`sources` analysed comments, a language and a sentiment signal each, made by an older version."""
    written = datetime(2026, 3, 1, tzinfo=UTC)
    base = {"question_id": 1, "customer_id": None, "theme_id": None, "written_at": written, "model": OLD}
    with sessionmaker(engine).begin() as session:
        for start in range(0, sources, 20_000):
            rows = [
                {**base, "source": "response", "source_id": i, "text_hash": f"{i:064x}", "kind": kind, "label": label}
                for i in range(start, min(sources, start + 20_000))
                for kind, label in (("language", "en"), ("sentiment", "positive"))
            ]
            session.execute(insert(TextSignal), rows)


def median_ms(work: Callable[[], object], rounds: int) -> float:
    """Median milliseconds of `work`."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def look(factory: sessionmaker[Session], version: str) -> int:
    """The look one round makes, in a transaction that is rolled back."""
    with factory() as session:
        return len(reanalysis.outdated_sources(session, version, limit=reanalysis.PER_ROUND))


def pending_round(factory: sessionmaker[Session], settings: Settings) -> int:
    """A round while re-analysis jobs are pending (rolled back)."""
    reanalysis._found_current.clear()
    with factory() as session:
        return reanalysis.queue_reanalysis(session, settings)


def load() -> str:
    return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sources", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", help="an empty database (default: a new SQLite file)")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/reanalysis.db"
    engine = make_engine(url)
    migrate.upgrade(engine)
    fill(engine, args.sources)
    factory, settings = sessionmaker(engine), Settings(database_url=url)
    with factory() as session:
        current = analysis.engine_version(session)
    print(f"{engine.dialect.name}, {args.sources:,} analysed texts ({2 * args.sources:,} signals); {load()}")
    ms = median_ms(lambda: look(factory, current), args.rounds)
    print(f"every text outdated, first {reanalysis.PER_ROUND:,} taken: {ms:.1f} ms median; {load()}")
    with factory.begin() as session:
        session.execute(update(TextSignal).values(model=current))
    ms = median_ms(lambda: look(factory, current), args.rounds)
    print(f"none outdated (the whole scan): {ms:.1f} ms median; {load()}")
    with factory.begin() as session:
        session.execute(update(TextSignal).values(model=OLD))
        reanalysis.queue_reanalysis(session, settings)
    ms = median_ms(lambda: pending_round(factory, settings), args.rounds)
    print(f"a round while re-analysis jobs are pending: {ms:.1f} ms median; {load()}")


if __name__ == "__main__":
    main()
