"""What crosses the API: texts to analyse, their analyses, model versions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from cxm.core.schemas import ReadModel, Schema

LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]


class AnalyzeRequest(Schema):
    """Up to 1,000 texts, optionally all in one known language."""

    texts: list[Annotated[str, StringConstraints(max_length=20_000)]] = Field(min_length=1, max_length=1000)
    language: LanguageCode | None = None


class SentimentRead(ReadModel):
    """A score in [-1, 1] and its label: negative, neutral, positive or mixed."""

    score: float
    label: str


class TextAnalysisRead(ReadModel):
    """What was found in one text."""

    language: str
    sentiment: SentimentRead
    keyphrases: list[str]


class TextModelRead(ReadModel):
    """One training run on rated comments, with its hold-out figures and those of the engine it competed with."""

    id: int
    kind: str
    active: bool
    created_at: datetime
    train_size: int
    test_size: int
    accuracy: float
    macro_f1: float
    baseline_accuracy: float
    baseline_macro_f1: float
    trained_until: datetime
