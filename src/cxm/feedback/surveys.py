"""Creating, reading and opening/closing surveys."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cxm.core.db import utcnow
from cxm.core.errors import Conflict, NotFound
from cxm.feedback.models import Question, Response, Survey, SurveyStatus
from cxm.feedback.schemas import QuestionDef, QuestionRead, SurveyCreate, SurveyRead, SurveySummary


class SurveyClosed(Conflict):
    """The survey no longer (or not yet) takes answers."""

    code = "survey_closed"


def create_survey(session: Session, definition: SurveyCreate) -> Survey:
    """Store a new survey with its questions; its key must be new."""
    if session.scalar(select(Survey.id).where(Survey.key == definition.key)) is not None:
        raise Conflict(f"a survey with key '{definition.key}' exists", details={"key": definition.key})
    texts = {"title": definition.title, "thank_you": definition.thank_you}
    if definition.intro:
        texts["intro"] = definition.intro
    survey = Survey(
        key=definition.key,
        name=definition.name,
        status=definition.status,
        default_language=definition.default_language,
        languages=list(definition.languages),
        texts=texts,
    )
    session.add(survey)
    session.flush()
    session.add_all(_question(survey.id, position, q) for position, q in enumerate(definition.questions))
    session.flush()
    return survey


def _question(survey_id: int, position: int, definition: QuestionDef) -> Question:
    texts = {name: value for name in ("label", "help", "low", "high") if (value := getattr(definition, name))}
    return Question(
        survey_id=survey_id,
        key=definition.key,
        position=position,
        kind=definition.kind,
        required=definition.required,
        texts=texts,
        scale_min=definition.scale_min,
        scale_max=definition.scale_max,
        options=[option.model_dump() for option in definition.options],
        show_if=definition.show_if.model_dump() if definition.show_if else {},
    )


def get_survey(session: Session, reference: str | int) -> Survey:
    """A survey by key or id."""
    column = Survey.id if isinstance(reference, int) or str(reference).isdigit() else Survey.key
    value = int(reference) if column is Survey.id else reference
    survey = session.scalar(select(Survey).where(column == value))
    if survey is None:
        raise NotFound(f"no survey '{reference}'")
    return survey


def questions_of(session: Session, survey_id: int) -> list[Question]:
    """A survey's questions in order."""
    query = select(Question).where(Question.survey_id == survey_id).order_by(Question.position)
    return list(session.scalars(query))


def read_survey(session: Session, survey: Survey) -> SurveyRead:
    """A survey with its questions, as the API shows it."""
    questions = [QuestionRead.model_validate(q) for q in questions_of(session, survey.id)]
    return SurveyRead.model_validate({**_columns(survey), "questions": questions})


def _columns(survey: Survey) -> dict[str, object]:
    return {column.key: getattr(survey, column.key) for column in Survey.__table__.columns}


def list_surveys(session: Session) -> list[SurveySummary]:
    """Every survey with its number of responses, newest first."""
    counts = dict(session.execute(select(Response.survey_id, func.count()).group_by(Response.survey_id)).all())
    surveys: Sequence[Survey] = session.scalars(select(Survey).order_by(Survey.id.desc())).all()
    return [SurveySummary.model_validate({**_columns(s), "responses": counts.get(s.id, 0)}) for s in surveys]


def set_status(session: Session, survey: Survey, status: SurveyStatus) -> Survey:
    """Open or close a survey; a closed survey is not reopened to drafting."""
    if survey.status == SurveyStatus.closed and status == SurveyStatus.draft:
        raise Conflict("a closed survey cannot go back to draft")
    survey.status = status
    survey.closed_at = utcnow() if status == SurveyStatus.closed else None
    session.flush()
    return survey


def check_open(survey: Survey) -> None:
    """Raise SurveyClosed unless the survey takes answers."""
    if survey.status != SurveyStatus.active:
        raise SurveyClosed(f"survey '{survey.key}' is {survey.status} and takes no answers")


def definition_of(session: Session, survey: Survey) -> dict[str, object]:
    """A stored survey as the definition it was made from (for editing as YAML in the browser)."""
    questions = []
    for q in questions_of(session, survey.id):
        question: dict[str, object] = {"key": q.key, "kind": q.kind, "required": q.required, **q.texts}
        if q.kind == "rating":
            question |= {"scale_min": q.scale_min, "scale_max": q.scale_max}
        if q.options:
            question["options"] = q.options
        if q.show_if:
            question["show_if"] = q.show_if
        questions.append(question)
    head: dict[str, object] = {"key": survey.key, "name": survey.name, "status": survey.status}
    head |= {"default_language": survey.default_language, "languages": list(survey.languages)}
    return {**head, **survey.texts, "questions": questions}


def replace_draft(session: Session, survey: Survey, definition: SurveyCreate) -> Survey:
    """Change a draft survey's texts and questions (its key stays; a survey with responses is not changed)."""
    if survey.status != SurveyStatus.draft:
        raise Conflict("only a draft survey can be edited; close it and make a new one")
    if session.scalar(select(func.count()).where(Response.survey_id == survey.id)):
        raise Conflict("the survey already has responses")
    if definition.key != survey.key:
        raise Conflict("a survey's key cannot change")
    for question in questions_of(session, survey.id):
        session.delete(question)
    session.flush()
    texts = {"title": definition.title, "thank_you": definition.thank_you}
    survey.texts = texts | ({"intro": definition.intro} if definition.intro else {})
    survey.name, survey.status = definition.name, definition.status
    survey.default_language, survey.languages = definition.default_language, list(definition.languages)
    session.add_all(_question(survey.id, position, q) for position, q in enumerate(definition.questions))
    session.flush()
    return survey
