"""What protects the survey pages: CSRF tokens, the signed cookie of a public-link response, rate limits."""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque

from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from cxm.config import Settings
from cxm.core.instance import instance_secret

CSRF_COOKIE = "cxm_csrf"
CSRF_MAX_AGE = 24 * 3600
RESPONSE_COOKIE = "cxm_response_{survey_id}"
RESPONSE_MAX_AGE = 30 * 24 * 3600


def page_secret(session: Session, settings: Settings) -> str:
    """The secret that signs page tokens and cookies (the configured one, else one kept in the database)."""
    return settings.secret_key or instance_secret(session, "survey-pages")


def new_csrf_cookie() -> str:
    """A fresh random value for the CSRF cookie."""
    return secrets.token_urlsafe(24)


def csrf_token(secret: str, cookie: str) -> str:
    """The form token that goes with a CSRF cookie (a signed copy of it, valid for a day)."""
    return str(URLSafeTimedSerializer(secret, salt="cxm.survey-csrf").dumps(cookie))


def csrf_valid(secret: str, cookie: str | None, token: str | None) -> bool:
    """Whether a posted form token was made for this browser's CSRF cookie, within a day."""
    if not cookie or not token:
        return False
    try:
        signed = URLSafeTimedSerializer(secret, salt="cxm.survey-csrf").loads(token, max_age=CSRF_MAX_AGE)
    except BadSignature:
        return False
    return isinstance(signed, str) and secrets.compare_digest(signed, cookie)


def response_cookie(secret: str, response_id: int) -> str:
    """The signed cookie value that lets a public-link respondent continue their partial response."""
    return str(URLSafeSerializer(secret, salt="cxm.survey-response").dumps(response_id))


def response_of_cookie(secret: str, value: str | None) -> int | None:
    """The response id a cookie names; None when absent or tampered with."""
    if not value:
        return None
    try:
        response_id = URLSafeSerializer(secret, salt="cxm.survey-response").loads(value)
    except BadSignature:
        return None
    return response_id if isinstance(response_id, int) else None


class SubmissionLimit:
    """At most `limit` submissions per client address in a sliding window, counted in this process only."""

    def __init__(self, limit: int, window_seconds: float = 60.0) -> None:
        self.limit = limit
        self.window = window_seconds
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, client: str, now: float | None = None) -> bool:
        """Count one submission from `client`; False when it is over the limit."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._seen) > 10_000:
                self._forget_idle(now)
            times = self._seen.setdefault(client, deque())
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) >= self.limit:
                return False
            times.append(now)
            return True

    def _forget_idle(self, now: float) -> None:
        idle = [client for client, times in self._seen.items() if not times or times[-1] <= now - self.window]
        for client in idle:
            del self._seen[client]
