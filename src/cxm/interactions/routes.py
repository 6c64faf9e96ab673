"""/api/v1/interactions and /api/v1/orders."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Response

from cxm.core.api import body_docs, json_body
from cxm.core.auth import Reader, SessionDep, Writer
from cxm.core.schemas import BatchResult
from cxm.interactions import service
from cxm.interactions.schemas import (
    InteractionBatch,
    InteractionIn,
    InteractionRead,
    OrderBatch,
    OrderIn,
    OrderRead,
    Stored,
)

router = APIRouter(tags=["interactions"])


@router.post("/interactions", response_model=Stored, status_code=201)
def create_interaction(body: InteractionIn, session: SessionDep, who: Writer, response: Response) -> Stored:
    """Store one interaction; a re-sent `event_id` answers 200 with the stored one."""
    stored = service.store_interaction(session, body, actor=who.actor)
    response.status_code = 200 if stored.duplicate else 201
    return stored


@router.post("/interactions/batch", response_model=BatchResult, openapi_extra=body_docs(InteractionBatch))
def create_interactions(
    session: SessionDep, who: Writer, body: Annotated[InteractionBatch, json_body(InteractionBatch)]
) -> BatchResult:
    """Store up to 10,000 interactions, all or nothing."""
    result = service.ingest_interactions(session, body.interactions, actor=who.actor)
    return BatchResult(accepted=result.accepted, duplicates=result.duplicates)


@router.get("/interactions/{interaction_id}", response_model=InteractionRead)
def get_interaction(interaction_id: int, session: SessionDep, _: Reader) -> Any:
    """One interaction."""
    return service.get_interaction(session, interaction_id)


@router.post("/orders", response_model=Stored, status_code=201)
def create_order(body: OrderIn, session: SessionDep, who: Writer, response: Response) -> Stored:
    """Store one order; a re-sent `order_id` answers 200 with the stored one."""
    stored = service.store_order(session, body, actor=who.actor)
    response.status_code = 200 if stored.duplicate else 201
    return stored


@router.post("/orders/batch", response_model=BatchResult, openapi_extra=body_docs(OrderBatch))
def create_orders(session: SessionDep, who: Writer, body: Annotated[OrderBatch, json_body(OrderBatch)]) -> BatchResult:
    """Store up to 10,000 orders, all or nothing."""
    result = service.ingest_orders(session, body.orders, actor=who.actor)
    return BatchResult(accepted=result.accepted, duplicates=result.duplicates)


@router.get("/orders/{order_ref}", response_model=OrderRead)
def get_order(order_ref: int, session: SessionDep, _: Reader) -> OrderRead:
    """One order with its items."""
    return service.get_order(session, order_ref)
