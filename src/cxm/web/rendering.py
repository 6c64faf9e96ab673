"""Rendering a dashboard page: the layout's navigation, the reader's language, strict security headers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from cxm.core.auth import Permission, Principal
from cxm.web.i18n import LANGUAGES, N_, environment

# Strict: scripts and styles only from this server's static files; nothing inline, nothing from elsewhere.
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'self'; form-action 'self'; base-uri 'none'; object-src 'none'"
    ),
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


@dataclass(frozen=True)
class NavItem:
    """One entry of the main navigation, shown to roles that have its permission."""

    path: str
    label: str
    permission: Permission


# The label is a gettext message id (translated in the template). A new page adds its entry here.
NAV = (
    NavItem("/overview", N_("Overview"), Permission.read),
    NavItem("/channels", N_("Channels"), Permission.read),
    NavItem("/journey", N_("Journey"), Permission.read),
    NavItem("/feedback", N_("Feedback"), Permission.read),
    NavItem("/customers", N_("Customers"), Permission.read),
    NavItem("/surveys", N_("Surveys"), Permission.read),
    NavItem("/settings", N_("Settings"), Permission.admin),
)


def navigation(principal: Principal | None, path: str) -> list[dict[str, Any]]:
    """The navigation a person may use, with the current section marked."""
    if principal is None:
        return []
    return [
        {"path": item.path, "label": item.label, "current": path.startswith(item.path)}
        for item in NAV
        if principal.can(item.permission)
    ]


def page_html(principal: Principal | None, template: str, path: str, query: str = "", **context: Any) -> str:
    """A page's HTML in the reader's language inside the shared layout (templates extend `base.html`)."""
    language = principal.locale if principal and principal.locale in LANGUAGES else context.pop("language", "en")
    return (
        environment(language)
        .get_template(template)
        .render(
            lang=language,
            languages=LANGUAGES,
            user=principal,
            csrf=principal.csrf if principal else "",
            nav=navigation(principal, path),
            path=path,
            here=path + (f"?{query}" if query else ""),
            **context,
        )
    )


def ui_language(principal: Principal | None) -> str:
    """The language a person reads the dashboard in (their own when it has a catalog, else English)."""
    return principal.locale if principal and principal.locale in LANGUAGES else "en"


def render(
    request: Request, principal: Principal | None, template: str, status: int = 200, **context: Any
) -> HTMLResponse:
    """A page response with strict security headers."""
    html = page_html(principal, template, request.url.path, request.url.query, **context)
    return HTMLResponse(html, status_code=status, headers=HEADERS)
