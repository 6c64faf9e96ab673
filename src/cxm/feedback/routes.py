"""/api/v1/surveys and /api/v1/responses."""

from __future__ import annotations

import io
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime

from cxm.core.auth import Designer, Reader, SessionDep, Writer
from cxm.core.schemas import Page
from cxm.customers import service as customers_service
from cxm.feedback import service
from cxm.feedback.schemas import ResponseIn, ResponseRead, SurveyCreate, SurveyRead, SurveyStatusChange, SurveySummary

router = APIRouter(tags=["feedback"])
Limit = Annotated[int, Query(ge=1, le=500)]


@router.post("/surveys", response_model=SurveyRead, status_code=201)
def create_survey(body: SurveyCreate, session: SessionDep, _: Designer) -> SurveyRead:
    """Define a survey: questions, display logic and texts per language."""
    return service.read_survey(session, service.create_survey(session, body))


@router.post("/surveys/from-template/{name}", response_model=SurveyRead, status_code=201)
def create_from_template(name: str, session: SessionDep, _: Designer) -> SurveyRead:
    """Create a built-in template survey (relationship-nps, purchase-csat, support-ces)."""
    return service.read_survey(session, service.create_survey(session, service.load_template(name)))


@router.get("/surveys", response_model=list[SurveySummary])
def list_surveys(session: SessionDep, _: Reader) -> list[SurveySummary]:
    """Every survey with its number of responses."""
    return service.list_surveys(session)


@router.get("/surveys/{survey}", response_model=SurveyRead)
def get_survey(survey: str, session: SessionDep, _: Reader) -> SurveyRead:
    """One survey (by key or id) with its questions."""
    return service.read_survey(session, service.get_survey(session, survey))


@router.post("/surveys/{survey}/status", response_model=SurveyRead)
def change_status(survey: str, body: SurveyStatusChange, session: SessionDep, _: Designer) -> SurveyRead:
    """Activate or close a survey."""
    found = service.set_status(session, service.get_survey(session, survey), body.status)
    return service.read_survey(session, found)


@router.post("/responses", response_model=ResponseRead, status_code=201)
def create_response(body: ResponseIn, session: SessionDep, who: Writer, response: Response) -> ResponseRead:
    """Store a response collected by another tool; a re-sent `external_id` answers 200 with the stored one."""
    survey = service.get_survey(session, body.survey)
    customer_id = _customer(session, body, who.actor)
    respondent = service.Respondent(
        customer_id=customer_id,
        interaction_id=body.interaction_id,
        external_id=body.external_id,
        language=body.language,
        channel=body.channel,
        attributes=body.attributes,
    )
    times = {"started_at": body.started_at, "completed_at": body.completed_at}
    stored, duplicate = service.record_response(session, survey, body.answers, respondent, **times)
    response.status_code = 200 if duplicate else 201
    return service.read_response(session, stored, duplicate=duplicate)


def _customer(session: SessionDep, body: ResponseIn, actor: str) -> int | None:
    if not body.identities and body.customer_id is None:
        return None
    claim = customers_service.Claim(keys=tuple(sorted(body.identities.items())), customer_id=body.customer_id)
    [owner] = customers_service.resolve(session, [claim], actor=actor)
    return owner


def _filter(
    session: SessionDep,
    survey: str | None,
    since: AwareDatetime | None,
    until: AwareDatetime | None,
    customer_id: int | None,
    scores: tuple[int | None, int | None],
) -> service.ResponseFilter:
    return service.ResponseFilter(
        survey_id=service.get_survey(session, survey).id if survey else None,
        since=since,
        until=until,
        customer_ids=customers_service.cluster(session, customer_id) if customer_id is not None else None,
        min_score=scores[0],
        max_score=scores[1],
    )


@router.get("/responses", response_model=Page[ResponseRead])
def list_responses(
    session: SessionDep,
    _: Reader,
    survey: str | None = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    customer_id: int | None = None,
    min_score: int | None = None,
    max_score: int | None = None,
    limit: Limit = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[ResponseRead]:
    """Completed responses, newest first; `min_score`/`max_score` filter on the survey's main score."""
    wanted = _filter(session, survey, since, until, customer_id, (min_score, max_score))
    return service.list_responses(session, wanted, limit=limit, offset=offset)


@router.get("/responses/export")
def export_responses(
    session: SessionDep,
    _: Reader,
    survey: str | None = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    format: Literal["csv", "parquet"] = "csv",
) -> Response:
    """Responses as CSV or Parquet: one row per response, one column per question."""
    frame = service.responses_frame(session, _filter(session, survey, since, until, None, (None, None)))
    if format == "csv":
        return Response(frame.to_csv(index=False), media_type="text/csv; charset=utf-8", headers=_attachment("csv"))
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return Response(buffer.getvalue(), media_type="application/vnd.apache.parquet", headers=_attachment("parquet"))


def _attachment(suffix: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="responses.{suffix}"'}


@router.get("/responses/{response_id}", response_model=ResponseRead)
def get_response(response_id: int, session: SessionDep, _: Reader) -> ResponseRead:
    """One response with its answers."""
    return service.read_response(session, service.get_response(session, response_id))
