"""The Overview's charts as SVG/PNG downloads, and its printable report (same filters, same role as the page)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from cxm.core.auth import Permission, Principal, SessionDep, require_user
from cxm.web.charts import FORMATS, image_kind
from cxm.web.figures import AnalyticsEngine
from cxm.web.filters import Filters
from cxm.web.i18n import LANGUAGES
from cxm.web.printing import REPORT_TEMPLATE, overview_chart, report_context
from cxm.web.rendering import HEADERS, render

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Principal, Depends(require_user(Permission.read))]
# An SVG opened on its own is a document: it may draw, never run anything.
IMAGE_HEADERS = {**HEADERS, "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}


def _language(user: Principal) -> str:
    return user.locale if user.locale in LANGUAGES else "en"


@router.get("/charts/overview/{name}")
def overview_chart_image(
    name: str, user: Viewer, session: SessionDep, engine: AnalyticsEngine, filters: Filters
) -> Response:
    """One Overview chart (`nps.svg`, `volume.png`, ...) under the filter bar's query parameters."""
    chart, image = image_kind(name)
    body = overview_chart(session, engine, filters, chart, image=image, language=_language(user))
    disposition = {"Content-Disposition": f'inline; filename="overview-{chart}.{image}"'}
    return Response(body, media_type=FORMATS[image], headers=IMAGE_HEADERS | disposition)


@router.get("/report/overview")
def overview_report(
    request: Request, user: Viewer, session: SessionDep, engine: AnalyticsEngine, filters: Filters
) -> Response:
    """The Overview to print: no navigation or filter form, charts inline."""
    context = report_context(session, engine, filters, now=datetime.now(UTC))
    return render(request, user, REPORT_TEMPLATE, title="Overview", **context)
