"""`cxm worker`: run background jobs and periodic ticks (trigger matching, reminders)."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Annotated

import typer

from cxm.cli.base import app, console, open_hub, out, settings

if TYPE_CHECKING:
    from cxm.worker import Round


def _report(done: Round) -> None:
    out.print(done.describe(), highlight=False, markup=False)


@app.command("worker")
def worker(
    once: Annotated[bool, typer.Option("--once", help="Run what is due now, then exit (for cron and tests)")] = False,
    interval: Annotated[float, typer.Option(min=0.5, help="Seconds between rounds")] = 5.0,
    niceness: Annotated[
        int, typer.Option(min=0, max=19, help="Lower CPU priority, so a server on this machine answers first")
    ] = 10,
) -> None:
    """Send survey invitations and reminders, match triggers, run queued jobs; until Ctrl-C."""
    from cxm.worker import run_until, work_once, worker_sessions

    os.nice(niceness)
    hub = open_hub()
    try:
        factory = worker_sessions(hub.engine, settings())
        if once:
            out.print(work_once(factory, settings()).describe(), highlight=False, markup=False)
            return
        console.print(f"cxm worker: a round every {interval:g} s; Ctrl-C stops")
        try:
            run_until(threading.Event(), factory, settings(), interval=interval, report=_report)
        except KeyboardInterrupt:
            console.print("cxm worker stopped")
    finally:
        hub.close()
