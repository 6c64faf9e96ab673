"""The embedded web widget: what it shows of a survey, storing its answers, and signed visitor tokens."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeSerializer
from pydantic import Field, field_validator
from sqlalchemy.orm import Session

from cxm.config import Settings
from cxm.core.errors import InvalidInput
from cxm.core.instance import instance_secret
from cxm.core.schemas import Schema
from cxm.feedback.answers import checked_answers
from cxm.feedback.definitions import translated
from cxm.feedback.ingest import IncomingResponse, store_responses
from cxm.feedback.models import Question, Survey
from cxm.feedback.surveys import check_open, questions_of

ASKED_FIRST = ("nps", "csat", "ces", "rating", "single_choice", "multi_choice")
VISITOR_SALT = "cxm.widget-visitor"
# The widget's own words; the survey's texts come from its translations.
UI_TEXTS: dict[str, dict[str, str]] = {
    "en": {"send": "Send", "close": "Close", "sending": "Sending…", "error": "Sorry, that did not work. Try again."},
    "cs": {"send": "Odeslat", "close": "Zavřít", "sending": "Odesílám…", "error": "Nepodařilo se. Zkuste to znovu."},
    "pl": {"send": "Wyślij", "close": "Zamknij", "sending": "Wysyłanie…", "error": "Nie udało się. Spróbuj ponownie."},
    "hr": {"send": "Pošalji", "close": "Zatvori", "sending": "Šaljem…", "error": "Nije uspjelo. Pokušajte ponovno."},
    "ro": {"send": "Trimite", "close": "Închide", "sending": "Se trimite…", "error": "Nu a funcționat. Reîncercați."},
}


class WidgetAnswer(Schema):
    """What the widget posts: the answers to its questions, the page it was on, an optional visitor token."""

    answers: dict[str, int | str | list[str] | None]
    language: str | None = Field(default=None, max_length=16)
    page_url: str | None = Field(default=None, max_length=2000)
    token: str | None = Field(default=None, max_length=500)

    @field_validator("page_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("must be an http(s) address")
        return value


def language_of(survey: Survey, wanted: str | None) -> str:
    """The survey language closest to the one asked for (`cs`, `cs-CZ`), else its default."""
    for code in ((wanted or "").lower(), (wanted or "").lower().split("-")[0]):
        if code in survey.languages:
            return code
    return survey.default_language


def widget_questions(questions: Sequence[Question]) -> tuple[Question, Question | None]:
    """The question the widget asks, and the free-text follow-up it may ask after it."""
    first = next((q for q in questions if q.kind in ASKED_FIRST and not q.show_if), None)
    if first is None:
        raise InvalidInput("this survey has no score or choice question to show in a widget")
    later = questions[list(questions).index(first) + 1 :]
    follow = (q for q in later if q.kind == "text" and (not q.show_if or q.show_if.get("question") == first.key))
    return first, next(follow, None)


def widget_definition(session: Session, survey: Survey, wanted: str | None) -> dict[str, Any]:
    """What the widget shows, in one language: the survey's title, question, follow-up and its own words."""
    check_open(survey)
    language = language_of(survey, wanted)
    first, follow = widget_questions(questions_of(session, survey.id))
    text = _texts(language, survey.default_language)
    return {
        "survey": survey.key,
        "language": language,
        "title": text(survey.texts, "title"),
        "thank_you": text(survey.texts, "thank_you"),
        "question": _question(first, text),
        "follow_up": _question(follow, text) if follow else None,
        "ui": UI_TEXTS.get(language, UI_TEXTS["en"]),
    }


def _texts(language: str, fallback: str) -> Any:
    return lambda texts, name: translated(texts, name, language, fallback)


def _question(question: Question, text: Any) -> dict[str, Any]:
    return {
        "key": question.key,
        "kind": question.kind,
        "label": text(question.texts, "label"),
        "help": text(question.texts, "help"),
        "low": text(question.texts, "low"),
        "high": text(question.texts, "high"),
        "scale_min": question.scale_min,
        "scale_max": question.scale_max,
        "options": [{"value": o["value"], "label": text({"label": o["label"]}, "label")} for o in question.options],
        "show_if": question.show_if or None,
    }


def record_widget_answer(
    session: Session, survey: Survey, body: WidgetAnswer, *, origin: str, settings: Settings
) -> int:
    """Store a widget answer as a complete response (channel "widget"); its id. InvalidInput when it is wrong."""
    check_open(survey)
    questions = questions_of(session, survey.id)
    first, follow = widget_questions(questions)
    asked = [first, *([follow] if follow else [])]
    answers = checked_answers(asked, body.answers, complete=True)  # the widget's own question is required
    customer_id = visitor_of(session, body.token, settings) if body.token else None
    item = IncomingResponse(
        answers=answers,
        customer_id=customer_id,
        language=language_of(survey, body.language),
        channel="widget",
        enforce_required=False,  # the survey's other questions are not asked by the widget
        attributes={"origin": origin, **({"page_url": body.page_url} if body.page_url else {})},
    )
    result = store_responses(session, survey, [item], actor="widget")
    if result.problems:
        raise InvalidInput("some answers cannot be accepted", details=result.problems)
    return result.response_ids[0] or 0


def _signer(session: Session, settings: Settings) -> URLSafeSerializer:
    secret = settings.secret_key or instance_secret(session, "widget-visitors")
    return URLSafeSerializer(secret, salt=VISITOR_SALT)


def visitor_token(session: Session, customer_id: int, *, settings: Settings | None = None) -> str:
    """A signed token naming a known visitor, for the `data-token` attribute of the widget's script tag."""
    return str(_signer(session, settings or Settings()).dumps({"c": customer_id}))


def visitor_of(session: Session, token: str, settings: Settings) -> int:
    """The customer a visitor token names; InvalidInput when it was altered or not issued here."""
    try:
        data = _signer(session, settings).loads(token)
    except BadSignature:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("c"), int):
        raise InvalidInput("the visitor token is not valid", details=[{"field": "token", "reason": "not valid"}])
    return int(data["c"])
