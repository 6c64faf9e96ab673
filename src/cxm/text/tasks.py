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


@jobs.job_handler(ANALYZE_JOB)
def analyze_texts(session: Session, payload: dict[str, Any]) -> None:
    """Analyse one batch of stored texts (`source`: response or interaction, `ids`); safe to run twice."""
    settings = job_settings(session)
    ids = [int(i) for i in payload["ids"]]
    analysis.analyze_stored(
        session,
        payload["source"],
        ids,
        languages=settings.text_languages,
        kind=settings.text_engine,
        model_dir=settings.text_model_dir,
    )
