"""Analysts' corrections of a text's sentiment: they override the engine's label and train the next model."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cxm.core.errors import InvalidInput, NotFound
from cxm.text.models import TextCorrection, TextSignal
from cxm.text.seed import LABELS
from cxm.text.signals import CORRECTED_SCORE, SOURCES, SourceText, source_texts


def correct_sentiment(
    session: Session, *, source: str, source_id: int, label: str, actor: str, question_id: int | None = None
) -> TextCorrection:
    """Record an analyst's sentiment label for one stored text and apply it to the text's signal."""
    if source not in SOURCES or label not in LABELS:
        raise InvalidInput(f"source must be one of {list(SOURCES)} and label one of {list(LABELS)}")
    text = _text(session, source, source_id, question_id)
    correction = TextCorrection(
        source=source,
        source_id=source_id,
        question_id=text.question_id,
        customer_id=text.customer_id,
        text_hash=text.digest,
        label=label,
        actor=actor,
    )
    session.add(correction)
    session.execute(
        update(TextSignal)
        .where(TextSignal.kind == "sentiment", TextSignal.source == source, TextSignal.source_id == source_id)
        .where(TextSignal.text_hash == text.digest)
        .values(label=label, value=CORRECTED_SCORE[label], model="correction")
    )
    session.flush()
    return correction


def _text(session: Session, source: str, source_id: int, question_id: int | None) -> SourceText:
    texts = [t for t in source_texts(session, source, [source_id]) if question_id in (None, t.question_id)]
    if not texts:
        raise NotFound(f"{source} {source_id} has no text")
    return texts[0]


def corrected_examples(session: Session) -> list[tuple[str, int, str, str]]:
    """(source, id, text, label) of every corrected text still worded as when corrected; the newest label wins."""
    newest: dict[tuple[str, int, int | None], TextCorrection] = {}
    for c in session.scalars(select(TextCorrection).order_by(TextCorrection.id)):
        newest[(c.source, c.source_id, c.question_id)] = c
    examples = []
    for source in SOURCES:
        wanted = {key[1]: c for key, c in newest.items() if key[0] == source}
        for text in source_texts(session, source, list(wanted)) if wanted else []:
            found = newest.get((source, text.source_id, text.question_id))
            if found is not None and found.text_hash == text.digest:
                examples.append((source, text.source_id, text.text, found.label))
    return examples
