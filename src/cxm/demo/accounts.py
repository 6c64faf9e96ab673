"""Demo sign-ins: one person per role, with a fresh random password printed by `cxm demo`."""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session

from cxm.access import service as access_service
from cxm.core.auth import Role
from cxm.core.errors import NotFound

DOMAIN = "demo.cxm.example"
LOCALES = {Role.admin: "en", Role.analyst: "cs", Role.agent: "pl", Role.viewer: "hr"}


def demo_email(role: Role) -> str:
    """The demo account of a role."""
    return f"{role.value}@{DOMAIN}"


def demo_accounts(session: Session) -> list[tuple[str, str, str]]:
    """Create (or give a new password to) one account per role; (e-mail, role, password) each."""
    accounts = []
    for role in Role:
        email, password = demo_email(role), secrets.token_urlsafe(12)
        try:
            access_service.find_user(session, email)
            access_service.set_password(session, user=email, password=password)
        except NotFound:
            name = f"Demo {role.value}"
            access_service.create_user(
                session, email=email, password=password, role=role.value, display_name=name, locale=LOCALES[role]
            )
        accounts.append((email, role.value, password))
    return accounts
