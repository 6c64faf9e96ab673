"""What crosses the API: texts to analyse, their analyses, model versions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

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


class ThemeRead(ReadModel):
    """One theme in use: its name, top terms, how many texts are about it and their mean sentiment."""

    id: int
    name: str
    terms: list[str]
    texts: int = 0
    sentiment: float | None = None


class ThemeFit(Schema):
    """How many themes to look for."""

    themes: int = Field(default=8, ge=2, le=50)


class ThemeRename(Schema):
    """A name analysts chose for a theme."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class ThemeMerge(Schema):
    """Themes to merge into the first; optionally a new name."""

    theme_ids: list[int] = Field(min_length=2, max_length=50)
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None


class CorrectionCreate(Schema):
    """An analyst's sentiment label for one stored text (a response's comment or an interaction's text)."""

    source: Literal["response", "interaction"]
    source_id: int
    question_id: int | None = None
    label: Literal["negative", "neutral", "positive"]


class CorrectionRead(ReadModel):
    """A recorded correction."""

    id: int
    source: str
    source_id: int
    question_id: int | None
    label: str
    actor: str
    created_at: datetime
