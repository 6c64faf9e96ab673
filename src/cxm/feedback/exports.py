"""Responses as a table: one row per response, one column per question."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxm.feedback.models import Answer, Question, Response, Survey
from cxm.feedback.responses import SCORED, ResponseFilter, _filtered

FIXED = ["response_id", "survey", "customer_id", "interaction_id", "external_id", "language", "channel", "status"]
TIMES = ["started_at", "completed_at"]


def responses_frame(session: Session, wanted: ResponseFilter) -> pd.DataFrame:
    """Responses matching the filter with their answers spread into columns (multi choice joined by `;`)."""
    responses = _filtered(session, wanted).subquery()
    head = session.execute(
        select(responses, Survey.key.label("survey")).join(Survey, Survey.id == responses.c.survey_id)
    ).mappings()
    rows = {row["id"]: _head(row) for row in head}
    for response_id, key, kind, score, choices, text in session.execute(_answers(list(rows))):
        rows[response_id][key] = _cell(kind, score, choices, text)
    frame = pd.DataFrame(list(rows.values()), columns=None if rows else FIXED + TIMES)
    return frame.sort_values("response_id", ignore_index=True) if rows else frame


def _head(row: Any) -> dict[str, Any]:
    values = {name: row[name] for name in FIXED[2:]}
    return {"response_id": row["id"], "survey": row["survey"], **values, **{t: row[t] for t in TIMES}}


def _answers(response_ids: list[int]) -> Any:
    return (
        select(Answer.response_id, Question.key, Question.kind, Answer.score, Answer.choices, Answer.text)
        .join(Question, Question.id == Answer.question_id)
        .where(Answer.response_id.in_(response_ids))
        .order_by(Question.position)
    )


def _cell(kind: str, score: int | None, choices: list[str] | None, text: str | None) -> Any:
    if kind in SCORED:
        return score
    if choices is not None:
        return ";".join(choices)
    return text


__all__ = ["Response", "responses_frame"]
