"""Storing many collected responses at once (imports, the demo, the widget): checked, deduplicated, in bulk."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from cxm.core.bulk import insert_rows, rows_matching, table_of
from cxm.core.db import utcnow
from cxm.core.errors import InvalidInput
from cxm.customers import service as customers_service
from cxm.feedback.answers import checked_answers
from cxm.feedback.comments import queue_comment_analysis
from cxm.feedback.models import Answer, Question, Response, ResponseStatus, Survey
from cxm.feedback.surveys import questions_of

SCORED = frozenset({"nps", "csat", "ces", "rating"})


@dataclass(slots=True)
class IncomingResponse:
    """One response to store: answers keyed by question, who gave them (identities or id), and how."""

    answers: dict[str, Any]
    keys: tuple[customers_service.Key, ...] = ()
    customer_id: int | None = None
    traits: dict[str, Any] = field(default_factory=dict)  # for a customer created from the identities
    external_id: str | None = None
    interaction_id: int | None = None
    language: str | None = None
    channel: str = "import"
    complete: bool = True
    # False when the caller already checked the questions it asked (the widget asks only some).
    enforce_required: bool = True
    started_at: datetime | None = None
    completed_at: datetime | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class StoreResult:
    """What a batch did: stored, already there (by external id), and why the others were refused."""

    stored: int = 0
    duplicates: int = 0
    problems: dict[int, str] = field(default_factory=dict)
    response_ids: list[int | None] = field(default_factory=list)


def store_responses(
    session: Session, survey: Survey, items: Sequence[IncomingResponse], *, actor: str, now: datetime | None = None
) -> StoreResult:
    """Store the valid items of a batch; an invalid one is listed in `problems` and not stored."""
    now = now or utcnow()
    questions = questions_of(session, survey.id)
    result = StoreResult(response_ids=[None] * len(items))
    kept = [_checked(questions, item, index, result) for index, item in enumerate(items)]
    customers_service.lock_resolution(session)  # before the duplicate check, as interactions do
    fresh = _fresh(session, items, kept, result)
    owners = _owners(session, [items[i] for i in fresh], actor, now)
    rows = [_response_row(survey, items[i], owner, now) for i, owner in zip(fresh, owners, strict=True)]
    ids = insert_rows(session, table_of(Response), rows)
    by_key = {question.key: question for question in questions}
    answers = [
        _answer_row(response_id, owner, by_key[key], value)
        for i, response_id, owner in zip(fresh, ids, owners, strict=True)
        for key, value in (kept[i] or {}).items()
    ]
    _insert_answers(session, answers)
    queue_comment_analysis(session, sorted({row["response_id"] for row in answers if row.get("text")}))
    for i, response_id in zip(fresh, ids, strict=True):
        result.response_ids[i] = response_id
    result.stored = len(fresh)
    return result


def _checked(
    questions: Sequence[Question], item: IncomingResponse, index: int, result: StoreResult
) -> dict[str, Any] | None:
    try:
        return checked_answers(questions, item.answers, complete=item.complete and item.enforce_required)
    except InvalidInput as error:
        result.problems[index] = "; ".join(f"{d['question']}: {d['reason']}" for d in error.details)
        return None


def _fresh(
    session: Session, items: Sequence[IncomingResponse], kept: list[dict[str, Any] | None], result: StoreResult
) -> list[int]:
    """Indexes of valid items whose external id is neither stored nor earlier in the batch."""
    wanted = [item.external_id for item in items if item.external_id is not None]
    column = Response.__table__.c.external_id
    known = {row[0] for row in rows_matching(session, table_of(Response), ["external_id"], column.name, wanted)}
    fresh = []
    for index, item in enumerate(items):
        if kept[index] is None:
            continue
        if item.external_id is not None and item.external_id in known:
            result.duplicates += 1
            continue
        if item.external_id is not None:
            known.add(item.external_id)
        fresh.append(index)
    return fresh


def _owners(session: Session, items: Sequence[IncomingResponse], actor: str, now: datetime) -> list[int | None]:
    """Each item's customer: resolved from its identities or id (created when new); None when anonymous."""
    known = [index for index, item in enumerate(items) if item.keys or item.customer_id is not None]
    claims = [
        customers_service.Claim(keys=items[i].keys, customer_id=items[i].customer_id, traits=items[i].traits)
        for i in known
    ]
    owners: list[int | None] = [None] * len(items)
    for index, owner in zip(known, customers_service.resolve(session, claims, actor=actor, now=now), strict=True):
        owners[index] = owner
    return owners


def _response_row(survey: Survey, item: IncomingResponse, owner: int | None, now: datetime) -> dict[str, Any]:
    started = item.started_at or item.completed_at or now
    return {
        "survey_id": survey.id,
        "customer_id": owner,
        "interaction_id": item.interaction_id,
        "invitation_id": None,
        "external_id": item.external_id,
        "language": item.language or survey.default_language,
        "channel": item.channel,
        "status": ResponseStatus.complete.value if item.complete else ResponseStatus.partial.value,
        "started_at": started,
        "completed_at": (item.completed_at or started) if item.complete else None,
        "updated_at": item.completed_at or started,
        "attributes": item.attributes,
    }


def _answer_row(response_id: int, owner: int | None, question: Question, value: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"response_id": response_id, "question_id": question.id, "customer_id": owner}
    if question.kind in SCORED:
        row["score"] = value
    elif question.kind in ("single_choice", "multi_choice"):
        row["choices"] = value if isinstance(value, list) else [value]
    else:
        row["text"] = value
    return row


def _insert_answers(session: Session, rows: list[dict[str, Any]]) -> None:
    # Grouped by the column filled: a None in the JSON `choices` column would be stored as JSON null.
    for column in ("score", "choices", "text"):
        group = [row for row in rows if column in row]
        if group:
            session.execute(insert(table_of(Answer)), group)
