"""Background jobs of the text domain: analysing stored texts into signals (queued by feedback and interactions, and
again by the worker when the engine version changed)."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from cxm.config import Settings
from cxm.core import jobs
from cxm.core.errors import InvalidInput
from cxm.text import analysis, themes, training
from cxm.text.reanalysis import REANALYZE_JOB

ANALYZE_JOB = "text.analyze"
TRAIN_JOB = "text.train"
THEMES_JOB = "text.themes"
# A company's first themes are fitted once this many of its texts were analysed (again at each further this many,
# while fitting finds too few shared words); analysts refit, rename, merge and split them after.
THEMES_AFTER = 200
log = logging.getLogger(__name__)


def job_settings(session: Session) -> Settings:
    """The settings the worker runs with (it puts them on its sessions), else those of the environment."""
    found = session.info.get("settings")
    return found if isinstance(found, Settings) else Settings()


# Texts of another engine version are the same work under their own name: the worker sees whether its rounds are done.
@jobs.phased_job_handler(REANALYZE_JOB)
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
        if payload["source"] == "response":
            queue_training_if_due(session)
        queue_first_themes_if_due(session)


def queue_training_if_due(session: Session) -> None:
    """Queue a training run once enough new comments were analysed (keyed: each step queues one run)."""
    due = training.training_due(session, analysis.analysed_comments(session))
    if due is not None:
        jobs.enqueue(session, TRAIN_JOB, {}, key=f"{TRAIN_JOB}:{due}")


@jobs.phased_job_handler(TRAIN_JOB)
def train_on_ratings(transactions: jobs.Transactions, payload: dict[str, Any]) -> None:
    """Train the character model on the company's rated comments; adopted only if it beats the engine in use."""
    with transactions.reading() as session:
        try:
            settings = job_settings(session)
            head = analysis.sentiment_head(settings.text_engine, settings.text_model_dir)
            record = training.fit_on_ratings(session, languages=settings.text_languages, head=head)
        except InvalidInput as reason:  # too few, or one-sided: the next batch of comments queues another try
            log.info("text model not trained: %s", reason.message)
            return
        session.expunge_all()
    with transactions.writing() as session:
        training.keep_training(session, record)


def queue_first_themes_if_due(session: Session) -> None:
    """Queue fitting the company's first themes once enough texts were analysed and it has none (keyed)."""
    if themes.active_theme_model(session) is not None:
        return
    analysed = analysis.analysed_texts(session)
    if analysed >= THEMES_AFTER:
        jobs.enqueue(session, THEMES_JOB, {}, key=f"{THEMES_JOB}:first:{analysed // THEMES_AFTER}")


@jobs.phased_job_handler(THEMES_JOB)
def fit_first_themes(transactions: jobs.Transactions, payload: dict[str, Any]) -> None:
    """Fit the company's first themes over its stored texts; nothing when it has themes already (safe twice)."""
    with transactions.reading() as session:
        if themes.active_theme_model(session) is not None:
            return
        try:
            settings = job_settings(session)
            embed = themes.theme_embedder(settings.text_engine, settings.text_model_dir)
            fitted = themes.plan_themes(session, languages=settings.text_languages, embed=embed)
        except InvalidInput as reason:  # too few shared words: the next THEMES_AFTER texts queue another try
            log.info("themes not fitted: %s", reason.message)
            return
        session.expunge_all()
    with transactions.writing() as session:
        if themes.active_theme_model(session) is None:  # an analyst may have fitted some meanwhile
            themes.keep_themes(session, fitted)
