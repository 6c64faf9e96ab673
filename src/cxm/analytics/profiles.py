"""What analytics knows about one customer: loyalty rung, churn risk with reasons, and value (the 360 page).

Every customer's rung is computed at once and kept until the store changes (a minute on live engines), like the
churn scores: the 360 page asks for one customer after another, and one query for all of them costs about what one
customer's did (its time goes into compiling the ladder's query: ~0.2-0.5 s on the 2-core machine).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Hashable
from typing import Any

import orjson

from cxm.analytics import loyalty
from cxm.analytics.engines import Engine
from cxm.analytics.risk import ChurnRequest, churn_risk_of, churn_scored, churn_table
from cxm.core.errors import InvalidInput, NotFound

CACHE_SECONDS = 60.0
KEPT = 8  # stores kept at most
Placements = dict[int, dict[str, Any]]
_placed: dict[Hashable, tuple[float, Placements]] = {}
_placing = threading.Lock()  # one computation at a time: a second caller waits and reuses it


def customer_insight(engine: Engine, customer_id: int) -> dict[str, Any]:
    """The customer's rung (with the features behind it), churn risk with reasons, and value.

    `loyalty` is None for a customer with no activity yet; `churn` is None with a `churn_note` when the customer has
    no order in the look-back window or the company's history is too short to train on.
    """
    churn, note = _churn(engine, customer_id)
    placed = _placements(engine).get(customer_id)
    loyal = dict(placed) if placed is not None else None
    return {"customer_id": customer_id, "loyalty": loyal, "churn": churn, "churn_note": note}


def insight_ready(engine: Engine) -> bool:
    """Whether `customer_insight` answers without computing (churn scores and rungs kept for the current data)."""
    return _kept(engine) is not None and churn_scored(engine)


def prepare_insights(engine: Engine) -> None:
    """Compute and keep what `customer_insight` reads for the engine's current data: every rung, the churn scores
    (or that there is too little history for them)."""
    _placements(engine)
    with contextlib.suppress(InvalidInput):  # kept as such by `risk`: the panel's note says so
        churn_table(engine, ChurnRequest())


def _key(engine: Engine) -> tuple[Hashable, bool]:
    version = engine.data_version()
    return (engine.kind, engine.url, version), version is not None


def _kept(engine: Engine) -> Placements | None:
    """Every customer's rung kept for the engine's current data: until the store changes, or for a minute."""
    key, versioned = _key(engine)
    hit = _placed.get(key)
    if hit is not None and (versioned or time.monotonic() - hit[0] < CACHE_SECONDS):
        return hit[1]
    return None


def _placements(engine: Engine) -> Placements:
    """Every customer's rung at the last month end, by customer id (computed once per data, see the module)."""
    found = _kept(engine)
    if found is not None:
        return found
    with _placing:
        found = _kept(engine)
        if found is None:
            key = _key(engine)[0]
            found = _placements_now(engine)
            if len(_placed) >= KEPT:
                _placed.clear()
            _placed[key] = (time.monotonic(), found)
    return found


def _placements_now(engine: Engine) -> Placements:
    try:
        with engine.connect() as tables:
            frame = loyalty.placements(tables, loyalty.LoyaltyQuery())
    except InvalidInput:  # no touchpoint or order at all yet: nobody is on the ladder
        return {}
    records: list[dict[str, Any]] = orjson.loads(frame.to_json(orient="records", date_format="iso"))
    return {int(record.pop("customer_id")): record for record in records}


def _churn(engine: Engine, customer_id: int) -> tuple[dict[str, Any] | None, str | None]:
    try:
        return churn_risk_of(engine, customer_id, ChurnRequest()), None
    except (NotFound, InvalidInput) as reason:  # not active, or too little history: a note, not a failed page
        return None, reason.message
