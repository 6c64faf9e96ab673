"""Churn risk and customer value as tables: what the API, the CLI, the library and the customer page ask for."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
import pandas as pd

from cxm.analytics import churn, retention
from cxm.analytics.churn_features import ChurnSettings
from cxm.analytics.engines import Engine
from cxm.analytics.value import GROUPS, Economics, at_risk_by, customer_values
from cxm.core.errors import InvalidInput, NotFound

CHURN_COLUMNS = [
    "customer_id", "segment", "channel", "churn_probability", "reason_1", "reason_2", "reason_3", "recency_days",
    "orders", "spend", "revenue_per_period", "clv", "revenue_at_risk", "value_at_risk", "category_spend",
    "share_of_wallet",
]  # fmt: skip
CACHE_SECONDS = 60.0
CACHED = 16  # requests kept at most


@dataclass(frozen=True)
class ChurnRequest:
    """A churn question: the churn definition, the money side and the time "now" (None: just after the newest order)."""

    settings: ChurnSettings = field(default_factory=ChurnSettings)
    economics: Economics = field(default_factory=Economics)
    now: datetime | None = None

    def check(self) -> None:
        """Refuse horizons and windows that cannot work."""
        s = self.settings
        if not 7 <= s.horizon_days <= 730 or not s.horizon_days <= s.lookback_days <= 3650:
            raise InvalidInput(
                "horizon_days must be 7-730 and lookback_days between horizon_days and 3650",
                details={"horizon_days": s.horizon_days, "lookback_days": s.lookback_days},
            )
        self.economics.check()


def churn_request(
    *,
    horizon_days: int = 90,
    lookback_days: int = 365,
    margin: float = 1.0,
    discount_rate: float = 0.10,
    years: float = 5.0,
    now: datetime | None = None,
) -> ChurnRequest:
    """A churn request from plain arguments (shared by the library, the API and the CLI)."""
    return ChurnRequest(ChurnSettings(horizon_days, lookback_days), Economics(margin, discount_rate, years), now)


# Per engine, request and data: when the scores were made, and the scored customers or why there are none.
_scored: dict[tuple[Any, ...], tuple[float, pd.DataFrame | InvalidInput]] = {}
_fitting = threading.Lock()  # one fit at a time: a second caller (the worker, a page, the API) waits and reuses it


def _orders_mark(engine: Engine) -> tuple[int, int]:
    """How many orders the engine sees and the newest one's id: a cached score is reused only for the same data."""
    with engine.connect() as tables:
        o = tables("orders")
        found = o.aggregate(n=o.count(), newest=o.order_ref.max()).execute().iloc[0]
    return int(found["n"]), int(0 if pd.isna(found["newest"]) else found["newest"])


def _kept(engine: Engine, request: ChurnRequest) -> tuple[tuple[Any, ...], pd.DataFrame | InvalidInput | None]:
    """The cache key of the engine's current data, and what is kept for it: until the DuckDB store changes, or for a
    minute on engines without a sign of change."""
    version = engine.data_version()
    key = (engine.kind, engine.url, request, version if version is not None else _orders_mark(engine))
    hit = _scored.get(key)
    if hit is not None and (version is not None or time.monotonic() - hit[0] < CACHE_SECONDS):
        return key, hit[1]
    return key, None


def churn_scored(engine: Engine, request: ChurnRequest | None = None) -> bool:
    """Whether the scores of the engine's current data are at hand (or known to be impossible): asking for them now
    fits no model."""
    return _kept(engine, request or ChurnRequest())[1] is not None


def _valued(engine: Engine, request: ChurnRequest) -> pd.DataFrame:
    """Scored and valued customers per engine and request, kept (the customer page asks often); too little history
    is kept too, so the next question is answered without fitting again."""
    request.check()
    found = _kept(engine, request)[1]
    found = _fitted_once(engine, request) if found is None else found
    if isinstance(found, InvalidInput):
        raise InvalidInput(found.message, details=found.details)
    return found


def _fitted_once(engine: Engine, request: ChurnRequest) -> pd.DataFrame | InvalidInput:
    """Score and value under the lock, unless a caller waited for meanwhile has just done it; kept for the next."""
    with _fitting:
        key, found = _kept(engine, request)
        if found is None:
            found = _scored_and_valued(engine, request)
            if len(_scored) >= CACHED:
                _scored.clear()
            _scored[key] = (time.monotonic(), found)
    return found


def _scored_and_valued(engine: Engine, request: ChurnRequest) -> pd.DataFrame | InvalidInput:
    """Every active customer scored and valued, or why the model cannot be fitted."""
    try:
        scored, _ = churn.score_now(engine, request.settings, request.now)
    except InvalidInput as reason:
        return reason
    s = request.settings
    return customer_values(scored, request.economics, s.horizon_days, s.lookback_days)


def churn_table(engine: Engine, request: ChurnRequest) -> pd.DataFrame:
    """Every active customer: churn probability, top reasons, value; riskiest (by value at risk) first."""
    valued = _valued(engine, request)
    frame = valued[CHURN_COLUMNS].sort_values(["value_at_risk", "customer_id"], ascending=[False, True])
    frame = frame.reset_index(drop=True)
    frame.attrs = dict(valued.attrs)
    return frame


def churn_risk_of(engine: Engine, customer_id: int, request: ChurnRequest | None = None) -> dict[str, Any]:
    """One customer's churn probability, reasons and value (for the customer page); NotFound when not active."""
    valued = _valued(engine, request or ChurnRequest())
    row = valued[valued["customer_id"] == customer_id]
    if row.empty:
        raise NotFound(f"customer {customer_id} has no order in the look-back window: no churn score")
    found: dict[str, Any] = orjson.loads(row[CHURN_COLUMNS].to_json(orient="records"))[0]
    found["reasons"] = [found.pop(f"reason_{k}") for k in (1, 2, 3) if found.get(f"reason_{k}")]
    found["as_of"] = valued.attrs.get("as_of")
    return found


def value_at_risk(engine: Engine, request: ChurnRequest, by: str | None = "segment") -> pd.DataFrame:
    """Revenue at risk (next period) and value at risk (CLV) summed by segment, channel or country."""
    if by is not None and by not in GROUPS:
        raise InvalidInput(f"cannot group value at risk by '{by}'", details={"allowed": list(GROUPS)})
    return at_risk_by(_valued(engine, request), by)


def churn_evaluation(
    engine: Engine, request: ChurnRequest, test: datetime | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """AUC and Brier of the model and of the recency-only baseline on a later cut-off, and the calibration table."""
    request.check()
    return churn.evaluate(engine, request.settings, test)


def retention_economics(
    engine: Engine,
    request: ChurnRequest,
    *,
    uplift: float = 0.05,
    relative: bool = False,
    given: retention.RetentionInputs | None = None,
) -> pd.DataFrame:
    """What `uplift` more annual retention is worth in CLV and company value, from the data or given figures."""
    request.check()
    if not 0 <= uplift <= 1:
        raise InvalidInput("uplift must be between 0 and 1 (0.05 = 5 points)", details={"uplift": uplift})
    given = given or retention.RetentionInputs()
    complete = None not in (given.retention, given.revenue_per_customer, given.customers, given.acquired_per_period)
    found = (
        retention.Measured(0.0, 0.0, 0.0, 0.0)
        if complete
        else retention.measure(engine, request.settings, request.now or churn.data_now(engine))
    )
    return retention.economics_table(found, given, request.economics, request.settings, uplift, relative)
