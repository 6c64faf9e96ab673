"""Surveys: list, create and edit (YAML definition in the browser), triggers, preview, activate and close."""

from __future__ import annotations

from typing import Annotated

import yaml
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from cxm.core.auth import Permission, Principal, SessionDep, SignedForm, require_form, require_user
from cxm.core.errors import CxmError, InvalidInput
from cxm.customers import service as customers_service
from cxm.feedback import service as feedback_service
from cxm.feedback.schemas import SurveyCreate, TriggerCreate
from cxm.web.rendering import render

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Principal, Depends(require_user(Permission.read))]
DesignerPage = Annotated[Principal, Depends(require_user(Permission.design))]
DesignForm = Annotated[SignedForm, Depends(require_form(Permission.design))]
STATUSES = {"activate": feedback_service.SurveyStatus.active, "close": feedback_service.SurveyStatus.closed}


@router.get("/surveys")
def survey_list(request: Request, user: Viewer, session: SessionDep) -> Response:
    """Every survey with its status and responses."""
    surveys = feedback_service.list_surveys(session)
    templates = feedback_service.template_names()
    may_design = user.can(Permission.design)
    return render(
        request, user, "surveys.html", title="Surveys", surveys=surveys, templates=templates, may_design=may_design
    )


def _template_text(name: str | None) -> str:
    if not name:
        return ""
    definition = feedback_service.load_template(name).model_dump(mode="json", exclude_none=True)
    definition |= {"key": f"{definition['key']}-copy", "status": "draft"}
    return yaml.safe_dump(definition, allow_unicode=True, sort_keys=False)


@router.get("/surveys/new")
def new_survey(request: Request, user: DesignerPage, template: str | None = None) -> Response:
    """A form for a new survey's definition (YAML or JSON), started from a template when one is picked."""
    return render(
        request,
        user,
        "survey_edit.html",
        title="New survey",
        text=_template_text(template),
        action="/surveys/new",
        survey=None,
        problem=None,
    )


def _definition(text: str) -> SurveyCreate:
    try:
        return feedback_service.definition_from_text(text, "the form")
    except ValidationError as error:
        raise InvalidInput(f"the definition is not valid: {error.errors()[0]['msg']}") from None


def _edit_again(request: Request, posted: SignedForm, action: str, error: CxmError, survey: object = None) -> Response:
    return render(
        request,
        posted.principal,
        "survey_edit.html",
        422,
        title="Survey",
        text=posted.get("definition"),
        action=action,
        survey=survey,
        problem=error.message,
    )


@router.post("/surveys/new")
def create_survey(request: Request, session: SessionDep, posted: DesignForm) -> Response:
    """Store a new survey from its definition; problems are shown with the text kept."""
    try:
        with session.begin_nested():
            survey = feedback_service.create_survey(session, _definition(posted.get("definition")))
    except CxmError as error:
        return _edit_again(request, posted, "/surveys/new", error)
    return RedirectResponse(f"/surveys/{survey.key}", status_code=303)


def _survey_page(
    request: Request, user: Principal, session: SessionDep, key: str, problem: str | None = None
) -> Response:
    survey = feedback_service.get_survey(session, key)
    return render(
        request,
        user,
        "survey.html",
        422 if problem else 200,
        title=survey.name,
        survey=feedback_service.read_survey(session, survey),
        triggers=feedback_service.list_triggers(session, survey),
        invitations=feedback_service.list_invitations(session, survey, status=None, limit=10, offset=0),
        may_design=user.can(Permission.design),
        problem=problem,
    )


@router.get("/surveys/{key}")
def survey_detail(request: Request, key: str, user: Viewer, session: SessionDep) -> Response:
    """A survey's questions in every language, its distribution (triggers, invitations), and its status actions."""
    return _survey_page(request, user, session, key)


