"""People who sign in to the dashboard: `cxm user create|list|set-role|deactivate`."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from cxm.cli.base import app, console, out, unit_of_work
from cxm.core.errors import InvalidInput

user_app = typer.Typer(help="People who sign in to the dashboard.")
app.add_typer(user_app, name="user")


def _password(from_stdin: bool) -> str:
    """The new password: one line from stdin, or typed twice at a prompt."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))
    if not password:
        raise InvalidInput("no password given")
    return password


@user_app.command("create")
def user_create(
    email: str,
    role: Annotated[str, typer.Option(help="admin | analyst | agent | viewer")] = "viewer",
    name: Annotated[str, typer.Option(help="Display name (default: the e-mail's local part)")] = "",
    locale: Annotated[str, typer.Option(help="en | cs | pl | hr | ro")] = "en",
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin")] = False,
) -> None:
    """Create a person's account (the password is prompted for, or read from stdin)."""
    from cxm.access import service as access_service

    password = _password(password_stdin)
    with unit_of_work() as session:
        user = access_service.create_user(
            session, email=email, password=password, role=role, display_name=name, locale=locale
        )
        console.print(f"user {user.id} {user.email} ({user.role}) created", highlight=False)


@user_app.command("list")
def user_list() -> None:
    """List accounts (never their passwords)."""
    from cxm.access import service as access_service

    table = Table("id", "e-mail", "name", "role", "locale", "active", "last sign-in")
    with unit_of_work() as session:
        for user in access_service.list_users(session):
            last = f"{user.last_sign_in_at:%Y-%m-%d %H:%M}" if user.last_sign_in_at else ""
            active = "yes" if user.active else "no"
            table.add_row(str(user.id), user.email, user.display_name, user.role, user.locale, active, last)
    out.print(table)


@user_app.command("set-role")
def user_set_role(user: Annotated[str, typer.Argument(help="E-mail or id")], role: str) -> None:
    """Give a person another role."""
    from cxm.access import service as access_service

    with unit_of_work() as session:
        found = access_service.set_role(session, user=user, role=role)
        console.print(f"{found.email} is now {found.role}", highlight=False)


@user_app.command("deactivate")
def user_deactivate(user: Annotated[str, typer.Argument(help="E-mail or id")]) -> None:
    """Stop a person signing in (their sessions end at once)."""
    from cxm.access import service as access_service

    with unit_of_work() as session:
        found = access_service.deactivate_user(session, user=user)
        console.print(f"{found.email} can no longer sign in", highlight=False)
