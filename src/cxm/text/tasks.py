"""Background jobs of the text domain: analysing stored texts into signals (queued by feedback and interactions)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cxm.config import Settings
from cxm.core import jobs
from cxm.text import analysis

ANALYZE_JOB = "text.analyze"


def job_languages(session: Session) -> list[str]:
    """The languages the worker is configured with (it puts its settings on its sessions), else the environment's."""
    found = session.info.get("settings")
    return list((found if isinstance(found, Settings) else Settings()).text_languages)


@jobs.job_handler(ANALYZE_JOB)
def analyze_texts(session: Session, payload: dict[str, Any]) -> None:
    """Analyse one batch of stored texts (`source`: response or interaction, `ids`); safe to run twice."""
    analysis.analyze_stored(
        session, payload["source"], [int(i) for i in payload["ids"]], languages=job_languages(session)
    )
