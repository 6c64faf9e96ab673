"""Create, revoke and check API keys."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxm.access.models import ApiKey
from cxm.access.users import (
    LOCALES,
    NewSession,
    authenticate_session,
    create_user,
    deactivate_user,
    find_user,
    forget_expired_sessions,
    list_users,
    set_locale,
    set_password,
    set_role,
    sign_in,
    sign_out,
)
from cxm.core.auth import Principal, Role
from cxm.core.db import utcnow
from cxm.core.errors import InvalidInput, NotFound

KEY_PREFIX = "cxm_"


@dataclass(frozen=True)
class NewApiKey:
    """A key as created: the secret is shown this once and never stored."""

    id: int
    name: str
    role: Role
    secret: str


def _digest(secret: str) -> str:
    # Keys are 256 random bits, so a fast hash is safe; a slow KDF would only slow every request.
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(session: Session, *, name: str, role: str) -> NewApiKey:
    """Create a key for `role` and return its secret once."""
    try:
        parsed = Role(role)
    except ValueError:
        raise InvalidInput(f"unknown role '{role}'", details={"allowed": [r.value for r in Role]}) from None
    if not name.strip():
        raise InvalidInput("an API key needs a name")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(name=name.strip(), role=parsed.value, prefix=secret[:10], digest=_digest(secret))
    session.add(key)
    session.flush()
    return NewApiKey(id=key.id, name=key.name, role=parsed, secret=secret)


def revoke_api_key(session: Session, *, key_id: int) -> None:
    """Revoke a key so it no longer authenticates."""
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"no API key {key_id}")
    key.revoked_at = utcnow()


def authenticate(session: Session, token: str) -> Principal | None:
    """The principal a bearer token stands for, or None."""
    key = session.scalar(select(ApiKey).where(ApiKey.digest == _digest(token)))
    if key is None or key.revoked_at is not None:
        return None
    return Principal(name=key.name, role=Role(key.role))


def list_api_keys(session: Session) -> list[ApiKey]:
    """All keys, newest first (secrets are never available)."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id.desc())))


__all__ = [
    "LOCALES",
    "NewApiKey",
    "NewSession",
    "authenticate",
    "authenticate_session",
    "create_api_key",
    "create_user",
    "deactivate_user",
    "find_user",
    "forget_expired_sessions",
    "list_api_keys",
    "list_users",
    "revoke_api_key",
    "set_locale",
    "set_password",
    "set_role",
    "sign_in",
    "sign_out",
]
