"""Background jobs of the text domain: analysing stored texts into signals (queued by feedback and interactions)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cxm.config import Settings
from cxm.core import jobs
from cxm.text import analysis

ANALYZE_JOB = "text.analyze"


def job_settings(session: Session) -> Settings:
    """The settings the worker runs with (it puts them on its sessions), else those of the environment."""
    found = session.info.get("settings")
    return found if isinstance(found, Settings) else Settings()


@jobs.phased_job_handler(ANALYZE_JOB)
def analyze_texts(transactions: jobs.Transactions, payload: dict[str, Any]) -> None:
    """Analyse one batch of stored texts (`source`: response or interaction, `ids`); safe to run twice.

    The models run between a reading and a short writing transaction: on SQLite a writer holds the one write lock,
    and analysing hundreds of texts inside it kept survey answers and imports waiting past their timeout.
    """
    with transactions.reading() as session:
        settings = job_settings(session)
        step = analysis.plan_stored(session, payload["source"], [int(i) for i in payload["ids"]], settings=settings)
    rows = step.rows()
    with transactions.writing() as session:
        analysis.write_stored(session, step, rows)
