"""Keeping the DuckDB analytics store (and the Parquet lake for Spark) up to date, incrementally.

Each step reads only the operational rows it needs through ADBC (Arrow, no Python rows) into typed staging
tables, then computes the facts in DuckDB with the very expressions of `facts.py` that live engines run, so
every engine counts the same rows. Changed responses and customers are found by `updated_at` watermark,
new interactions by id; erased people (tombstones) and merges by id; invitations by `updated_at` too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine as SqlEngine
from sqlalchemy import Integer, column, func, select, table

from cxm.analytics import keepalive
from cxm.analytics.extract import SOURCES, start_children
from cxm.analytics.lake import write_lake
from cxm.analytics.staging import compile_facts, moment
from cxm.analytics.store import Run, checkpoint, connect, materialise, materialise_part
from cxm.core.db import UTCDateTime, read_only

Progress = Callable[[str], None]
FACT_TABLES = (
    "scores",
    "response_times",
    "invitations",
    "customers",
    "questions",
    "touchpoints",
    "orders",
    "contacts",
    "text_signals",
)
PEOPLE_FREE = ("questions",)  # facts about no one: nothing to erase
# Response ids whose responses and answers a first sync reads and joins at once, so that its memory stops growing
# there. Each slice more costs ~0.7 s (its reads' ends, the dimensions' hash tables built again): 10M in one slice
# took 10.5-11.5 s and peaked at 2.5 GiB, in slices of 2.5M 13.2-13.9 s and 2.1-2.4 GiB.
SCORES_SLICE = 10_000_000
SLICED = ("responses", "answers")  # what a first sync of many responses reads slice by slice
SIGNAL_RANGE = 8_192  # signal ids counted together to find where some were deleted
INTERACTION_FACTS = {"response_times": "interaction_id", "touchpoints": "interaction_id", "contacts": "interaction_id"}


@dataclass
class SyncReport:
    """What one sync moved into the store."""

    rows: dict[str, int] = field(default_factory=dict)
    erased_customers: int = 0
    seconds: float = 0.0

    def describe(self) -> str:
        """One line for people."""
        moved = ", ".join(f"{count:,} {name}" for name, count in self.rows.items())
        erased = f"; {self.erased_customers} erased customer(s) removed" if self.erased_customers else ""
        return f"analytics store synced: {moved or 'nothing new'}{erased} ({self.seconds:.1f} s)"


def _newest(operational: SqlEngine, name: str) -> str | None:
    """The table's watermark now: its newest `updated_at` and the highest id changed then ("<time>|<id>")."""
    stamp, ident = column("updated_at", UTCDateTime), column("id", Integer)
    with read_only(operational).connect() as connection:
        value: datetime | None = connection.execute(select(func.max(stamp)).select_from(table(name))).scalar()
        if value is None:
            return None
        last = connection.execute(select(func.max(ident)).select_from(table(name)).where(stamp == value)).scalar()
    return f"{value.isoformat()}|{int(last or 0)}"


def _since(mark: str, dialect: str, name: str) -> str:
    """A table's rows changed after a watermark: a newer `updated_at`, or the same one on a higher id."""
    # Rows saved together share one time (an import resolves a million customers with one `now`): re-reading every
    # row at the watermark's time would read them all on each sync until another changes; the id breaks the tie.
    # A mark without an id (an older store) re-reads the rows at its time once. Two selections, not one OR: each
    # seeks the `updated_at` index (whose entries end with the id), where the OR scanned every tied entry (1M tied
    # customers in SQLite: 0.3-0.5 s -> under 1 ms).
    stamp, _, last = mark.partition("|")
    at = moment(datetime.fromisoformat(stamp), dialect)
    later = f"SELECT id FROM {name} WHERE updated_at > {at}"
    return f"id IN ({later} UNION ALL SELECT id FROM {name} WHERE updated_at = {at} AND id > {int(last or 0)})"


