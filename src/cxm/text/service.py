"""The text domain's entry point: analyse texts, evaluate, train on rated comments, list model versions."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxm.text import analysis, tasks  # noqa: F401  (tasks: registers the analysis jobs wherever text is used)
from cxm.text.corrections import correct_sentiment
from cxm.text.engine import DEFAULT_LANGUAGES, OfflineEngine, TextAnalysis, TextEngine
from cxm.text.evaluation import Figures, figures
from cxm.text.models import TextCorrection, TextModel, TextSignal
from cxm.text.reanalysis import queue_reanalysis
from cxm.text.selections import (
    CommentSignals,
    comment_signals,
    comments_with,
    comments_with_sentiment,
    comments_with_theme,
    responses_with,
    responses_with_sentiment,
    responses_with_theme,
)
from cxm.text.sentiment import Sentiment
from cxm.text.signals import SOURCES
from cxm.text.themes import (
    ThemeSummary,
    fit_themes,
    list_themes,
    merge_themes,
    rename_theme,
    split_theme,
    theme_names,
)
from cxm.text.training import MIN_COMMENTS, train_char_model

__all__ = [
    "DEFAULT_LANGUAGES",
    "Figures",
    "OfflineEngine",
    "Sentiment",
    "TextAnalysis",
    "TextEngine",
    "TextModel",
    "engine_for",
    "evaluate",
    "list_models",
    "train",
]
__all__ += ["SOURCES", "TextSignal", "analyze_stored", "backfill_batches", "signals_of"]  # every stored text
__all__ += ["queue_reanalysis"]  # texts of an older engine version, analysed again
__all__ += [  # themes and corrections
    "TextCorrection",
    "ThemeSummary",
    "correct_sentiment",
    "fit_themes",
    "list_themes",
    "merge_themes",
    "rename_theme",
    "split_theme",
    "theme_names",
]
__all__ += [  # what comments say, as selections other domains filter by
    "CommentSignals",
    "comment_signals",
    "comments_with",
    "comments_with_sentiment",
    "comments_with_theme",
    "responses_with",
    "responses_with_sentiment",
    "responses_with_theme",
]


def engine_for(
    session: Session,
    *,
    languages: Sequence[str] = DEFAULT_LANGUAGES,
    kind: str = "offline",
    model_dir: str | None = None,
    keyphrases: str = "yake",
) -> OfflineEngine:
    """The engine in use: the cold-start head (or the onnx model), averaged with the company's adopted model;
    `keyphrases`: yake or rake."""
    return analysis.engine_for(session, languages=languages, kind=kind, model_dir=model_dir, keyphrases=keyphrases)


def evaluate(engine: TextEngine, texts: Sequence[str], labels: Sequence[str]) -> Figures:
    """Accuracy and macro-F1 of the engine's sentiment against positive / negative labels."""
    analyses = engine.analyze(texts)
    return figures(labels, _scores(analyses))


def _scores(analyses: list[TextAnalysis]) -> list[float]:
    return [a.sentiment.score for a in analyses]


def train(
    session: Session,
    *,
    languages: Sequence[str] = DEFAULT_LANGUAGES,
    min_comments: int = MIN_COMMENTS,
    kind: str = "offline",
    model_dir: str | None = None,
) -> TextModel:
    """Train the character model on the company's rated comments; adopt it only if it beats the engine in use
    (`kind`, `model_dir`: the configured engine, offline or onnx)."""
    head = analysis.sentiment_head(kind, model_dir)
    return train_char_model(session, languages=languages, min_comments=min_comments, head=head)


def list_models(session: Session) -> list[TextModel]:
    """Every training run, newest first."""
    return list(session.scalars(select(TextModel).order_by(TextModel.id.desc())))


def analyze_stored(
    session: Session,
    source: str,
    ids: Sequence[int],
    *,
    languages: Sequence[str],
    kind: str = "offline",
    model_dir: str | None = None,
) -> int:
    """Write the signals of these responses' comments or interactions' texts; how many texts were (re)analysed."""
    return analysis.analyze_stored(session, source, ids, languages=languages, kind=kind, model_dir=model_dir)


def backfill_batches(session: Session, *, sources: Sequence[str] = SOURCES) -> list[tuple[str, list[int]]]:
    """Every stored text's source (response or interaction ids), in batches for a backfill."""
    return analysis.backfill_batches(session, sources=sources)


def signals_of(session: Session, *, source: str, source_id: int) -> list[TextSignal]:
    """The signals of one response's comments or one interaction's text."""
    query = select(TextSignal).where(TextSignal.source == source, TextSignal.source_id == source_id)
    return list(session.scalars(query.order_by(TextSignal.id)))
