"""The public survey pages: /s/{survey} (public link) and /s/{survey}/{token} (personal link)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxm.core.auth import SessionDep
from cxm.core.errors import CxmError
from cxm.feedback.answering import (
    Visit,
    answerable_survey,
    chosen_step,
    customer_language,
    invitation_for,
    invitation_response,
    posted_answers,
    public_response,
    save_step,
    step_problems,
    visit_of,
)
from cxm.feedback.guards import (
    CSRF_COOKIE,
    RESPONSE_COOKIE,
    RESPONSE_MAX_AGE,
    SubmissionLimit,
    csrf_valid,
    page_secret,
    response_cookie,
    response_of_cookie,
)
from cxm.feedback.models import Survey
from cxm.feedback.steps import shown
from cxm.feedback.translations import best_language, page_language, ui_languages
from cxm.feedback.views import Page

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).parent / "static"
HONEYPOT = "homepage"
NOTICES = {"survey_closed": "closed", "invalid_link": "invalid_link", "invalid_input": "invalid"}
Fields = dict[str, list[str]]


async def form_fields(request: Request) -> Fields:
    """The posted form's text fields, each with all its values."""
    form = await request.form()
    return {name: [value for value in form.getlist(name) if isinstance(value, str)] for name in form}


FormFields = Annotated[Fields, Depends(form_fields)]


def install_pages(app: FastAPI) -> None:
    """Serve the survey pages and their stylesheet, with this process's submission limit."""
    app.state.survey_limit = SubmissionLimit(app.state.settings.survey_posts_per_minute)
    app.mount("/s/_static", StaticFiles(directory=STATIC), name="survey-static")
    app.include_router(router)


def _page(
    request: Request, session: Session, survey: Survey | None, lang: str | None, customer: str | None = None
) -> Page:
    languages, default = (list(survey.languages), survey.default_language) if survey else (ui_languages(), "en")
    accept = request.headers.get("accept-language")
    language = page_language(languages, default, chosen=lang, customer=customer, accept=accept)
    chosen = language if lang and best_language([lang], languages) else None
    secret = page_secret(session, request.app.state.settings)
    return Page(request, secret, language, languages, default, chosen)


def _answering(
    request: Request, session: Session, key: str, lang: str | None, flow: Callable[[], Response], token: str = ""
) -> Response:
    """Run a page's flow; a closed or unknown survey, a bad link or refused answers give a notice page."""
    try:
        return flow()
    except CxmError as error:
        survey = session.scalar(select(Survey).where(Survey.key == key))
        customer = _link_language(request, session, survey, token) if survey and token else None
        page = _page(request, session, survey, lang, customer)
        return page.notice(NOTICES.get(error.code, "not_found"), error.status_code, survey)


def _link_language(request: Request, session: Session, survey: Survey, token: str) -> str | None:
    """The language of a personal link's customer, when the link is valid."""
    try:
        invitation = invitation_for(session, survey, token, request.app.state.settings)
    except CxmError:
        return None
    return customer_language(session, invitation.customer_id)


def _refusal(page: Page, form: Fields, survey: Survey) -> Response | None:
    """A 429 page over the submission limit, a 403 page without a valid CSRF token."""
    request = page.request
    limit: SubmissionLimit = request.app.state.survey_limit
    if not limit.allow(request.client.host if request.client else "unknown"):
        return page.notice("busy", 429, survey)
    token = next(iter(form.get("csrf", [])), None)
    if not csrf_valid(page.secret, request.cookies.get(CSRF_COOKIE), token):
        return page.notice("expired", 403, survey)
    return None


