"""Roles, permissions and the FastAPI dependencies that enforce them."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Protocol

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from cxm.core.errors import Forbidden, Unauthorized


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
    """Who is calling: a machine key or (later) a person."""

    name: str
    role: Role

    @property
    def actor(self) -> str:
        """How this caller is named in audit records."""
        return f"apikey:{self.name}"

    def can(self, permission: Permission) -> bool:
        """Whether this principal's role grants the permission."""
        return permission in GRANTS[self.role]


class Authenticator(Protocol):
    """Turns a bearer token into a principal, or None when it is not valid."""

    def __call__(self, session: Session, token: str) -> Principal | None: ...


def db_session(request: Request) -> Iterator[Session]:
    """The request's unit of work: committed when the route returns, rolled back on error."""
    reading = request.method in {"GET", "HEAD"}
    factory: sessionmaker[Session] = request.app.state.reader if reading else request.app.state.sessionmaker
    with factory() as session, session.begin():
        yield session


SessionDep = Annotated[Session, Depends(db_session)]


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send an API key as 'Authorization: Bearer <key>'")
    return token.strip()


def require(permission: Permission) -> Callable[..., Principal]:
    """A dependency that admits only callers whose role grants `permission`."""

    def check(request: Request) -> Principal:
        authenticate: Authenticator = request.app.state.authenticate
        factory: sessionmaker[Session] = request.app.state.reader
        with factory() as session:
            principal = authenticate(session, _bearer(request))
        if principal is None:
            raise Unauthorized("unknown or revoked API key")
        if not principal.can(permission):
            raise Forbidden(f"role '{principal.role}' may not {permission}")
        return principal

    return check


Reader = Annotated[Principal, Depends(require(Permission.read))]
Writer = Annotated[Principal, Depends(require(Permission.ingest))]
Designer = Annotated[Principal, Depends(require(Permission.design))]
Merger = Annotated[Principal, Depends(require(Permission.merge))]
PrivacyOfficer = Annotated[Principal, Depends(require(Permission.privacy))]
