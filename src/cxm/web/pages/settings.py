"""Settings (admins): people and their roles, API keys (the secret shown once), the SMTP connection check."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from cxm.access import service as access_service
from cxm.core.auth import Permission, Principal, Role, SessionDep, SignedForm, require_form, require_user
from cxm.core.errors import CxmError
from cxm.feedback import service as feedback_service
from cxm.web.rendering import render

router = APIRouter(include_in_schema=False)
AdminPage = Annotated[Principal, Depends(require_user(Permission.admin))]
AdminForm = Annotated[SignedForm, Depends(require_form(Permission.admin))]


def _page(request: Request, principal: Principal, session: SessionDep, status: int = 200, **shown: Any) -> Response:
    return render(
        request,
        principal,
        "settings.html",
        status,
        title="Settings",
        users=access_service.list_users(session),
        keys=access_service.list_api_keys(session),
        roles=[role.value for role in Role],
        locales=access_service.LOCALES,
        **shown,
    )


@router.get("/settings")
def settings_page(request: Request, user: AdminPage, session: SessionDep) -> Response:
    """People, API keys and mail."""
    return _page(request, user, session)


@router.post("/settings/users")
def add_user(request: Request, session: SessionDep, posted: AdminForm) -> Response:
    """Create a person's account."""
    try:
        with session.begin_nested():
            access_service.create_user(
                session,
                email=posted.get("email"),
                password=posted.get("password"),
                role=posted.get("role", "viewer"),
                display_name=posted.get("display_name"),
                locale=posted.get("locale", "en"),
            )
    except CxmError as error:
        return _page(request, posted.principal, session, 422, problem=error.message)
    return RedirectResponse("/settings", status_code=303)


@router.post("/settings/users/{user_id}/role")
def change_role(user_id: int, session: SessionDep, posted: AdminForm) -> Response:
    """Give a person another role."""
    access_service.set_role(session, user=user_id, role=posted.get("role"))
    return RedirectResponse("/settings", status_code=303)


@router.post("/settings/users/{user_id}/deactivate")
def deactivate(user_id: int, session: SessionDep, posted: AdminForm) -> Response:
    """Stop a person signing in."""
    access_service.deactivate_user(session, user=user_id)
    return RedirectResponse("/settings", status_code=303)


@router.post("/settings/keys")
def add_key(request: Request, session: SessionDep, posted: AdminForm) -> Response:
    """Create an API key and show its secret this once."""
    created = access_service.create_api_key(session, name=posted.get("name"), role=posted.get("role", "viewer"))
    return _page(request, posted.principal, session, new_key=created)


@router.post("/settings/keys/{key_id}/revoke")
def revoke_key(key_id: int, session: SessionDep, posted: AdminForm) -> Response:
    """Revoke an API key."""
    access_service.revoke_api_key(session, key_id=key_id)
    return RedirectResponse("/settings", status_code=303)


@router.post("/settings/smtp")
def smtp_check(request: Request, session: SessionDep, posted: AdminForm) -> Response:
    """Connect to the configured mail server (nothing is sent) and say how it went."""
    settings = request.app.state.settings
    try:
        answer = feedback_service.check_smtp(settings)
        smtp = {"ok": True, "message": f"{settings.smtp_host}:{settings.smtp_port} {answer}"}
    except (OSError, ValueError) as error:  # smtplib errors are OSErrors
        smtp = {"ok": False, "message": f"{settings.smtp_host}:{settings.smtp_port}: {error}"}
    return _page(request, posted.principal, session, smtp=smtp)