def _number(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() and len(text) < 6 else None


def _take_step(session: Session, page: Page, visit: Visit, form: Fields, done: str) -> Response:
    """Check a posted step; show it again with the problems, or save it and go on (POST/redirect/GET)."""
    refused = _refusal(page, form, visit.survey)
    if refused is not None:
        return refused
    if any(form.get(HONEYPOT, [])):  # a bot: store nothing, answer like a success
        return page.thanks(visit.survey)
    index = chosen_step(visit, _number(next(iter(form.get("step", [])), None)))
    questions = shown(visit.steps[index], visit.answers)
    given = posted_answers(form, questions)
    back = form.get("action") == ["back"]
    problems = step_problems(questions, given, page.language, complete=not back)
    if problems:
        return page.step(visit, index, given=given, problems=problems)
    with session.begin_nested():
        following = save_step(session, visit, index, given, back=back)
    return RedirectResponse(done if following is None else page.url(step=following + 1), status_code=303)


@router.get("/s/{survey_key}/thanks")
def public_thanks(survey_key: str, request: Request, session: SessionDep, lang: str | None = None) -> Response:
    """The thank-you page after a public-link response."""

    def flow() -> Response:
        survey = answerable_survey(session, survey_key)
        return _page(request, session, survey, lang).thanks(survey)

    return _answering(request, session, survey_key, lang, flow)


def _public_visit(request: Request, session: Session, key: str, lang: str | None) -> tuple[Visit, Page]:
    survey = answerable_survey(session, key)
    page = _page(request, session, survey, lang)
    cookie = request.cookies.get(RESPONSE_COOKIE.format(survey_id=survey.id))
    visit = visit_of(session, survey, public_response(session, survey, response_of_cookie(page.secret, cookie)))
    visit.language = page.language
    return visit, page


@router.get("/s/{survey_key}")
def public_page(
    survey_key: str, request: Request, session: SessionDep, step: str | None = None, lang: str | None = None
) -> Response:
    """A survey anyone may answer; a browser continues its own partial response."""

    def flow() -> Response:
        visit, page = _public_visit(request, session, survey_key, lang)
        return page.step(visit, chosen_step(visit, _number(step)))

    return _answering(request, session, survey_key, lang, flow)


@router.post("/s/{survey_key}")
def public_submit(
    survey_key: str, request: Request, session: SessionDep, form: FormFields, lang: str | None = None
) -> Response:
    """Save a step of a public-link response; the last step submits it."""

    def flow() -> Response:
        visit, page = _public_visit(request, session, survey_key, lang)
        result = _take_step(session, page, visit, form, page.url(f"/s/{survey_key}/thanks"))
        if visit.response is not None:
            _keep_response(result, page, visit)
        return result

    return _answering(request, session, survey_key, lang, flow)


def _keep_response(result: Response, page: Page, visit: Visit) -> None:
    """Let the browser continue its partial response; forget it once submitted (a new visit answers anew)."""
    assert visit.response is not None
    name, path = RESPONSE_COOKIE.format(survey_id=visit.survey.id), f"/s/{visit.survey.key}"
    if visit.complete:
        result.delete_cookie(name, path=path)
        return
    value = response_cookie(page.secret, visit.response.id)
    secure = page.request.url.scheme == "https"
    result.set_cookie(name, value, max_age=RESPONSE_MAX_AGE, path=path, httponly=True, samesite="lax", secure=secure)


def _personal_visit(request: Request, session: Session, key: str, token: str, lang: str | None) -> tuple[Visit, Page]:
    survey = answerable_survey(session, key)
    invitation = invitation_for(session, survey, token, request.app.state.settings)
    page = _page(request, session, survey, lang, customer_language(session, invitation.customer_id))
    visit = visit_of(session, survey, invitation_response(session, invitation))
    visit.invitation, visit.language = invitation, page.language
    return visit, page


@router.get("/s/{survey_key}/{token}")
def personal_page(
    survey_key: str, token: str, request: Request, session: SessionDep, step: str | None = None, lang: str | None = None
) -> Response:
    """A personal link: one response per invitation, continued or edited until the survey closes."""

    def flow() -> Response:
        visit, page = _personal_visit(request, session, survey_key, token, lang)
        if visit.complete and step is None:
            return page.thanks(visit.survey, edit_url=page.url(step=chosen_step(visit, 1) + 1))
        return page.step(visit, chosen_step(visit, _number(step)))

    return _answering(request, session, survey_key, lang, flow, token)


@router.post("/s/{survey_key}/{token}")
def personal_submit(
    survey_key: str, token: str, request: Request, session: SessionDep, form: FormFields, lang: str | None = None
) -> Response:
    """Save a step of a personal-link response; the last step submits (or re-submits an edit)."""

    def flow() -> Response:
        visit, page = _personal_visit(request, session, survey_key, token, lang)
        return _take_step(session, page, visit, form, page.url())

    return _answering(request, session, survey_key, lang, flow, token)
