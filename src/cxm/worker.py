"""The background worker: periodic ticks (trigger matching, reminders) and due jobs, once or until stopped."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

import cxm.tables  # noqa: F401  (every table is known)
from cxm.analytics import service as analytics_service
from cxm.config import Settings
from cxm.core import jobs
from cxm.core.traffic import Traffic
from cxm.feedback import service as feedback_service
from cxm.text import service as text_service  # also registers the text analysis jobs

log = logging.getLogger(__name__)
INTERVAL = 5.0
AFTER_SYNC_GAP = 60.0


@dataclass(frozen=True)
class Round:
    """What one round of the worker did."""

    invited: int
    reminders: int
    jobs: int
    waiting: int
    given_up: int
    analytics: int = 0
    reanalysed: int = 0

    @property
    def busy(self) -> bool:
        """Whether anything happened."""
        return bool(self.invited or self.reminders or self.jobs or self.analytics or self.reanalysed)

    def describe(self) -> str:
        """One line for people."""
        return (
            f"{self.invited} invitation(s) from triggers, {self.reminders} reminder(s) queued, "
            f"{self.reanalysed} text source(s) of an older text engine queued again, "
            f"{self.jobs} job(s) run; {self.waiting} waiting, {self.given_up} given up after retries; "
            f"{self.analytics} row(s) synced to the analytics store"
        )


def worker_sessions(engine: Engine, settings: Settings) -> sessionmaker[Session]:
    """Sessions for jobs: they carry the settings (SMTP, public address) the handlers read."""
    return sessionmaker(engine, expire_on_commit=False, info={"settings": settings})


def work_once(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    now: datetime | None = None,
    keep_going: Callable[[], bool] | None = None,
) -> Round:
    """Match triggers, queue reminders and the re-analysis of texts of an older text engine, then run the due jobs
    (until `keep_going` says stop), then sync the analytics store; each step in its own transaction."""
    with factory.begin() as session:
        invited = feedback_service.match_triggers(session, now=now)
    with factory.begin() as session:
        reminders = feedback_service.queue_reminders(session, days=settings.reminder_days, now=now)
    with factory.begin() as session:
        reanalysed = text_service.queue_reanalysis(session, settings)
    ran = jobs.run_due(factory, now=now, keep_going=keep_going)
    with factory.begin() as session:
        counts = jobs.job_counts(session)
    synced = sync_analytics(factory, settings)
    return Round(invited, reminders, ran, counts.get(jobs.QUEUED, 0), counts.get(jobs.FAILED, 0), synced, reanalysed)


def sync_analytics(factory: sessionmaker[Session], settings: Settings) -> int:
    """Bring the analytics store up to date when the operational data changed; rows moved."""
    engine = factory.kw["bind"]
    try:
        report = analytics_service.sync_if_changed(settings, engine)
    except Exception:  # the store may be busy (another process syncing): the next round tries again
        log.exception("analytics sync failed")
        return 0
    return sum(report.rows.values()) if report else 0


def run_until(
    stop: threading.Event,
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    interval: float = INTERVAL,
    report: Callable[[Round], None] | None = None,
    report_idle: bool = False,
    traffic: Traffic | None = None,
) -> None:
    """Work a round every `interval` seconds until `stop` is set, reporting busy rounds (every round with
    `report_idle`); a failing round is logged, not fatal. With `traffic`, give way to the server's requests."""
    while not stop.is_set():
        keep_going = None
        if traffic is not None:
            # Requests first: wait for a quiet moment (at most `worker_max_wait` s, so the store never falls far
            # behind under constant load) and stop running jobs as soon as requests come in again.
            traffic.wait_for_quiet(stop, settings.worker_max_wait)
            keep_going = traffic.quiet
        try:
            done = work_once(factory, settings, keep_going=keep_going)
        except Exception:
            log.exception("worker round failed")
        else:
            if report is not None and (done.busy or report_idle):
                report(done)
        stop.wait(interval)


class BackgroundWorker:
    """The worker on a thread, for `cxm serve` (the embedded default); `after_sync` runs on that thread after a sync
    before its first round and after rounds that moved rows into the analytics store, at most every `after_sync_gap`
    seconds (the dashboard prepares its default views there); `prepared` is set once it first ran. With `traffic`,
    rounds and preparing wait for a quiet moment of the server (at most `worker_max_wait` seconds)."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        interval: float = INTERVAL,
        after_sync: Callable[[], None] | None = None,
        after_sync_gap: float = AFTER_SYNC_GAP,
        traffic: Traffic | None = None,
    ) -> None:
        self.factory = worker_sessions(engine, settings)
        self.traffic = traffic
        self.settings = settings
        self.interval = interval
        self.after_sync = after_sync
        self.after_sync_gap = after_sync_gap
        self.stale = True  # rows moved into the store since `after_sync` last ran
        self.last_after_sync = -math.inf
        self.stopping = threading.Event()
        self.prepared = threading.Event()
        self.thread = threading.Thread(target=self._run, name="cxm-worker", daemon=True)

    def _run(self) -> None:
        # The store and the prepared views first, then rounds with the due jobs (a demo's interaction texts take
        # minutes): the first pages find their figures ready.
        self._after_round(Round(0, 0, 0, 0, 0, sync_analytics(self.factory, self.settings)))
        settings, interval = self.settings, self.interval
        run_until(
            self.stopping,
            self.factory,
            settings,
            interval=interval,
            report=self._after_round,
            report_idle=True,
            traffic=self.traffic,
        )

    def _after_round(self, done: Round) -> None:
        self.stale = self.stale or bool(done.analytics)
        # While rows keep arriving, prepare at most every `after_sync_gap` seconds (pages compute what they lack).
        since = time.monotonic() - self.last_after_sync
        due = since >= self.after_sync_gap
        if due and self.traffic is not None and self.prepared.is_set():
            # Requests are being answered: prepare later, unless that has waited too long already.
            due = self.traffic.quiet() or since >= self.after_sync_gap + self.settings.worker_max_wait
        if self.after_sync is not None and self.stale and due:
            self.stale, self.last_after_sync = False, time.monotonic()
            try:
                self.after_sync()
            except Exception as error:  # e.g. nothing synced yet: figures not prepared are computed by the page asking
                log.warning("figures not prepared after the analytics sync: %s", error)
        self.prepared.set()

    def start(self) -> None:
        """Start working in the background."""
        self.thread.start()

    def stop(self) -> None:
        """Finish the current round and stop."""
        self.stopping.set()
        self.thread.join()
