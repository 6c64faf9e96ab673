"""Answering a survey through its pages: who answers, which step they see, and saving a step."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cxm.config import Settings
from cxm.core.db import utcnow
from cxm.core.errors import NotFound
from cxm.customers import service as customers_service
from cxm.feedback.answers import AnswerProblem, answer_value
from cxm.feedback.models import Invitation, Question, Response, ResponseStatus, Survey, SurveyStatus
from cxm.feedback.responses import Respondent, save_answers, start_response, stored_answers
from cxm.feedback.steps import Step, missing_step, next_step, previous_step, resume_step, shown, steps_of
from cxm.feedback.surveys import SurveyClosed, questions_of
from cxm.feedback.tokens import InvalidLink, invitation_of
from cxm.feedback.translations import problem_text, required_text

FIELD = "q:{key}"


class SurveyNotOpen(NotFound):
    """A draft survey: its pages do not exist yet for the public."""

    code = "survey_not_open"


@dataclass
class Visit:
    """One person on a survey's pages: the survey in steps, their response so far, the page language."""

    survey: Survey
    steps: list[Step]
    language: str = ""
    response: Response | None = None
    invitation: Invitation | None = None
    answers: dict[str, Any] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Whether the response was submitted (it may still be edited while the survey is open)."""
        return self.response is not None and self.response.status == ResponseStatus.complete


def answerable_survey(session: Session, key: str) -> Survey:
    """An active survey by its key; a draft or unknown one is not found, a closed one refuses."""
    survey = session.scalar(select(Survey).where(Survey.key == key))
    if survey is None or survey.status == SurveyStatus.draft:
        raise SurveyNotOpen(f"no open survey '{key}'")
    if survey.status != SurveyStatus.active:
        raise SurveyClosed(f"survey '{key}' is closed")
    return survey


def visit_of(session: Session, survey: Survey, response: Response | None) -> Visit:
    """A visit to a survey, continuing `response` when there is one."""
    answers = stored_answers(session, response.id) if response is not None else {}
    return Visit(survey=survey, steps=steps_of(questions_of(session, survey.id)), response=response, answers=answers)


def invitation_for(session: Session, survey: Survey, token: str, settings: Settings) -> Invitation:
    """The invitation a personal link's token names, for this survey; InvalidLink otherwise."""
    invitation = session.get(Invitation, invitation_of(session, token, settings=settings))
    if invitation is None or invitation.survey_id != survey.id:
        raise InvalidLink("this survey link is not valid")
    return invitation


def invitation_response(session: Session, invitation: Invitation) -> Response | None:
    """The one response bound to an invitation, if it was started."""
    return session.scalar(select(Response).where(Response.invitation_id == invitation.id))


def public_response(session: Session, survey: Survey, response_id: int | None) -> Response | None:
    """The partial public-link response a browser's cookie names, when it is still one to continue."""
    response = session.get(Response, response_id) if response_id is not None else None
    if response is None or response.survey_id != survey.id or response.invitation_id is not None:
        return None
    return response if response.status == ResponseStatus.partial else None


def customer_language(session: Session, customer_id: int) -> str | None:
    """The language on a customer's profile."""
    return customers_service.read_customer(session, customer_id).language


def chosen_step(visit: Visit, wanted: int | None) -> int:
    """The step to show: the one asked for (1-based) when it may be shown yet, else where the person was."""
    resume = resume_step(visit.steps, visit.answers)
    if wanted is None or not 1 <= wanted <= len(visit.steps):
        return resume
    index = wanted - 1
    allowed = visit.complete or index <= resume
    return index if allowed and shown(visit.steps[index], visit.answers) else resume


def posted_answers(form: Mapping[str, list[str]], questions: Sequence[Question]) -> dict[str, Any]:
    """The answers a step's form carries (None for a question left empty, so a cleared answer is cleared)."""
    given: dict[str, Any] = {}
    for question in questions:
        name = FIELD.format(key=question.key)
        if question.kind == "multi_choice":
            given[question.key] = list(form.get(name) or []) or None
        else:
            given[question.key] = next(iter(form.get(name) or []), None)
    return given


def step_problems(
    questions: Sequence[Question], given: Mapping[str, Any], language: str, *, complete: bool
) -> dict[str, str]:
    """What is wrong with a step's answers, by question, in the page's language."""
    problems: dict[str, str] = {}
    for question in questions:
        try:
            value = answer_value(question, given.get(question.key))
        except AnswerProblem as problem:
            problems[question.key] = problem_text(problem, language)
            continue
        if value is None and question.required and complete:
            problems[question.key] = required_text(language)
    return problems


def save_step(session: Session, visit: Visit, index: int, given: dict[str, Any], *, back: bool) -> int | None:
    """Save a step's answers; the step to show next, or None when this step submitted the response."""
    response = visit.response or _start(session, visit)
    response.language = visit.language
    visit.answers = save_answers(session, response, given, complete=False)
    if back:
        earlier = previous_step(visit.steps, visit.answers, index)
        return index if earlier is None else earlier
    following = next_step(visit.steps, visit.answers, index)
    if following is None:
        following = missing_step(visit.steps, visit.answers)
    if following is None:
        _submit(session, visit, response)
    return following


def _start(session: Session, visit: Visit) -> Response:
    invitation = visit.invitation
    if invitation is None:
        visit.response = start_response(session, visit.survey, Respondent(language=visit.language, channel="link"))
        return visit.response
    who = Respondent(
        customer_id=invitation.customer_id,
        interaction_id=invitation.interaction_id,
        invitation_id=invitation.id,
        language=visit.language,
        channel=invitation.channel,
    )
    try:
        with session.begin_nested():
            visit.response = start_response(session, visit.survey, who)
    except IntegrityError:  # the same link submitted twice at once: the other request made the response
        visit.response = invitation_response(session, invitation)
        if visit.response is None:
            raise
    return visit.response


def _submit(session: Session, visit: Visit, response: Response) -> None:
    save_answers(session, response, {}, complete=True)
    invitation = visit.invitation
    if invitation is not None and invitation.answered_at is None:
        invitation.answered_at = utcnow()
        invitation.status = "answered"
    session.flush()
