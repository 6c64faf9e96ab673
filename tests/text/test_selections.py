"""Which comments and responses carry a sentiment or a theme: a comment by its own signal, a response as analytics
judges it (one comment's label; several comments' mean score's)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Select
from sqlalchemy.orm import Session

from cxm.text import service as text_service
from cxm.text.models import TextSignal

WRITTEN = datetime(2026, 9, 6, tzinfo=UTC)
SIGNALS = [  # response, question, kind, label, value
    (1, 10, "sentiment", "negative", -0.1),  # one comment: its own label, however mild the score
    (2, 10, "sentiment", "positive", 0.9),
    (2, 11, "sentiment", "negative", -0.3),  # mean 0.3: the response is positive
    (2, 11, "theme", "7", 0.5),
    (3, 10, "sentiment", "positive", 0.3),
    (3, 11, "sentiment", "negative", -0.5),  # mean -0.1: the response is neutral
]


def _store(session: Session) -> None:
    for response, question, kind, label, value in SIGNALS:
        theme = int(label) if kind == "theme" else None
        session.add(
            TextSignal(
                kind=kind, label=label, value=value, theme_id=theme, source="response", source_id=response,
                question_id=question, text_hash=f"{response}-{question}", model="test", written_at=WRITTEN,
            )
        )  # fmt: skip
    session.add(  # an interaction's text is no comment
        TextSignal(
            kind="sentiment", label="negative", value=-1.0, source="interaction", source_id=1, text_hash="i",
            model="test", written_at=WRITTEN,
        )
    )  # fmt: skip
    session.flush()


def _found(session: Session, selection: Select[int] | Select[int, int | None]) -> set[object]:
    return {tuple(row) if len(row) > 1 else row[0] for row in session.execute(selection)}


def test_a_comment_is_judged_by_its_own_signal_and_a_response_as_analytics_judges_it(session: Session) -> None:
    _store(session)
    assert _found(session, text_service.comments_with_sentiment("negative")) == {(1, 10), (2, 11), (3, 11)}
    assert _found(session, text_service.responses_with_sentiment("negative")) == {1}
    assert _found(session, text_service.responses_with_sentiment("positive")) == {2}
    assert _found(session, text_service.responses_with_sentiment("neutral")) == {3}
    assert _found(session, text_service.responses_with("sentiment")) == {1, 2, 3}


def test_themes_are_chosen_by_id_and_anything_else_matches_nothing(session: Session) -> None:
    _store(session)
    assert _found(session, text_service.comments_with_theme("7")) == {(2, 11)}
    assert _found(session, text_service.responses_with_theme("7")) == {2}
    assert _found(session, text_service.responses_with("theme")) == {2}
    assert _found(session, text_service.comments_with_theme("delivery")) == set()
    assert _found(session, text_service.responses_with_theme("8")) == set()
