"""Signals: what analysis found in each stored text, written per batch, reusing results by text hash."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from cxm.core.instance import SIGNALS_REMOVED, tally
from cxm.feedback import service as feedback_service
from cxm.interactions import service as interactions_service
from cxm.text.engine import TextEngine
from cxm.text.models import TextCorrection, TextSignal

SOURCES = ("response", "interaction")
# A corrected text's sentiment: the analyst's label at full strength.
CORRECTED_SCORE = {"negative": -1.0, "neutral": 0.0, "positive": 1.0}
# Texts and their languages -> per text, (theme id, share) of the themes it is about.
ThemeAssigner = Callable[[Sequence[str], Sequence[str]], list[list[tuple[int, float]]]]


@dataclass(frozen=True)
class SourceText:
    """One stored text: where it is (a response's comment or an interaction), whose, when it was written."""

    source: str
    source_id: int
    question_id: int | None
    customer_id: int | None
    text: str
    written_at: datetime

    @property
    def digest(self) -> str:
        """The cache key: SHA-256 of the trimmed text."""
        return text_hash(self.text)


@dataclass(frozen=True)
class Found:
    """Language and sentiment of one distinct text."""

    language: str
    score: float
    label: str


def text_hash(text: str) -> str:
    """SHA-256 of the trimmed text, hex."""
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()


def source_texts(session: Session, source: str, ids: Sequence[int]) -> list[SourceText]:
    """The non-empty texts of these responses or interactions, read through their domains."""
    if source == "response":
        return [
            SourceText(source, c.response_id, c.question_id, c.customer_id, c.text, c.written_at)
            for c in feedback_service.comment_texts(session, ids)
        ]
    return [
        SourceText(source, t.interaction_id, None, t.customer_id, t.text, t.written_at)
        for t in interactions_service.interaction_texts(session, ids)
    ]


@dataclass
class Planned:
    """What a batch of sources needs: which sources are redone, their stale texts, results known and corrections."""

    source: str
    redo: list[int]
    stale: list[SourceText]
    found: dict[str, Found]
    corrected: dict[tuple[str, int, int | None, str], str]


def plan_analysis(session: Session, source: str, ids: Sequence[int], *, version: str) -> Planned:
    """Read what a batch needs (texts, current signals, cached results, corrections); writes nothing."""
    texts = [t for t in source_texts(session, source, ids) if t.text.strip()]
    stale = _stale(session, texts, version)
    current = {t.source_id for t in texts}.difference(_ids(stale))
    found = cached(session, sorted({t.digest for t in stale}), version) if stale else {}
    return Planned(source, [i for i in ids if i not in current], stale, found, corrections(session, stale))


def signal_rows(
    planned: Planned, *, engine: TextEngine, version: str, themes: ThemeAssigner | None = None
) -> list[dict[str, Any]]:
    """The signal rows of the planned texts: the slow part (models), run outside any transaction."""
    stale, found = planned.stale, dict(planned.found)
    by_hash = {t.digest: t.text for t in stale if t.digest not in found}
    analyses = engine.analyze(list(by_hash.values()), keyphrases=False)
    for digest, a in zip(by_hash, analyses, strict=True):
        found[digest] = Found(a.language, a.sentiment.score, a.sentiment.label)
    languages = [found[t.digest].language for t in stale]
    assigned = themes([t.text for t in stale], languages) if themes is not None else [[] for _ in stale]
    return [
        r
        for t, a in zip(stale, assigned, strict=True)
        for r in _rows(t, found[t.digest], planned.corrected, a, version)
    ]


def write_signals(session: Session, planned: Planned, rows: list[dict[str, Any]]) -> int:
    """Replace the signals of the redone sources with these rows; texts written."""
    remove_signals(session, TextSignal.source == planned.source, TextSignal.source_id.in_(planned.redo))
    if rows:
        session.execute(insert(TextSignal), rows)
    return len(planned.stale)


def remove_signals(session: Session, *conditions: Any) -> None:
    """Delete the signals these conditions select, counted where the analytics worker looks for a change."""
    if getattr(session.execute(delete(TextSignal).where(*conditions)), "rowcount", 0):
        tally(session, SIGNALS_REMOVED)


def analyze_sources(
    session: Session,
    source: str,
    ids: Sequence[int],
    *,
    engine: TextEngine,
    version: str,
    themes: ThemeAssigner | None = None,
) -> int:
    """(Re)write the signals of these sources' texts in one transaction; current texts are left alone; texts done."""
    planned = plan_analysis(session, source, ids, version=version)
    return write_signals(session, planned, signal_rows(planned, engine=engine, version=version, themes=themes))


def _ids(texts: Sequence[SourceText]) -> list[int]:
    return sorted({t.source_id for t in texts})


def _stale(session: Session, texts: list[SourceText], version: str) -> list[SourceText]:
    """Texts without signals of this text and engine version (a source is redone whole when any text is stale)."""
    if not texts:
        return []
    query = select(TextSignal.source_id, TextSignal.question_id, TextSignal.text_hash).where(
        TextSignal.source == texts[0].source,
        TextSignal.source_id.in_(_ids(texts)),
        TextSignal.kind == "language",
        TextSignal.model == version,
    )
    current = {tuple(row) for row in session.execute(query)}
    redo = {t.source_id for t in texts if (t.source_id, t.question_id, t.digest) not in current}
    return [t for t in texts if t.source_id in redo]


def cached(session: Session, hashes: Sequence[str], version: str) -> dict[str, Found]:
    """Results already stored for these text hashes by this engine version."""
    query = select(TextSignal.text_hash, TextSignal.kind, TextSignal.label, TextSignal.value).where(
        TextSignal.text_hash.in_(list(hashes)),
        TextSignal.kind.in_(["language", "sentiment"]),
        TextSignal.model == version,
    )
    parts: dict[str, dict[str, tuple[str, float | None]]] = {}
    for digest, kind, label, value in session.execute(query):
        parts.setdefault(digest, {})[kind] = (label, value)
    return {
        h: Found(p["language"][0], float(p["sentiment"][1] or 0.0), p["sentiment"][0])
        for h, p in parts.items()
        if {"language", "sentiment"} <= p.keys()
    }


def corrections(session: Session, texts: Sequence[SourceText]) -> dict[tuple[str, int, int | None, str], str]:
    """The newest analyst label of each of these texts (same place, same words)."""
    if not texts:
        return {}
    query = (
        select(TextCorrection.source_id, TextCorrection.question_id, TextCorrection.text_hash, TextCorrection.label)
        .where(TextCorrection.source == texts[0].source, TextCorrection.source_id.in_(_ids(texts)))
        .order_by(TextCorrection.id)
    )
    return {(texts[0].source, s, q, h): label for s, q, h, label in session.execute(query)}


def _rows(
    text: SourceText,
    found: Found,
    corrected: dict[tuple[str, int, int | None, str], str],
    themes: list[tuple[int, float]],
    version: str,
) -> list[dict[str, Any]]:
    """The signal rows of one text: language, sentiment (the analyst's, if corrected), themes."""
    base = {
        "source": text.source,
        "source_id": text.source_id,
        "question_id": text.question_id,
        "customer_id": text.customer_id,
        "text_hash": text.digest,
        "written_at": text.written_at,
        "theme_id": None,
        "model": version,
    }
    label = corrected.get((text.source, text.source_id, text.question_id, text.digest))
    sentiment = (
        {"label": found.label, "value": found.score}
        if label is None
        else {"label": label, "value": CORRECTED_SCORE[label], "model": "correction"}
    )
    return [
        {**base, "kind": "language", "label": found.language, "value": None},
        {**base, "kind": "sentiment", **sentiment},
        *(
            {**base, "kind": "theme", "label": str(theme), "value": weight, "theme_id": theme}
            for theme, weight in themes
        ),
    ]
