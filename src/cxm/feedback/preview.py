"""Previewing a survey's pages for the people who design it: any step or the thank-you page, nothing stored."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from cxm.feedback.answering import Visit
from cxm.feedback.models import Survey
from cxm.feedback.steps import Step, steps_of
from cxm.feedback.surveys import questions_of
from cxm.feedback.translations import best_language
from cxm.feedback.views import Page

THANKS = "thanks"


def preview_page(
    request: Request, session: Session, survey: Survey, *, lang: str | None, step: str | None, back: str
) -> HTMLResponse:
    """A step (`step=N`) or the thank-you page (`step=thanks`) as a respondent sees it, marked as a preview."""
    steps = steps_of(questions_of(session, survey.id))
    language = (best_language([lang], survey.languages) if lang else None) or survey.default_language
    page = Page(request, "", language, list(survey.languages), survey.default_language, chosen=language)
    index = None if step == THANKS else _index(step, steps)
    page.preview = _navigation(page, len(steps), index, back)
    if index is None:
        return page.thanks(survey)
    return page.step(Visit(survey=survey, steps=steps, language=language), index)


def _index(step: str | None, steps: list[Step]) -> int:
    """The step asked for (1-based in the address), kept within the survey."""
    number = int(step) if step and step.isdigit() and len(step) < 4 else 1
    return min(max(number, 1), len(steps)) - 1


def _navigation(page: Page, steps: int, index: int | None, back: str) -> dict[str, Any]:
    """Links to every step and the thank-you page in this language, and back to the survey's own page."""
    return {
        "steps": [{"n": n, "url": page.url(step=n), "current": index == n - 1} for n in range(1, steps + 1)],
        "thanks": {"url": page.url(step=THANKS), "current": index is None},
        "back": back,
    }