@router.get("/surveys/{key}/preview")
def preview_survey(
    request: Request, key: str, user: Viewer, session: SessionDep, lang: str | None = None, step: str | None = None
) -> Response:
    """The survey's public page as a respondent sees it (any status, any of its languages); nothing is stored."""
    survey = feedback_service.get_survey(session, key)
    return feedback_service.preview_page(request, session, survey, lang=lang, step=step, back=f"/surveys/{key}")


@router.get("/surveys/{key}/edit")
def edit_survey(request: Request, key: str, user: DesignerPage, session: SessionDep) -> Response:
    """A draft survey's definition as YAML, to change."""
    survey = feedback_service.get_survey(session, key)
    text = yaml.safe_dump(feedback_service.definition_of(session, survey), allow_unicode=True, sort_keys=False)
    return render(
        request,
        user,
        "survey_edit.html",
        title=survey.name,
        text=text,
        action=f"/surveys/{key}/edit",
        survey=survey,
        problem=None,
    )


@router.post("/surveys/{key}/edit")
def save_survey(request: Request, key: str, session: SessionDep, posted: DesignForm) -> Response:
    """Replace a draft survey's definition."""
    survey = feedback_service.get_survey(session, key)
    try:
        with session.begin_nested():
            feedback_service.replace_draft(session, survey, _definition(posted.get("definition")))
    except CxmError as error:
        return _edit_again(request, posted, f"/surveys/{key}/edit", error, survey)
    return RedirectResponse(f"/surveys/{key}", status_code=303)


@router.post("/surveys/{key}/status")
def change_status(key: str, session: SessionDep, posted: DesignForm) -> Response:
    """Activate a draft or close a survey."""
    wanted = STATUSES.get(posted.get("action"))
    if wanted is None:
        raise InvalidInput("choose activate or close")
    feedback_service.set_status(session, feedback_service.get_survey(session, key), wanted)
    return RedirectResponse(f"/surveys/{key}", status_code=303)


def _trigger(posted: SignedForm) -> TriggerCreate:
    fields = {name: posted.get(name).strip() for name in ("interaction_type", "channel", "journey_stage")}
    numbers = {name: posted.get(name).strip() for name in ("delay_minutes", "sample_percent", "cap_days")}
    try:
        return TriggerCreate.model_validate(
            {k: v for k, v in fields.items() if v} | {k: int(v) for k, v in numbers.items() if v}
        )
    except (ValidationError, ValueError) as error:
        raise InvalidInput(f"the trigger is not valid: {error}") from None


@router.post("/surveys/{key}/triggers")
def add_trigger(request: Request, key: str, session: SessionDep, posted: DesignForm) -> Response:
    """Invite the customers of matching interactions to this survey; a refused trigger is explained on the page."""
    try:
        with session.begin_nested():
            feedback_service.create_trigger(session, feedback_service.get_survey(session, key), _trigger(posted))
    except InvalidInput as error:
        return _survey_page(request, posted.principal, session, key, error.message)
    return RedirectResponse(f"/surveys/{key}", status_code=303)


@router.post("/surveys/{key}/triggers/{trigger_id}/stop")
def stop_trigger(key: str, trigger_id: int, session: SessionDep, posted: DesignForm) -> Response:
    """Stop a trigger (kept, inactive, so its invitations still name it)."""
    feedback_service.stop_trigger(session, feedback_service.get_survey(session, key), trigger_id)
    return RedirectResponse(f"/surveys/{key}", status_code=303)


@router.post("/surveys/{key}/invitations")
def add_invitation(request: Request, key: str, session: SessionDep, posted: DesignForm) -> Response:
    """Invite one known customer (by an identity such as email:ann@example.com) by e-mail or personal link."""
    channel = posted.get("channel") if posted.get("channel") in ("email", "link") else "email"
    try:
        with session.begin_nested():
            customer = customers_service.find_by_identity(session, posted.get("identity").strip())
            survey = feedback_service.get_survey(session, key)
            feedback_service.invite(session, survey, feedback_service.Invitee(customer_id=customer.id, channel=channel))
    except CxmError as error:
        return _survey_page(request, posted.principal, session, key, error.message)
    return RedirectResponse(f"/surveys/{key}", status_code=303)