def _sync_scores(run: Run, operational: SqlEngine) -> int:
    """Scores of responses changed since the last sync (all of them the first time, slice by slice of ids)."""
    mark = run.mark("scores.updated_at")
    full = mark is None or not run.current("scores")
    if full and run.dialect == "sqlite":
        start_children()  # whole tables are read by child processes: their parent starts while we look on
    # The newest change is taken before reading (a row changed meanwhile is then read again next time).
    newest = _newest(operational, "responses")
    slices = _slices(operational) if full else []
    changed = None if full else _since(str(mark), run.dialect, "responses")
    picked = None if full else f"SELECT id FROM responses WHERE {changed}"
    wanted = {
        "responses": changed,
        "answers": None if full else f"response_id IN ({picked})",
        "interactions": None if full else f"id IN (SELECT interaction_id FROM responses WHERE {changed})",
        "customers": None if full else f"id IN (SELECT customer_id FROM responses WHERE {changed})",
        "questions": None,
        "surveys": None,
    }
    with ThreadPoolExecutor(1, thread_name_prefix="cxm-sync") as meanwhile:
        # While the tables are read (by child processes, or with the GIL released), the facts' SQL is compiled
        # (~1 s in a new process, which imports Ibis's compilers first).
        compiled = meanwhile.submit(compile_facts)
        run.stage_many({name: rows for name, rows in wanted.items() if not (slices and name in SLICED)})
    compiled.result()
    run.staged_whole = full
    if slices:
        moved = _scores_by_slices(run, slices)
    else:
        moved = materialise(run, "scores", None if full else "response_id IN (SELECT id FROM stage_responses)")
    run.unstage(SLICED)  # what later steps read (interactions, customers) stays
    if newest is not None:
        run.set_mark("scores.updated_at", newest)
    return moved


