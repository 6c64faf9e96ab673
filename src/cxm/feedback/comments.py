"""Free-text comments: paired with the score of the same response (training data), and queued for text analysis."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, tuple_
from sqlalchemy.orm import Session, aliased

from cxm.core import jobs
from cxm.feedback.models import Answer, Question, QuestionKind, Response, ResponseStatus, Survey
from cxm.feedback.selections import Respondents, Selection

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
    return [c for row in session.execute(query) if (c := _rated(*row)) is not None]


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


# The text domain runs these jobs (registered by name: feedback does not import text).
ANALYZE_JOB = "text.analyze"


@dataclass(frozen=True)
class CommentText:
    """One comment to analyse: where it is, whose it is, when it was written."""

    response_id: int
    question_id: int
    customer_id: int | None
    text: str
    written_at: datetime


def comment_texts(session: Session, response_ids: Sequence[int]) -> list[CommentText]:
    """The non-empty text answers of these responses."""
    query = (
        select(
            Answer.response_id,
            Answer.question_id,
            Answer.customer_id,
            Answer.text,
            Response.completed_at,
            Response.updated_at,
        )
        .join(Response, Response.id == Answer.response_id)
        .join(Question, and_(Question.id == Answer.question_id, Question.kind == QuestionKind.text))
        .where(Answer.response_id.in_(list(response_ids)), Answer.text.is_not(None), Answer.text != "")
        .order_by(Answer.response_id, Answer.question_id)
    )
    return [CommentText(r, q, c, str(t), done or changed) for r, q, c, t, done, changed in session.execute(query)]


def commented_responses(session: Session, *, after_id: int, limit: int) -> list[int]:
    """Ids of responses with a non-empty comment, above `after_id`, ascending (for a backfill)."""
    query = (
        select(Answer.response_id)
        .join(Question, and_(Question.id == Answer.question_id, Question.kind == QuestionKind.text))
        .where(Answer.response_id > after_id, Answer.text.is_not(None), Answer.text != "")
        .group_by(Answer.response_id)
        .order_by(Answer.response_id)
        .limit(limit)
    )
    return list(session.scalars(query))


def queue_comment_analysis(session: Session, response_ids: Sequence[int]) -> int:
    """Queue text analysis of these responses' comments in the caller's transaction; jobs queued."""
    return jobs.enqueue_batches(session, ANALYZE_JOB, response_ids, payload={"source": "response"})


@dataclass(frozen=True)
class Verbatim:
    """One free-text answer as shown in a list: who, when, in what language, with the response's main score."""

    response_id: int
    customer_id: int | None
    survey: str
    question: str
    text: str
    language: str
    score: int | None
    completed_at: datetime | None
    question_id: int = 0


@dataclass(frozen=True)
class VerbatimFilter:
    """Which comments to list."""

    survey_key: str | None = None
    search: str | None = None
    language: str | None = None
    min_score: int | None = None
    max_score: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    who: Respondents = field(default_factory=Respondents)
    # The comments other domains chose (what text analysis found: a sentiment, a theme), by (response, question).
    said: tuple[Selection, ...] = ()


def _main_score() -> Any:
    """The response's first scored answer (NPS, CSAT, CES or rating), as a correlated subquery."""
    scored, asked = aliased(Answer), aliased(Question)
    kinds = [QuestionKind.nps, QuestionKind.csat, QuestionKind.ces, QuestionKind.rating]
    return (
        select(scored.score)
        .join(asked, asked.id == scored.question_id)
        .where(scored.response_id == Response.id, asked.kind.in_(kinds), scored.score.is_not(None))
        .order_by(asked.position)
        .limit(1)
        .scalar_subquery()
    )


def _verbatim_query(wanted: VerbatimFilter) -> Any:
    score = _main_score().label("score")
    query = (
        select(
            Response.id,
            Response.customer_id,
            Survey.key,
            Question.key,
            Answer.text,
            Response.language,
            score,
            Response.completed_at,
            Answer.question_id,
        )
        .join(Answer, Answer.response_id == Response.id)
        .join(Question, and_(Question.id == Answer.question_id, Question.kind == QuestionKind.text))
        .join(Survey, Survey.id == Response.survey_id)
        .where(Response.status == ResponseStatus.complete, Answer.text.is_not(None), Answer.text != "")
    )
    conditions: dict[str, Callable[[Any], Any]] = {
        "survey_key": lambda v: Survey.key == v,
        "search": lambda v: func.lower(Answer.text).like(f"%{v.strip().lower()}%"),
        "language": lambda v: Response.language == v,
        "min_score": lambda v: score >= v,
        "max_score": lambda v: score <= v,
        "since": lambda v: Response.completed_at >= v,
        "until": lambda v: Response.completed_at < v,
    }
    for name, condition in conditions.items():
        value = getattr(wanted, name)
        if value is not None and value != "":
            query = query.where(condition(value))
    comment = tuple_(Answer.response_id, Answer.question_id)
    who = wanted.who.conditions(Response.interaction_id, Response.customer_id)
    return query.where(*who, *(chosen.condition(comment) for chosen in wanted.said))


def verbatims(session: Session, wanted: VerbatimFilter, *, limit: int, offset: int) -> tuple[list[Verbatim], int]:
    """One page of comments, newest first, and how many match."""
    query = _verbatim_query(wanted)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.order_by(Response.completed_at.desc(), Response.id.desc()).limit(limit).offset(offset))
    return [Verbatim(*row) for row in rows], total
