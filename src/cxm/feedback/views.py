"""Rendering the survey pages: steps, thank-you and notice pages, in the page's language, with their cookies."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from babel import Locale
from fastapi import Request
from fastapi.responses import HTMLResponse

from cxm.feedback.answering import FIELD, Visit
from cxm.feedback.definitions import translated
from cxm.feedback.guards import CSRF_COOKIE, csrf_token, new_csrf_cookie
from cxm.feedback.models import Question, Survey
from cxm.feedback.steps import progress, shown
from cxm.feedback.translations import environment

HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def language_name(code: str) -> str:
    """A language's name in that language ('čeština'), capitalised for a menu."""
    name = Locale.parse(code.replace("-", "_")).get_display_name(code.replace("-", "_")) or code
    return name[:1].upper() + name[1:]


def _form_value(value: Any) -> str | list[str]:
    if value is None:
        return ""
    return [str(item) for item in value] if isinstance(value, list) else str(value)


@dataclass
class Page:
    """One page request: its language, its address and the CSRF cookie the form goes with."""

    request: Request
    secret: str
    language: str
    languages: list[str]
    default_language: str
    chosen: str | None = None
    csrf_cookie: str = field(default="")
    # A designer's preview: every question of a step shown, no CSRF cookie, a form that submits nowhere.
    preview: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        self._new_cookie = not self.request.cookies.get(CSRF_COOKIE)
        self.csrf_cookie = self.request.cookies.get(CSRF_COOKIE) or new_csrf_cookie()

    def url(self, path: str | None = None, **query: Any) -> str:
        """An address on these pages, keeping a chosen language."""
        values = {"lang": self.chosen, **query}
        params = {name: value for name, value in values.items() if value is not None}
        return (path or self.request.url.path) + (f"?{urlencode(params)}" if params else "")

    def text(self, texts: Mapping[str, Any], name: str) -> str | None:
        """One of the survey's own texts in the page language."""
        return translated(texts, name, self.language, self.default_language)

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        """A page of the given template, with the language switch, a CSRF token and safe headers."""
        csrf = "" if self.preview else csrf_token(self.secret, self.csrf_cookie)
        html = (
            environment(self.language)
            .get_template(template)
            .render(lang=self.language, csrf=csrf, preview=self.preview, **context)
        )
        response = HTMLResponse(html, status_code=status, headers=HEADERS)
        if self._new_cookie and not self.preview:
            secure = self.request.url.scheme == "https"
            response.set_cookie(CSRF_COOKIE, self.csrf_cookie, path="/s/", httponly=True, samesite="lax", secure=secure)
        return response

    def switch(self, **query: Any) -> list[dict[str, Any]]:
        """The links to this page in the survey's other languages."""
        return [
            {
                "code": code,
                "name": language_name(code),
                "url": self.url(lang=code, **query),
                "current": code == self.language,
            }
            for code in self.languages
        ]

    def notice(self, kind: str, status: int, survey: Survey | None = None) -> HTMLResponse:
        """A page that says why the survey cannot be answered here (closed, not found, expired form, ...)."""
        title = self.text(survey.texts, "title") if survey is not None else None
        return self.render("notice.html", status, kind=kind, title=title, languages=self.switch())

    def thanks(self, survey: Survey, edit_url: str | None = None) -> HTMLResponse:
        """The survey's thank-you page; a personal link may go back and change its answers."""
        return self.render(
            "thanks.html",
            title=self.text(survey.texts, "title"),
            thank_you=self.text(survey.texts, "thank_you"),
            edit_url=edit_url,
            languages=self.switch(),
        )

    def step(
        self,
        visit: Visit,
        index: int,
        *,
        given: Mapping[str, Any] | None = None,
        problems: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        """One step of the survey's form, filled with the answers so far (or as posted, with problems)."""
        values = {**visit.answers, **(given or {})}
        asked = visit.steps[index] if self.preview else shown(visit.steps[index], visit.answers)
        questions = [self.question(q, values.get(q.key), (problems or {}).get(q.key)) for q in asked]
        position, total = (index + 1, len(visit.steps)) if self.preview else progress(visit.steps, visit.answers, index)
        return self.render(
            "step.html",
            422 if problems else 200,
            title=self.text(visit.survey.texts, "title"),
            intro=self.text(visit.survey.texts, "intro") if position == 1 else None,
            position=position,
            total=total,
            questions=questions,
            problems=bool(problems),
            step=index + 1,
            action=self.url(),
            back=position > 1,
            last=position == total,
            languages=self.switch(step=index + 1),
        )

    def question(self, question: Question, value: Any, problem: str | None) -> dict[str, Any]:
        """What the template needs to show one question."""
        ident = f"q-{question.key}"
        scale = [str(point) for point in range(question.scale_min or 0, (question.scale_max or 0) + 1)]
        options = [(str(option["value"]), self.text(option, "label")) for option in question.options]
        view = {
            "key": question.key,
            "id": ident,
            "name": FIELD.format(key=question.key),
            "kind": question.kind,
            "required": question.required,
            "label": self.text(question.texts, "label"),
            "help": self.text(question.texts, "help"),
            "low": self.text(question.texts, "low"),
            "high": self.text(question.texts, "high"),
            "scale": scale if question.kind in ("nps", "csat", "ces", "rating") else [],
            "options": options,
            "value": _form_value(value),
            "error": problem,
        }
        parts = {"help": view["help"], "error": problem, "anchors": view["scale"] and (view["low"] or view["high"])}
        view["described_by"] = " ".join(f"{ident}-{name}" for name, present in parts.items() if present)
        return view