def _slices(operational: SqlEngine) -> list[tuple[int, int]]:
    """Ranges (low, high] of response ids a first sync reads and joins one at a time ([]: all at once)."""
    with read_only(operational).connect() as connection:
        top = int(
            connection.execute(select(func.max(column("id", Integer))).select_from(table("responses"))).scalar() or 0
        )
    if top <= SCORES_SLICE:
        return []
    step = -(-top // -(-top // SCORES_SLICE))
    return [(low, min(low + step, top)) for low in range(0, top, step)]


def _scores_by_slices(run: Run, slices: list[tuple[int, int]]) -> int:
    """The scores fact built anew, one slice of response ids at a time: its responses and answers read, joined and
    let go (memory then stays that of one slice), all in one transaction."""
    with run.atomically():
        for index, (low, high) in enumerate(slices):
            ranges = {"responses": ("id", low, high), "answers": ("response_id", low, high)}
            if run.dialect == "sqlite":
                run.stage_ranges(ranges)
            else:
                run.stage_many({name: f"{key} > {low} AND {key} <= {high}" for name, (key, _, _) in ranges.items()})
            materialise_part(run, "scores", first=index == 0)
            run.unstage(SLICED)
    return int(run.sql("SELECT count(*) FROM scores")[0][0])


def _sync_customers(run: Run, operational: SqlEngine) -> int:
    """The customer dimension: profiles changed since the last sync."""
    mark, newest = run.mark("customers.updated_at"), _newest(operational, "customers")
    full = mark is None or not run.current("customers")
    if not (full and run.staged_whole):
        run.stage("customers", None if full else _since(str(mark), run.dialect, "customers"))
    retraited = None if full else _retraited(run)
    moved = materialise(run, "customers", None if full else "customer_id IN (SELECT id FROM stage_customers)")
    if not run.staged_whole:  # answers just built from every customer already carry their traits
        _refresh_traits(run, retraited)
    if newest is not None:
        run.set_mark("customers.updated_at", newest)
    return moved


def _retraited(run: Run) -> str:
    """A query for the staged customers whose traits differ from those the store holds (answers carry them)."""
    # A profile saved with the same traits (a new attribute, a new name) leaves its answers alone: 1M profiles re-read
    # over 10M answers made a sync 6.3-6.8 s when every one of their answers was updated, 4.2-4.7 s now.
    run.sql(
        "CREATE OR REPLACE TEMP TABLE retraited AS SELECT s.id FROM stage_customers s "
        "LEFT JOIN customers c ON c.customer_id = s.id WHERE c.customer_id IS NULL "
        "OR c.segment IS DISTINCT FROM s.segment OR c.country IS DISTINCT FROM s.country "
        "OR c.customer_language IS DISTINCT FROM s.language"
    )
    return "SELECT id FROM retraited"


def _refresh_traits(run: Run, changed: str | None) -> None:
    """Copy changed customers' traits onto their answers in the scores fact (None: every customer's)."""
    only = "" if changed is None else f" AND c.customer_id IN ({changed})"
    with run.atomically(), run.replacing("scores", "TRUE" if changed is None else f"customer_id IN ({changed})"):
        run.sql(
            "UPDATE scores SET segment = c.segment, country = c.country, customer_language = c.customer_language "
            f"FROM customers c WHERE scores.customer_id = c.customer_id{only}"
        )


def _id_mark(run: Run, fact: str) -> int:
    """The newest interaction or order id a fact holds (0 when the store has no such table yet, or an old one)."""
    return int(run.mark(f"{fact}.id") or 0) if run.current(fact) else 0


def _sync_interactions(run: Run) -> dict[str, int]:
    """Facts of interactions stored since the last sync (interactions never change): times, touchpoints, contacts."""
    marks = {fact: _id_mark(run, fact) for fact in INTERACTION_FACTS}
    mark = min(marks.values())
    # A first sync reuses the interactions and customers the scores step staged whole.
    if mark or not run.staged_whole:
        # Only the customers of the new rows: a store without interactions yet need not re-read every customer.
        customers = f"id IN (SELECT customer_id FROM interactions WHERE id > {mark})"
        run.stage_many({"interactions": f"id > {mark}" if mark else None, "customers": customers})
    newest = run.sql("SELECT max(id) FROM stage_interactions")[0][0]
    moved = {}
    for fact, key in INTERACTION_FACTS.items():
        # Rows past the lowest mark are replaced: a fact added to an older store catches up without duplicates.
        moved[fact] = materialise(run, fact, f"{key} > {mark}" if marks[fact] else None)
        run.set_mark(f"{fact}.id", newest if newest is not None else marks[fact])
    return moved


def _sync_orders(run: Run) -> int:
    """Orders stored since the last sync (orders never change; erasure is applied by tombstones)."""
    mark = _id_mark(run, "orders")
    wanted: dict[str, str | None] = {"orders": f"id > {mark}"}
    if mark or not run.staged_whole:
        wanted["customers"] = f"id IN (SELECT customer_id FROM orders WHERE id > {mark})"
    run.stage_many(wanted)
    moved = materialise(run, "orders", f"order_ref > {mark}" if mark else None)
    newest = run.sql("SELECT max(id) FROM stage_orders")[0][0]
    run.set_mark("orders.id", newest if newest is not None else mark)
    return moved


def _sync_invitations(run: Run, operational: SqlEngine) -> int:
    """Invitations changed since the last sync (sent, reminded, answered, moved by a merge), by `updated_at`."""
    mark, newest = run.mark("invitations.updated_at"), _newest(operational, "invitations")
    full = mark is None or not run.current("invitations")
    changed = None if full else _since(str(mark), run.dialect, "invitations")
    people = "SELECT customer_id FROM invitations" + ("" if changed is None else f" WHERE {changed}")
    run.stage_many({"invitations": changed, "surveys": None, "customers": f"id IN ({people})"})
    moved = materialise(run, "invitations", None if full else "invitation_id IN (SELECT id FROM stage_invitations)")
    if newest is not None:
        run.set_mark("invitations.updated_at", newest)
    return moved


def _sync_text_signals(run: Run) -> int:
    """Signals added since the last sync, and again those of id ranges that lost some (texts re-analysed, themes
    refitted, people erased); all of them again when the themes changed (their names ride on the signals)."""
    run.stage("text_themes")
    themes = str(run.sql("SELECT count(*), sum(hash(id, name)) FROM stage_text_themes")[0])
    mark = _id_mark(run, "text_signals")
    added = bool(mark) and run.mark("text_themes.hash") == themes
    wanted = _signals_to_read(run, mark) if added else None
    where = wanted.format(id="id") if wanted else None
    people = "SELECT customer_id FROM text_signals" + (f" WHERE {where}" if where else "")
    run.stage_many({"text_signals": where, "customers": f"id IN ({people})"})
    moved = materialise(run, "text_signals", wanted.format(id="signal_id") if wanted else None)
    newest = run.sql("SELECT max(id) FROM stage_text_signals")[0][0]
    run.set_mark("text_signals.id", newest if newest is not None else (mark if added else 0))
    run.set_mark("text_themes.hash", themes)
    return moved


def _signals_to_read(run: Run, mark: int) -> str:
    """Which signals to read, as a condition on `{id}`: those added after `mark`, and again the id ranges that lost
    some."""
    ranges = (f"{{id}} BETWEEN {low} AND {low + SIGNAL_RANGE - 1}" for low in _thinned(run, mark))
    return " OR ".join([f"{{id}} > {mark}", *ranges])


def _thinned(run: Run, mark: int) -> list[int]:
    """The first ids of the ranges of SIGNAL_RANGE ids up to `mark` where the operational database holds other
    signals than the store (signals are only added or deleted; merges are re-read on their own)."""
    if _none_deleted(run, mark):
        return []
    # The counts per range tell where: a re-analysed comment then re-reads one range, not every signal.
    counted = f"SELECT id / {SIGNAL_RANGE}, count(*) FROM text_signals WHERE id <= {mark} GROUP BY id / {SIGNAL_RANGE}"
    with read_only(run.operational).connect() as connection:
        there = {int(start): int(count) for start, count in connection.exec_driver_sql(counted)}
    held = f"SELECT signal_id // {SIGNAL_RANGE}, count(*) FROM text_signals WHERE signal_id <= {mark} GROUP BY 1"
    here = {int(start): int(count) for start, count in run.sql(held)}
    return sorted(start * SIGNAL_RANGE for start in {*there, *here} if there.get(start) != here.get(start))


def _none_deleted(run: Run, mark: int) -> bool:
    """Whether the operational database still holds every signal up to `mark` that the store holds."""
    # Equal counts up to the mark mean none went (1M signals in SQLite: a count in 0.06-0.09 s; a sync after one new
    # signal 1.7 s -> 0.5 s).
    counted = select(func.count()).select_from(table("text_signals")).where(column("id") <= mark)
    with read_only(run.operational).connect() as connection:
        there = int(connection.execute(counted).scalar() or 0)
    return there == int(run.sql(f"SELECT count(*) FROM text_signals WHERE signal_id <= {mark}")[0][0])


def _sync_questions(run: Run) -> int:
    """Scored questions and their scales: a small table, refreshed whole."""
    run.stage_many({"questions": None, "surveys": None})
    return materialise(run, "questions", None)


def _people(run: Run, sql: str) -> tuple[list[int], int]:
    """Customer ids named by new rows of merges or tombstones, and the newest row id."""
    with read_only(run.operational).connect() as connection:
        rows = connection.exec_driver_sql(sql).fetchall()
    return sorted({int(person) for row in rows for person in row[1:]}), max((int(row[0]) for row in rows), default=0)


def _apply_merges(run: Run) -> None:
    """Rows that merges moved to another customer are re-read for both customers."""
    mark = int(run.mark("merges.id") or 0)
    people, newest = _people(run, f"SELECT id, survivor_id, merged_id FROM merges WHERE id > {mark}")
    if not people:
        return
    listed = ", ".join(map(str, people))
    pairs = (
        ("scores", "responses"),
        ("response_times", "interactions"),
        ("touchpoints", "interactions"),
        ("contacts", "interactions"),
        ("orders", "orders"),
        ("text_signals", "text_signals"),
    )
    for fact, source in pairs:
        if run.has(fact):
            run.stage(source, f"customer_id IN ({listed})")
            if fact == "scores":
                run.stage("answers", f"response_id IN (SELECT id FROM responses WHERE customer_id IN ({listed}))")
                run.stage(
                    "interactions", f"id IN (SELECT interaction_id FROM responses WHERE customer_id IN ({listed}))"
                )
            run.stage("customers", f"id IN ({listed})")
            materialise(run, fact, f"customer_id IN ({listed})")
    run.set_mark("merges.id", newest)


def _apply_tombstones(run: Run) -> int:
    """Remove erased people from every fact."""
    mark = int(run.mark("tombstones.id") or 0)
    erased, newest = _people(run, f"SELECT id, customer_id FROM tombstones WHERE id > {mark}")
    for name in FACT_TABLES:
        if erased and name not in PEOPLE_FREE and run.has(name):
            listed = ", ".join(map(str, erased))
            with run.atomically(), run.replacing(name, f"customer_id IN ({listed})"):
                run.sql(f"DELETE FROM {name} WHERE customer_id IN ({listed})")
    if erased:
        run.set_mark("tombstones.id", newest)
    return len(erased)


def sync(
    operational: SqlEngine,
    store_path: str,
    *,
    lake: Path | None = None,
    progress: Progress | None = None,
    source: str | None = None,
) -> SyncReport:
    """Bring the DuckDB store (and the lake) up to date with the operational database; `source` (what the
    operational data looked like when the sync began) is recorded once the store holds it all."""
    started, report, say = time.perf_counter(), SyncReport(), progress or (lambda _: None)
    url = operational.url.render_as_string(hide_password=False)
    keepalive.release(store_path)  # queries of this process open the store afresh from now on
    with connect(store_path) as con:
        run = Run(con, operational, url, keeps_lake=lake is not None)
        say("responses")
        report.rows["score answers"] = _sync_scores(run, operational)
        say("customers")
        report.rows["customers"] = _sync_customers(run, operational)
        say("interactions")
        moved = _sync_interactions(run)
        for fact in INTERACTION_FACTS:
            report.rows[fact.replace("_", " ")] = moved[fact]
        say("orders")
        report.rows["orders"] = _sync_orders(run)
        report.rows["invitations"] = _sync_invitations(run, operational)
        report.rows["questions"] = _sync_questions(run)
        report.rows["text signals"] = _sync_text_signals(run)
        _apply_merges(run)
        report.erased_customers = _apply_tombstones(run)
        run.unstage(SOURCES)  # every fact is written: the lake and the checkpoint need none of what was read
        if lake is not None:
            say("lake")
            write_lake(run, lake, FACT_TABLES)
        if source is not None:
            run.set_mark("source", source)
        checkpoint(run)
    keepalive.release(store_path)  # connections opened while the sync ran (and their table schemas) go too
    report.seconds = time.perf_counter() - started
    return report
