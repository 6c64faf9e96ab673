"""Customers: search, and the customer 360 (traits, identities, consent, timeline, merge, export, erase)."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from cxm.analytics import service as analytics_service
from cxm.core.auth import Permission, Principal, SessionDep, SignedForm, require_form, require_user
from cxm.core.errors import InvalidInput
from cxm.customers import service as customers_service
from cxm.web import cache
from cxm.web.figures import AnalyticsEngine
from cxm.web.rendering import render
from cxm.web.tables import csv_response

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Principal, Depends(require_user(Permission.read))]
PrivacyViewer = Annotated[Principal, Depends(require_user(Permission.privacy))]
MergeForm = Annotated[SignedForm, Depends(require_form(Permission.merge))]
EraseForm = Annotated[SignedForm, Depends(require_form(Permission.privacy))]
Offset = Annotated[int, Query(ge=0)]
PAGE = 25
TIMELINE_PAGE = 30
HORIZON_DAYS = analytics_service.ChurnSettings().horizon_days
RUNGS = {"at_risk": "at risk"}  # rung -> its label (the others read as they are)


@router.get("/customers")
def customer_list(
    request: Request, user: Viewer, session: SessionDep, q: str = "", offset: Offset = 0, format: str = "html"
) -> Response:
    """Customers whose name or any identity contains the search text, a page at a time (or as CSV)."""
    if format == "csv":
        found = customers_service.search_customers(session, q=q, limit=100_000, offset=0)
        rows = [
            [c.id, c.name, c.segment, c.language, " ".join(f"{i.kind}:{i.value}" for i in c.identities)]
            for c in found.items
        ]
        return csv_response("customers.csv", ["id", "name", "segment", "language", "identities"], rows)
    found = customers_service.search_customers(session, q=q, limit=PAGE, offset=offset)
    return render(request, user, "customers.html", title="Customers", page=found, q=q)


def _timeline(session: SessionDep, customer_id: int, offset: int) -> tuple[list[Any], bool]:
    entries = customers_service.timeline(session, customer_id, limit=TIMELINE_PAGE + 1, offset=offset)
    return entries[:TIMELINE_PAGE], len(entries) > TIMELINE_PAGE


@router.get("/customers/{customer_id}")
def customer_360(request: Request, customer_id: int, user: Viewer, session: SessionDep, offset: Offset = 0) -> Response:
    """Everything about one customer on one page."""
    customer = customers_service.read_customer(session, customer_id)
    if customer.merged_into_id is not None:
        return RedirectResponse(f"/customers/{customer.merged_into_id}", status_code=303)
    entries, more = _timeline(session, customer_id, offset)
    return render(
        request,
        user,
        "customer.html",
        title=customer.name or f"#{customer.id}",
        customer=customer,
        entries=entries,
        offset=offset,
        more=more,
        page_size=TIMELINE_PAGE,
        may_merge=user.can(Permission.merge),
        may_erase=user.can(Permission.privacy),
    )


def _insight(engine: analytics_service.Engine, customer_id: int) -> dict[str, Any] | None:
    """The customer's insight, or None while what it reads is computed for the current data (the churn fit and
    every customer's rung: 1-4 s on a small machine): that starts in the background and the panel asks again,
    instead of a page waiting for it."""
    if not analytics_service.insight_ready(engine):
        prepare = analytics_service.prepare_insights
        cache.compute_later(("insight", engine.kind, engine.url), lambda: prepare(engine))
        return None
    key = (cache.store_version(engine), "insight", customer_id)
    return cache.remember(key, lambda: analytics_service.customer_insight(engine, customer_id))


@router.get("/customers/{customer_id}/insight")
def customer_insight(
    request: Request, customer_id: int, user: Viewer, engine: AnalyticsEngine, fragment: bool = False
) -> Response:
    """The customer's loyalty rung, churn risk with reasons and value: the 360 page loads it after the page itself
    (while the churn model is fitted, a panel that says so and is asked again)."""
    try:
        insight = _insight(engine, customer_id)
    except analytics_service.AnalyticsUnavailable as reason:
        insight = {"unavailable": reason.message}
    template = "insight_card.html" if fragment else "insight.html"
    context: dict[str, Any] = {"customer_id": customer_id, "insight": insight, "horizon_days": HORIZON_DAYS}
    context["rung_labels"] = RUNGS
    return render(request, user, template, title="Loyalty and risk", **context)


def _number(form: SignedForm, name: str) -> int:
    text = form.get(name).strip().removeprefix("#")
    if not text.isdigit():
        raise InvalidInput(f"'{name}' must be a customer number")
    return int(text)


@router.post("/customers/{customer_id}/merge")
def merge(customer_id: int, session: SessionDep, posted: MergeForm) -> Response:
    """Merge another profile into this one."""
    customers_service.merge_customers(
        session,
        survivor_id=customer_id,
        merged_id=_number(posted, "other_id"),
        actor=posted.principal.actor,
        reason=posted.get("reason").strip() or "merged in the dashboard",
    )
    return RedirectResponse(f"/customers/{customer_id}", status_code=303)


@router.post("/customers/{customer_id}/merges/{merge_id}/undo")
def unmerge(customer_id: int, merge_id: int, session: SessionDep, posted: MergeForm) -> Response:
    """Undo a merge into this profile."""
    customers_service.undo_merge(session, merge_id=merge_id, actor=posted.principal.actor)
    return RedirectResponse(f"/customers/{customer_id}", status_code=303)


@router.get("/customers/{customer_id}/export")
def export(customer_id: int, user: PrivacyViewer, session: SessionDep) -> Response:
    """Everything held about the person, as a JSON download."""
    held = customers_service.export_person(session, customer_id)
    body = orjson.dumps(held, option=orjson.OPT_INDENT_2, default=str)
    headers = {"Content-Disposition": f'attachment; filename="customer-{customer_id}.json"'}
    return Response(body, media_type="application/json", headers=headers)


@router.get("/customers/{customer_id}/erase")
def erase_confirmation(request: Request, customer_id: int, user: PrivacyViewer, session: SessionDep) -> Response:
    """Ask before erasing: the person's number must be typed again."""
    customer = customers_service.read_customer(session, customer_id)
    return render(request, user, "erase.html", title="Erase", customer=customer)


@router.post("/customers/{customer_id}/erase")
def erase(request: Request, customer_id: int, session: SessionDep, posted: EraseForm) -> Response:
    """Erase the person everywhere once the confirmation matches."""
    if posted.get("confirm").strip().removeprefix("#") != str(customer_id):
        raise InvalidInput("type the customer's number to confirm the erasure")
    erased = customers_service.erase_person(session, customer_id, actor=posted.principal.actor)
    return render(request, posted.principal, "erased.html", title="Erased", erased=erased)
