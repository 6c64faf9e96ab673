"""What analytics knows about one customer: loyalty rung, churn risk with reasons, and value (the 360 page)."""

from __future__ import annotations

from typing import Any

import orjson

from cxm.analytics import loyalty
from cxm.analytics.engines import Engine
from cxm.analytics.risk import ChurnRequest, churn_risk_of
from cxm.core.errors import InvalidInput, NotFound


def customer_insight(engine: Engine, customer_id: int) -> dict[str, Any]:
    """The customer's rung (with the features behind it), churn risk with reasons, and value.

    `loyalty` is None for a customer with no activity yet; `churn` is None with a `churn_note` when the customer has
    no order in the look-back window or the company's history is too short to train on.
    """
    churn, note = _churn(engine, customer_id)
    return {"customer_id": customer_id, "loyalty": _placement(engine, customer_id), "churn": churn, "churn_note": note}


def _placement(engine: Engine, customer_id: int) -> dict[str, Any] | None:
    with engine.connect() as tables:
        found = loyalty.placements(tables, loyalty.LoyaltyQuery(), [customer_id])
    if found.empty:
        return None
    placed: dict[str, Any] = orjson.loads(found.to_json(orient="records", date_format="iso"))[0]
    placed.pop("customer_id", None)
    return placed


def _churn(engine: Engine, customer_id: int) -> tuple[dict[str, Any] | None, str | None]:
    try:
        return churn_risk_of(engine, customer_id, ChurnRequest()), None
    except (NotFound, InvalidInput) as reason:  # not active, or too little history: a note, not a failed page
        return None, reason.message
