"""Free-text comments paired with the score given in the same response: training data for sentiment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from cxm.feedback.models import Answer, Question, QuestionKind, Response, ResponseStatus

# Scores that say clearly what a customer felt: (negative up to, positive from).
CLEAR_SCORES = {QuestionKind.nps: (6, 9), QuestionKind.csat: (2, 4)}


@dataclass(frozen=True)
class RatedComment:
    """A comment, the score of the same response, and whether that score reads as positive or negative."""

    response_id: int
    text: str
    score: int
    label: str
    completed_at: datetime


def rated_comments(session: Session) -> list[RatedComment]:
    """Comments of complete responses with a clearly negative or positive NPS / CSAT score, oldest first."""
    scored, asked = aliased(Answer), aliased(Question)
    query = (
        select(Response.id, Answer.text, scored.score, asked.kind, Response.completed_at)
        .join(Answer, Answer.response_id == Response.id)
        .join(Question, and_(Question.id == Answer.question_id, Question.kind == QuestionKind.text))
        .join(scored, scored.response_id == Response.id)
        .join(asked, and_(asked.id == scored.question_id, asked.kind.in_(list(CLEAR_SCORES))))
        .where(Response.status == ResponseStatus.complete, Answer.text.is_not(None), Answer.text != "")
        .order_by(Response.completed_at, Response.id)
    )
    return [c for row in session.execute(query) if (c := _rated(*row.tuple())) is not None]


def _rated(
    response_id: int, text: str | None, score: int | None, kind: str, completed_at: datetime | None
) -> RatedComment | None:
    if text is None or score is None or completed_at is None:
        return None
    negative_to, positive_from = CLEAR_SCORES[QuestionKind(kind)]
    if negative_to < score < positive_from:
        return None
    label = "negative" if score <= negative_to else "positive"
    return RatedComment(response_id, text, score, label, completed_at)
