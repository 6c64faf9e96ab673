"""People who sign in: accounts (argon2-hashed passwords, roles, locale) and their browser sessions."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cxm.access.models import User, UserSession
from cxm.core.auth import Principal, Role
from cxm.core.db import utcnow
from cxm.core.errors import Conflict, InvalidInput, NotFound, Unauthorized

LOCALES = ("en", "cs", "pl", "hr", "ro")
MIN_PASSWORD = 10
_hasher = PasswordHasher()
# Verified when the e-mail is unknown, so a wrong address takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class NewSession:
    """A session as created: the cookie token is known only here, the database keeps its digest."""

    token: str
    csrf: str
    expires_at: datetime
    user_id: int


def _digest(token: str) -> str:
    # Session tokens are 256 random bits: a fast hash is enough, as for API keys.
    return hashlib.sha256(token.encode()).hexdigest()


def _role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InvalidInput(f"unknown role '{role}'", details={"allowed": [r.value for r in Role]}) from None


def _email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise InvalidInput(f"not an e-mail address: {email!r} ({error})") from None


def _locale(locale: str) -> str:
    if locale not in LOCALES:
        raise InvalidInput(f"unknown locale '{locale}'", details={"allowed": list(LOCALES)})
    return locale


def _password_hash(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"a password needs at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def create_user(
    session: Session, *, email: str, password: str, role: str, display_name: str = "", locale: str = "en"
) -> User:
    """Create a person's account (the e-mail is the sign-in name and must be new)."""
    address = _email(email)
    if session.scalar(select(User.id).where(User.email == address)) is not None:
        raise Conflict(f"a user {address} already exists")
    user = User(
        email=address,
        display_name=display_name.strip() or address.split("@")[0],
        password_hash=_password_hash(password),
        role=_role(role).value,
        locale=_locale(locale),
        active=True,
    )
    session.add(user)
    session.flush()
    return user


def list_users(session: Session) -> list[User]:
    """Every account, by e-mail."""
    return list(session.scalars(select(User).order_by(User.email)))


def find_user(session: Session, reference: str | int) -> User:
    """An account by id or e-mail."""
    if isinstance(reference, int) or str(reference).isdigit():
        user = session.get(User, int(reference))
    else:
        user = session.scalar(select(User).where(User.email == str(reference).strip().lower()))
    if user is None:
        raise NotFound(f"no user {reference}")
    return user


def set_role(session: Session, *, user: str | int, role: str) -> User:
    """Give a person another role (their open sessions see it on the next request)."""
    found = find_user(session, user)
    found.role = _role(role).value
    return found


def set_locale(session: Session, *, user: str | int, locale: str) -> User:
    """The language a person's dashboard speaks."""
    found = find_user(session, user)
    found.locale = _locale(locale)
    return found


def set_password(session: Session, *, user: str | int, password: str) -> User:
    """A new password; every open session of the person ends."""
    found = find_user(session, user)
    found.password_hash = _password_hash(password)
    session.execute(delete(UserSession).where(UserSession.user_id == found.id))
    return found


def deactivate_user(session: Session, *, user: str | int) -> User:
    """Stop a person signing in; their open sessions end at once."""
    found = find_user(session, user)
    found.active = False
    session.execute(delete(UserSession).where(UserSession.user_id == found.id))
    return found


def _password_matches(user: User | None, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and user is not None
    except (VerificationError, InvalidHashError):
        return False


def sign_in(session: Session, *, email: str, password: str, hours: float, now: datetime | None = None) -> NewSession:
    """Check a person's password and open a session for their browser."""
    now = now or utcnow()
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if not _password_matches(user, password) or user is None or not user.active:
        raise Unauthorized("wrong e-mail or password")
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    expires = now + timedelta(hours=hours)
    session.add(UserSession(user_id=user.id, digest=_digest(token), csrf=csrf, created_at=now, expires_at=expires))
    user.last_sign_in_at = now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    session.flush()
    return NewSession(token=token, csrf=csrf, expires_at=expires, user_id=user.id)


def sign_out(session: Session, *, token: str) -> None:
    """End the session a cookie token names (nothing happens for an unknown token)."""
    session.execute(delete(UserSession).where(UserSession.digest == _digest(token)))


def authenticate_session(session: Session, token: str) -> Principal | None:
    """The signed-in person a session cookie stands for, or None when unknown, expired or deactivated."""
    found = session.execute(
        select(User, UserSession.csrf)
        .join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.digest == _digest(token), UserSession.expires_at > utcnow())
    ).first()
    if found is None or not found[0].active:
        return None
    user, csrf = found
    return Principal(
        name=user.email,
        role=Role(user.role),
        kind="user",
        user_id=user.id,
        csrf=csrf,
        display_name=user.display_name,
        locale=user.locale,
    )


def forget_expired_sessions(session: Session, *, now: datetime | None = None) -> int:
    """Delete sessions past their expiry; how many."""
    result = session.execute(delete(UserSession).where(UserSession.expires_at <= (now or utcnow())))
    return int(getattr(result, "rowcount", 0) or 0)
