"""What protects the survey pages: CSRF tokens, the signed cookie of a public-link response, rate limits."""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from cxm.config import Settings
from cxm.core.guards import CSRF_MAX_AGE, SubmissionLimit, csrf_token, csrf_valid, new_csrf_cookie
from cxm.core.instance import instance_secret

__all__ = [
    "CSRF_COOKIE",
    "CSRF_MAX_AGE",
    "RESPONSE_COOKIE",
    "RESPONSE_MAX_AGE",
    "SubmissionLimit",
    "csrf_token",
    "csrf_valid",
    "new_csrf_cookie",
    "page_secret",
    "response_cookie",
    "response_of_cookie",
]

CSRF_COOKIE = "cxm_csrf"
RESPONSE_COOKIE = "cxm_response_{survey_id}"
RESPONSE_MAX_AGE = 30 * 24 * 3600


def page_secret(session: Session, settings: Settings) -> str:
    """The secret that signs page tokens and cookies (the configured one, else one kept in the database)."""
    return settings.secret_key or instance_secret(session, "survey-pages")


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
