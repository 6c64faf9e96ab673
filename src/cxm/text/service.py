"""The text domain's entry point: analyse texts, evaluate, train on rated comments, list model versions."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxm.text.engine import DEFAULT_LANGUAGES, OfflineEngine, TextAnalysis, TextEngine
from cxm.text.evaluation import Figures, figures
from cxm.text.models import TextModel
from cxm.text.sentiment import CharModel, Sentiment
from cxm.text.training import MIN_COMMENTS, active_model, train_char_model

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

# Engines by (languages, active model id): loading a model takes a moment, analysing must not.
_engines: dict[tuple[tuple[str, ...], int | None], OfflineEngine] = {}


def engine_for(session: Session, *, languages: Sequence[str] = DEFAULT_LANGUAGES) -> OfflineEngine:
    """The engine in use: the cold-start head, averaged with the company's adopted model once there is one."""
    model = active_model(session)
    key = (tuple(languages), model.id if model is not None else None)
    if key not in _engines:
        char_model = CharModel.from_bytes(model.data) if model is not None and model.data else None
        _engines.clear()
        _engines[key] = OfflineEngine(languages=languages, char_model=char_model)
    return _engines[key]


def evaluate(engine: TextEngine, texts: Sequence[str], labels: Sequence[str]) -> Figures:
    """Accuracy and macro-F1 of the engine's sentiment against positive / negative labels."""
    analyses = engine.analyze(texts)
    return figures(labels, _scores(analyses))


def _scores(analyses: list[TextAnalysis]) -> list[float]:
    return [a.sentiment.score for a in analyses]


def train(
    session: Session, *, languages: Sequence[str] = DEFAULT_LANGUAGES, min_comments: int = MIN_COMMENTS
) -> TextModel:
    """Train the character model on the company's rated comments; adopt it only if it beats the engine in use."""
    return train_char_model(session, languages=languages, min_comments=min_comments)


def list_models(session: Session) -> list[TextModel]:
    """Every training run, newest first."""
    return list(session.scalars(select(TextModel).order_by(TextModel.id.desc())))
