"""Roles, permissions and the FastAPI dependencies that enforce them."""

from __future__ import annotations

import enum
import secrets
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from cxm.core.errors import Forbidden, Unauthorized

SESSION_COOKIE = "cxm_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Role(enum.StrEnum):
    """What a person or machine key may do."""

    admin = "admin"
    analyst = "analyst"
    agent = "agent"
    viewer = "viewer"


class Permission(enum.StrEnum):
    """One capability checked by a route."""

    read = "read"
    ingest = "ingest"
    merge = "merge"
    design = "design"
    privacy = "privacy"
    admin = "admin"


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.viewer: frozenset({Permission.read}),
    Role.analyst: frozenset({Permission.read, Permission.ingest, Permission.design}),
    Role.agent: frozenset({Permission.read, Permission.ingest, Permission.merge}),
    Role.admin: frozenset(Permission),
}


@dataclass(frozen=True)
class Principal:
    """Who is calling: a machine key (`apikey`) or a signed-in person (`user`, with the session's CSRF token)."""

    name: str
    role: Role
    kind: str = "apikey"
    user_id: int | None = None
    csrf: str | None = None
    display_name: str = ""
    locale: str = "en"

    @property
    def actor(self) -> str:
        """How this caller is named in audit records."""
        return f"{self.kind}:{self.name}"

    def can(self, permission: Permission) -> bool:
        """Whether this principal's role grants the permission."""
        return permission in GRANTS[self.role]


class Authenticator(Protocol):
    """Turns a bearer token (or a session cookie) into a principal, or None when it is not valid."""

    def __call__(self, session: Session, token: str) -> Principal | None: ...


class SignInRequired(Unauthorized):
    """A page was asked for without a valid session: the browser is sent to the sign-in page."""

    code = "sign_in_required"


class PageForbidden(Forbidden):
    """A signed-in person's role does not allow a page (or a form came without its CSRF token)."""

    code = "forbidden_page"


@dataclass(frozen=True)
class SignedForm:
    """A posted form whose CSRF token matched the session, with who posted it."""

    principal: Principal
    fields: dict[str, list[str]] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        """The first value of a field."""
        return next(iter(self.fields.get(name, [])), default)


def db_session(request: Request) -> Iterator[Session]:
    """The request's unit of work: committed when the route returns, rolled back on error."""
    reading = request.method in {"GET", "HEAD"}
    factory: sessionmaker[Session] = request.app.state.reader if reading else request.app.state.sessionmaker
    with factory() as session, session.begin():
        yield session


# Function scope: the transaction commits before the response is sent. (Request scope would commit after it, so a
# browser following a POST/redirect/GET could read before the commit and miss what it had just done.)
SessionDep = Annotated[Session, Depends(db_session, scope="function")]


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send an API key as 'Authorization: Bearer <key>'")
    return token.strip()


def _authenticated(request: Request, token: str, state_name: str) -> Principal | None:
    authenticate: Authenticator = getattr(request.app.state, state_name)
    factory: sessionmaker[Session] = request.app.state.reader
    with factory() as session:
        return authenticate(session, token)


def signed_in(request: Request) -> Principal | None:
    """The person whose session cookie came with the request, or None."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie or getattr(request.app.state, "authenticate_session", None) is None:
        return None
    return _authenticated(request, cookie, "authenticate_session")


def identify(request: Request) -> Principal:
    """The caller: an API key (Authorization header) first, else a signed-in person's session cookie."""
    if "authorization" in request.headers or SESSION_COOKIE not in request.cookies:
        principal = _authenticated(request, _bearer(request), "authenticate")
        if principal is None:
            raise Unauthorized("unknown or revoked API key")
        return principal
    person = signed_in(request)
    if person is None:
        raise Unauthorized("the session has ended; sign in again")
    if request.method not in SAFE_METHODS and not csrf_matches(person, request.headers.get(CSRF_HEADER)):
        raise Forbidden(f"a signed-in browser must send the session's CSRF token in '{CSRF_HEADER}'")
    return person


def csrf_matches(principal: Principal, token: str | None) -> bool:
    """Whether a posted token is the CSRF token of the principal's session."""
    return bool(principal.csrf and token) and secrets.compare_digest(str(principal.csrf), str(token))


def _permit(principal: Principal, permission: Permission, refusal: type[Forbidden]) -> Principal:
    if not principal.can(permission):
        raise refusal(f"role '{principal.role}' may not {permission}")
    return principal


def _marked(check: Any, permission: Permission) -> Any:
    # The permission a route needs, readable from its dependency (the role test walks every route with it).
    check.permission = permission
    return check


def require(permission: Permission) -> Callable[..., Principal]:
    """A dependency that admits only callers (API key or signed-in person) whose role grants `permission`."""

    def check(request: Request) -> Principal:
        return _permit(identify(request), permission, Forbidden)

    return _marked(check, permission)  # type: ignore[no-any-return]


def _page_user(request: Request, permission: Permission) -> Principal:
    person = signed_in(request)
    if person is None:
        raise SignInRequired("sign in to see this page")
    return _permit(person, permission, PageForbidden)


def require_user(permission: Permission) -> Callable[..., Principal]:
    """A page dependency: a signed-in person whose role grants `permission` (else sign-in page or 403 page)."""

    def check(request: Request) -> Principal:
        return _page_user(request, permission)

    return _marked(check, permission)  # type: ignore[no-any-return]


def require_form(permission: Permission) -> Callable[..., Awaitable[SignedForm]]:
    """A form-post dependency: a signed-in person allowed `permission`, and the form's CSRF token checked."""

    async def check(request: Request) -> SignedForm:
        person = await run_in_threadpool(_page_user, request, permission)
        form = await request.form()
        fields = {name: [v for v in form.getlist(name) if isinstance(v, str)] for name in form}
        if not csrf_matches(person, next(iter(fields.get(CSRF_FIELD, [])), None)):
            raise PageForbidden("the form has expired; reload the page and try again")
        return SignedForm(person, fields)

    return _marked(check, permission)  # type: ignore[no-any-return]


Reader = Annotated[Principal, Depends(require(Permission.read))]
Writer = Annotated[Principal, Depends(require(Permission.ingest))]
Designer = Annotated[Principal, Depends(require(Permission.design))]
Merger = Annotated[Principal, Depends(require(Permission.merge))]
PrivacyOfficer = Annotated[Principal, Depends(require(Permission.privacy))]
