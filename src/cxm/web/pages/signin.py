"""Signing in and out, and the reader's own language."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from cxm.access import service as access_service
from cxm.config import Settings
from cxm.core.auth import SESSION_COOKIE, Permission, SessionDep, SignedForm, require_form, signed_in
from cxm.core.errors import Unauthorized
from cxm.core.guards import SubmissionLimit, csrf_token, csrf_valid, new_csrf_cookie
from cxm.core.instance import instance_secret
from cxm.web.i18n import N_
from cxm.web.rendering import render

router = APIRouter(include_in_schema=False)
LOGIN_CSRF = "cxm_login_csrf"
SALT = "cxm.sign-in"
# Message ids, translated in the template.
TOO_MANY = N_("Too many failed attempts; wait a minute.")
EXPIRED = N_("The form expired; please try again.")
WRONG = N_("Wrong e-mail or password.")
Posted = Annotated[SignedForm, Depends(require_form(Permission.read))]


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (never another host)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/overview"


def secure_cookies(settings: Settings) -> bool:
    """Cookies are marked Secure when people reach this installation over https."""
    return settings.public_url.startswith("https://")


def _secret(request: Request, session: SessionDep) -> str:
    settings: Settings = request.app.state.settings
    return settings.secret_key or instance_secret(session, "dashboard")


def _form(request: Request, secret: str, *, status: int = 200, problem: str = "", email: str = "") -> Response:
    cookie = request.cookies.get(LOGIN_CSRF) or new_csrf_cookie()
    response = render(
        request,
        None,
        "signin.html",
        status,
        form_csrf=csrf_token(secret, cookie, salt=SALT),
        next=safe_next(request.query_params.get("next")),
        problem=problem,
        email=email,
    )
    secure = secure_cookies(request.app.state.settings)
    response.set_cookie(LOGIN_CSRF, cookie, path="/login", httponly=True, samesite="lax", secure=secure)
    return response


@router.get("/login")
def sign_in_page(request: Request, session: SessionDep) -> Response:
    """The sign-in form (a signed-in person goes straight on)."""
    if signed_in(request) is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    return _form(request, _secret(request, session))


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("/login")
async def sign_in(request: Request, session: SessionDep) -> Response:
    """Check the password; too many failures from one address are refused for a minute."""
    form = await request.form()
    fields = {name: str(form.get(name) or "") for name in ("email", "password", "csrf", "next")}
    return await run_in_threadpool(_sign_in, request, session, fields)  # argon2 takes ~50 ms: off the event loop


def _sign_in(request: Request, session: Session, fields: dict[str, str]) -> Response:
    secret = _secret(request, session)
    limit: SubmissionLimit = request.app.state.sign_in_limit
    if limit.blocked(_client(request)):
        return _form(request, secret, status=429, problem=TOO_MANY)
    if not csrf_valid(secret, request.cookies.get(LOGIN_CSRF), fields["csrf"], salt=SALT):
        return _form(request, secret, status=403, problem=EXPIRED)
    settings: Settings = request.app.state.settings
    try:
        opened = access_service.sign_in(
            session, email=fields["email"], password=fields["password"], hours=settings.session_hours
        )
    except Unauthorized:
        limit.allow(_client(request))
        return _form(request, secret, status=401, problem=WRONG, email=fields["email"])
    response = RedirectResponse(safe_next(fields["next"]), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        opened.token,
        max_age=int(settings.session_hours * 3600),
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure_cookies(settings),
    )
    return response


@router.post("/logout")
def sign_out(request: Request, session: SessionDep, posted: Posted) -> Response:
    """End this browser's session."""
    access_service.sign_out(session, token=request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/account/locale")
def change_locale(session: SessionDep, posted: Posted) -> Response:
    """The language the reader's dashboard speaks from now on."""
    access_service.set_locale(session, user=posted.principal.name, locale=posted.get("locale", "en"))
    return RedirectResponse(safe_next(posted.get("next")), status_code=303)
