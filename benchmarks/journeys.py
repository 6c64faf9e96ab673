"""Journey and loyalty analytics speed on a DuckDB store of synthetic facts (the sync's speed is analytics.py's).

Writes N touchpoints (default 5M) over N/25 customers and two years, one order per 10 touchpoints and one scored
answer per 25, straight into a fresh DuckDB store with the facts' schemas, then times each analysis through cxm.
Prints figures, asserts nothing.

    .venv/bin/python benchmarks/journeys.py [--touchpoints 5000000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

START = "2025-01-01"
FACTS = {
    "customers": """
        SELECT i AS customer_id, ['retail', 'business', 'vip'][1 + i % 3] AS segment, 'CZ' AS country,
               'cs' AS customer_language
        FROM range({customers}) t(i)""",
    "touchpoints": """
        SELECT i AS interaction_id, customer_id,
               ['web', 'app', 'store', 'email', 'phone', 'chat', 'social'][1 + (hash(i * 7) % 7)::BIGINT] AS channel,
               CASE WHEN step = 0 THEN 'awareness' WHEN step = 1 THEN 'purchase' ELSE 'post_purchase' END
                   AS journey_stage,
               CASE WHEN (hash(i * 11) % 200)::BIGINT = 0 THEN 'referral'
                    WHEN (hash(i * 13) % 50)::BIGINT = 0 THEN 'complaint' ELSE 'visit' END AS type,
               CASE WHEN (hash(i * 17) % 5)::BIGINT = 0 THEN 'outbound' ELSE 'inbound' END AS direction,
               TIMESTAMP '{start}' + to_seconds(episode * 2592000 + step * 86400 * (1 + (hash(i) % 9)::BIGINT))
                   AS occurred_at
        FROM (SELECT i, i // 25 AS customer_id, (i % 25) // 3 AS episode, least((i % 25) % 3, 2) AS step
              FROM range({touchpoints}) t(i)) s""",
    "orders": """
        SELECT i AS order_ref, i // 2 % {customers} AS customer_id, 'web' AS channel,
               TIMESTAMP '{start}' + to_seconds((i * 7919) % 63072000) AS occurred_at,
               (10 + (hash(i) % 300)::BIGINT)::DOUBLE AS amount, 'CZK' AS currency
        FROM range({orders}) t(i)""",
    "scores": """
        SELECT i AS response_id, 'purchase-csat' AS survey, 'csat' AS question,
               CASE WHEN i % 3 = 0 THEN 'nps' ELSE 'csat' END AS kind,
               CASE WHEN i % 3 = 0 THEN (hash(i) % 11)::BIGINT ELSE 1 + (hash(i) % 5)::BIGINT END AS score,
               TIMESTAMP '{start}' + to_seconds((i * 104729) % 63072000) AS completed_at,
               TIMESTAMP '{start}' AS updated_at, i % {customers} AS customer_id, 'cs' AS language,
               'email' AS collected_via,
               CASE WHEN i % 3 = 0 THEN NULL ELSE ['web', 'email'][1 + i % 2] END AS channel,
               CASE WHEN i % 3 = 0 THEN NULL ELSE ['purchase', 'post_purchase'][1 + i % 2] END AS journey_stage,
               NULL::VARCHAR AS agent
        FROM range({answers}) t(i)""",
}


def build(path: Path, touchpoints: int) -> dict[str, int]:
    """The synthetic store; its sizes."""
    sizes = {"touchpoints": touchpoints, "customers": touchpoints // 25, "orders": touchpoints // 10}
    sizes["answers"] = touchpoints // 25
    with duckdb.connect(str(path)) as con:
        con.execute("SET TimeZone = 'UTC'")
        for name, sql in FACTS.items():
            con.execute(f"CREATE TABLE {name} AS {sql.format(start=START, **sizes)}")
    return sizes


def timed(label: str, run: Callable[[], Any]) -> Any:
    """Run once to warm up, then print the best of three."""
    run()
    best = min(_seconds(run) for _ in range(3))
    print(f"  {label:<34} {best:7.2f} s")


def _seconds(run: Callable[[], Any]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def main() -> None:
    """Build the store and time every analysis."""
    from cxm.analytics import service
    from cxm.analytics.engines import open_engine

    parser = argparse.ArgumentParser()
    parser.add_argument("--touchpoints", type=int, default=5_000_000)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cxm-journeys-") as folder:
        path = Path(folder) / "store.duckdb"
        started = time.perf_counter()
        sizes = build(path, arguments.touchpoints)
        print(f"store: {sizes} written in {time.perf_counter() - started:.1f} s")
        engine = open_engine(f"duckdb:///{path}")
        journeys, by_channel = service.JourneyQuery(), service.JourneyQuery(by="channel", detail=True)
        ladder = service.LoyaltyQuery(months=12, until=datetime(2026, 12, 1, tzinfo=UTC))
        timed("funnel", lambda: service.funnel(engine, journeys))
        timed("funnel by entry channel", lambda: service.funnel(engine, by_channel))
        timed("stage times", lambda: service.stage_times(engine, journeys))
        timed("paths (5 steps)", lambda: service.paths(engine, journeys))
        timed("paths stage:channel", lambda: service.paths(engine, by_channel))
        timed("stage experience", lambda: service.stage_experience(engine, service.ExperienceQuery()))
        timed("moments that matter", lambda: service.moments(engine, service.ExperienceQuery()))
        timed("loyalty ladder (12 month ends)", lambda: service.loyalty_ladder(engine, ladder))
        timed("loyalty transitions (12 months)", lambda: service.loyalty_transitions(engine, ladder))
        timed("ladder placements (one month)", lambda: service.loyalty_placements(engine, ladder))


if __name__ == "__main__":
    main()
