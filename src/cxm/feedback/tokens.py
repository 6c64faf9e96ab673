"""Personal survey links: signed, unguessable tokens that name one invitation."""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from cxm.config import Settings
from cxm.core.errors import NotFound
from cxm.core.instance import instance_secret

SALT = "cxm.survey-invitation"


class InvalidLink(NotFound):
    """The link was altered, or was never issued by this installation."""

    code = "invalid_link"


def _signer(session: Session, settings: Settings) -> URLSafeSerializer:
    secret = settings.secret_key or instance_secret(session, "survey-links")
    return URLSafeSerializer(secret, salt=SALT)


def invitation_token(session: Session, invitation_id: int, *, settings: Settings | None = None) -> str:
    """The token of an invitation's personal link."""
    return str(_signer(session, settings or Settings()).dumps({"i": invitation_id}))


def invitation_of(session: Session, token: str, *, settings: Settings | None = None) -> int:
    """The invitation id a token names; InvalidLink when it was tampered with."""
    try:
        data = _signer(session, settings or Settings()).loads(token)
    except BadSignature:
        raise InvalidLink("this survey link is not valid") from None
    if not isinstance(data, dict) or not isinstance(data.get("i"), int):
        raise InvalidLink("this survey link is not valid")
    return int(data["i"])


def personal_link(session: Session, survey_key: str, invitation_id: int, *, settings: Settings | None = None) -> str:
    """The full personal link of an invitation, on this installation's public address."""
    settings = settings or Settings()
    token = invitation_token(session, invitation_id, settings=settings)
    return f"{settings.public_url.rstrip('/')}/s/{survey_key}/{token}"
