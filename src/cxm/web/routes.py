"""The dashboard: every page router, its static files and how its errors look in a browser.

Adding a page: write `web/pages/<section>.py` with a `router`, guard each route with `require_user(permission)`
(GET) or `require_form(permission)` (POST; checks the CSRF token), render a template that extends `base.html`
with `rendering.render`, use `filters.Filters` for the shared filter bar, then list the router in `ROUTERS`
and (for a top-level section) its entry in `rendering.NAV`.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from cxm.core.auth import PageForbidden, SignInRequired, signed_in
from cxm.core.errors import CxmError
from cxm.core.guards import SubmissionLimit
from cxm.web.pages import breakdowns, customers, feedback, overview, settings, signin, surveys
from cxm.web.rendering import render

STATIC = Path(__file__).parent / "static"
ROUTERS = (
    signin.router,
    overview.router,
    breakdowns.router,
    feedback.router,
    customers.router,
    surveys.router,
    settings.router,
)
# Paths that are not dashboard pages: their errors keep the API's JSON shape.
NOT_PAGES = ("/api/", "/s/", "/docs", "/openapi", "/redoc", "/_static", "/healthz")
router = APIRouter(include_in_schema=False)


@router.get("/")
def home() -> Response:
    """The dashboard starts at the overview (the sign-in page first, when needed)."""
    return RedirectResponse("/overview", status_code=303)


@router.get("/healthz")
def health() -> dict[str, str]:
    """Liveness probe."""
    return {"status": "ok"}


def is_page(request: Request) -> bool:
    """Whether a request is for a dashboard page (errors shown as pages, not JSON)."""
    return not request.url.path.startswith(NOT_PAGES)


async def _to_sign_in(request: Request, _error: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


async def _error_page(request: Request, error: Exception) -> Response:
    assert isinstance(error, CxmError)
    if not is_page(request):
        return JSONResponse(status_code=error.status_code, content=error.to_dict())
    principal = signed_in(request) if request.cookies else None
    code = error.status_code
    return render(request, principal, "error.html", code, code=code, message=error.message)


def install_dashboard(app: FastAPI) -> None:
    """Serve the dashboard pages and static files; page errors become pages."""
    app.state.sign_in_limit = SubmissionLimit(app.state.settings.sign_in_failures_per_minute)
    app.mount("/_static", StaticFiles(directory=STATIC), name="dashboard-static")
    app.add_exception_handler(SignInRequired, _to_sign_in)
    app.add_exception_handler(PageForbidden, _error_page)
    app.add_exception_handler(CxmError, _error_page)
    app.include_router(router)
    for page_router in ROUTERS:
        app.include_router(page_router)
