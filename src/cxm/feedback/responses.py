"""Storing responses (from pages, the API and imports) and reading them back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from cxm.core.db import utcnow
from cxm.core.errors import NotFound
from cxm.core.schemas import Page
from cxm.feedback.answers import checked_answers
from cxm.feedback.comments import queue_comment_analysis
from cxm.feedback.models import Answer, Question, Response, ResponseStatus, Survey
from cxm.feedback.schemas import ResponseRead
from cxm.feedback.surveys import check_open, questions_of

SCORED = ("nps", "csat", "ces", "rating")


@dataclass
class Respondent:
    """Who answers, how, and in reply to what."""

    customer_id: int | None = None
    interaction_id: int | None = None
    invitation_id: int | None = None
    external_id: str | None = None
    language: str | None = None
    channel: str = "link"
    attributes: dict[str, Any] | None = None


def start_response(session: Session, survey: Survey, who: Respondent, *, at: datetime | None = None) -> Response:
    """A new, empty partial response."""
    check_open(survey)
    now = at or utcnow()
    response = Response(
        survey_id=survey.id,
        customer_id=who.customer_id,
        interaction_id=who.interaction_id,
        invitation_id=who.invitation_id,
        external_id=who.external_id,
        language=who.language or survey.default_language,
        channel=who.channel,
        status=ResponseStatus.partial,
        started_at=now,
        updated_at=now,
        attributes=who.attributes or {},
    )
    session.add(response)
    session.flush()
    return response


def stored_answers(session: Session, response_id: int) -> dict[str, Any]:
    """A response's answers keyed by question key."""
    query = (
        select(Question.key, Answer.score, Answer.choices, Answer.text, Question.kind)
        .join(Question, Question.id == Answer.question_id)
        .where(Answer.response_id == response_id)
    )
    return {key: _value(kind, score, choices, text) for key, score, choices, text, kind in session.execute(query)}


def _value(kind: str, score: int | None, choices: list[str] | None, text: str | None) -> Any:
    if kind in SCORED:
        return score
    if kind == "single_choice":
        return choices[0] if choices else None
    if kind == "multi_choice":
        return list(choices or [])
    return text


def save_answers(
    session: Session, response: Response, given: dict[str, Any], *, complete: bool, at: datetime | None = None
) -> dict[str, Any]:
    """Merge new answers into a response (partial save or edit); `complete` submits it. All checked first."""
    survey = session.get_one(Survey, response.survey_id)
    check_open(survey)
    questions = questions_of(session, survey.id)
    merged = {**stored_answers(session, response.id), **given}
    kept = checked_answers(questions, merged, complete=complete)
    _replace_answers(session, response, questions, kept)
    now = at or utcnow()
    response.updated_at = now
    if complete:
        response.status = ResponseStatus.complete
        response.completed_at = response.completed_at or now
    session.flush()
    return kept


def _replace_answers(session: Session, response: Response, questions: Sequence[Question], kept: dict[str, Any]) -> None:
    session.execute(delete(Answer).where(Answer.response_id == response.id))
    by_key = {question.key: question for question in questions}
    session.add_all(_answer(response, by_key[key], value) for key, value in kept.items())
    if any(by_key[key].kind == "text" and value for key, value in kept.items()):
        queue_comment_analysis(session, [response.id])


def _answer(response: Response, question: Question, value: Any) -> Answer:
    answer = Answer(response_id=response.id, question_id=question.id, customer_id=response.customer_id)
    if question.kind in SCORED:
        answer.score = value
    elif question.kind in ("single_choice", "multi_choice"):
        answer.choices = value if isinstance(value, list) else [value]
    else:
        answer.text = value
    return answer


def record_response(
    session: Session, survey: Survey, answers: dict[str, Any], who: Respondent, **times: datetime | None
) -> tuple[Response, bool]:
    """Store a whole response at once (API, imports); a known `external_id` returns the stored one."""
    if who.external_id is not None:
        found = session.scalar(select(Response).where(Response.external_id == who.external_id))
        if found is not None:
            return found, True
    questions = questions_of(session, survey.id)
    kept = checked_answers(questions, answers, complete=True)
    response = start_response(session, survey, who, at=times.get("started_at"))
    _replace_answers(session, response, questions, kept)
    response.status = ResponseStatus.complete
    response.completed_at = times.get("completed_at") or times.get("started_at") or utcnow()
    session.flush()
    return response, False


def read_response(session: Session, response: Response, *, duplicate: bool = False) -> ResponseRead:
    """A response as the API shows it."""
    survey_key = session.scalar(select(Survey.key).where(Survey.id == response.survey_id))
    columns = {column.key: getattr(response, column.key) for column in Response.__table__.columns}
    answers = stored_answers(session, response.id)
    return ResponseRead.model_validate({**columns, "survey": survey_key, "answers": answers, "duplicate": duplicate})


def get_response(session: Session, response_id: int) -> Response:
    """One response by id."""
    response = session.get(Response, response_id)
    if response is None:
        raise NotFound(f"no response {response_id}")
    return response


@dataclass
class ResponseFilter:
    """Which responses to list: survey, period, customer, range of the survey's main score."""

    survey_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    customer_ids: Sequence[int] | None = None
    min_score: int | None = None
    max_score: int | None = None
    complete_only: bool = True


def _filtered(session: Session, wanted: ResponseFilter) -> Select[Any]:
    query = select(Response)
    if wanted.survey_id is not None:
        query = query.where(Response.survey_id == wanted.survey_id)
    if wanted.since is not None:
        query = query.where(Response.completed_at >= wanted.since)
    if wanted.until is not None:
        query = query.where(Response.completed_at < wanted.until)
    if wanted.customer_ids is not None:
        query = query.where(Response.customer_id.in_(wanted.customer_ids))
    if wanted.complete_only:
        query = query.where(Response.status == ResponseStatus.complete)
    if wanted.min_score is not None or wanted.max_score is not None:
        query = query.where(Response.id.in_(_scored_between(wanted.min_score, wanted.max_score)))
    return query


def _main_question_ids() -> Select[Any]:
    """Each survey's first scored question."""
    first = (
        select(Question.survey_id, func.min(Question.position).label("position"))
        .where(Question.kind.in_(SCORED))
        .group_by(Question.survey_id)
        .subquery()
    )
    return select(Question.id).join(
        first, (first.c.survey_id == Question.survey_id) & (first.c.position == Question.position)
    )


def _scored_between(low: int | None, high: int | None) -> Select[Any]:
    query = select(Answer.response_id).where(Answer.question_id.in_(_main_question_ids()))
    if low is not None:
        query = query.where(Answer.score >= low)
    if high is not None:
        query = query.where(Answer.score <= high)
    return query


def list_responses(session: Session, wanted: ResponseFilter, *, limit: int, offset: int) -> Page[ResponseRead]:
    """One page of responses, newest first."""
    query = _filtered(session, wanted)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Response.completed_at.desc(), Response.id.desc()).limit(limit).offset(offset))
    items = [read_response(session, row) for row in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)
