"""The web widget's public endpoints: its script, a survey's widget definition, and answers from allowed sites.

CORS is limited to `Settings.widget_origins`: a request from another site's page is refused (403) and stores
nothing. These routes are public (no API key), so answers are strictly checked and limited per IP address.
"""

from __future__ import annotations

import time
from collections import deque
from importlib import resources
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from cxm.config import Settings
from cxm.core.errors import CxmError, Forbidden, InvalidInput
from cxm.feedback.embedded import WidgetAnswer, record_widget_answer, widget_definition
from cxm.feedback.surveys import get_survey

router = APIRouter(include_in_schema=False)
SCRIPT = resources.files("cxm.feedback") / "static" / "widget.js"
ANSWERS_PER_WINDOW = 20
WINDOW_SECONDS = 600.0


class OriginNotAllowed(Forbidden):
    """The page is on a site that may not embed the widget."""

    code = "origin_not_allowed"


class TooManyAnswers(CxmError):
    """Too many widget answers from one address in a short time."""

    status_code = 429
    code = "rate_limited"


class AnswerLimit:
    """At most `limit` answers per address in a sliding window (per server process)."""

    def __init__(self, limit: int = ANSWERS_PER_WINDOW, window: float = WINDOW_SECONDS) -> None:
        self.limit, self.window = limit, window
        self.seen: dict[str, deque[float]] = {}

    def check(self, address: str) -> None:
        """Count one answer from `address`; TooManyAnswers past the limit."""
        now = time.monotonic()
        recent = self.seen.setdefault(address, deque())
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        if len(recent) >= self.limit:
            raise TooManyAnswers("too many answers from this address; try again later")
        recent.append(now)
        if len(self.seen) > 100_000:  # forget idle addresses rather than grow without bound
            self.seen = {a: q for a, q in self.seen.items() if q and q[-1] > now - self.window}


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _allowed_origin(request: Request, *, required: bool) -> str | None:
    """The request's Origin when it is an allowed site; OriginNotAllowed for any other (or none, if required)."""
    origin = request.headers.get("origin")
    allowed = {site.rstrip("/") for site in _settings(request).widget_origins}
    if origin is None and not required:
        return None
    if origin is None or origin.rstrip("/") not in allowed:
        raise OriginNotAllowed(f"this site ({origin or 'unknown'}) may not embed the survey widget")
    return origin


def _cors(origin: str | None) -> dict[str, str]:
    headers = {"Vary": "Origin"}
    if origin is not None:
        headers["Access-Control-Allow-Origin"] = origin
    return headers


def _error(error: CxmError, origin: str | None) -> JSONResponse:
    # An allowed page must be able to read why its answer was refused, so errors carry the CORS headers too.
    return JSONResponse(error.to_dict(), status_code=error.status_code, headers=_cors(origin))


@router.get("/s/widget.js")
def widget_script() -> Response:
    """The widget's script (plain JavaScript, no dependencies)."""
    headers = {"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"}
    return Response(SCRIPT.read_bytes(), media_type="text/javascript; charset=utf-8", headers=headers)


@router.get("/s/{survey}/widget.json")
def widget_json(survey: str, request: Request, lang: str | None = None) -> JSONResponse:
    """A survey's first question, follow-up and texts in one language, for the widget."""
    origin = None
    try:
        origin = _allowed_origin(request, required=False)
        with request.app.state.reader() as session, session.begin():
            body = widget_definition(session, get_survey(session, survey), lang)
    except CxmError as error:
        return _error(error, origin)
    return JSONResponse(body, headers=_cors(origin))


@router.options("/s/{survey}/widget")
def widget_preflight(survey: str, request: Request) -> Response:
    """The browser's CORS preflight before an answer is posted."""
    try:
        origin = _allowed_origin(request, required=True)
    except CxmError as error:
        return _error(error, None)
    headers = {
        **_cors(origin),
        "Access-Control-Allow-Methods": "POST",
        "Access-Control-Allow-Headers": "Content-Type",
        "Access-Control-Max-Age": "600",
    }
    return Response(status_code=204, headers=headers)


@router.post("/s/{survey}/widget")
async def widget_answer(survey: str, request: Request) -> JSONResponse:
    """Store an answer posted by the widget on an allowed site (201 with the response id)."""
    origin = None
    try:
        origin = _allowed_origin(request, required=True)
        _limit(request).check(request.client.host if request.client else "unknown")
        body = _parsed(await request.body())
        response_id = await run_in_threadpool(_store, request, survey, body, origin or "")
    except CxmError as error:
        return _error(error, origin)
    return JSONResponse({"id": response_id}, status_code=201, headers=_cors(origin))


def _limit(request: Request) -> AnswerLimit:
    state = request.app.state
    if not hasattr(state, "widget_limit"):
        state.widget_limit = AnswerLimit()
    limit: AnswerLimit = state.widget_limit
    return limit


def _parsed(raw: bytes) -> WidgetAnswer:
    try:
        return WidgetAnswer.model_validate_json(raw)
    except ValidationError as error:
        details: list[dict[str, Any]] = [
            {"field": ".".join(map(str, e["loc"])) or None, "message": e["msg"]} for e in error.errors()
        ]
        raise InvalidInput(f"{len(details)} invalid field(s)", details=details) from None


def _store(request: Request, survey: str, body: WidgetAnswer, origin: str) -> int:
    with request.app.state.sessionmaker() as session, session.begin():
        found = get_survey(session, survey)
        return record_widget_answer(session, found, body, origin=origin, settings=_settings(request))
