"""The loyalty ladder: each customer on a rung from feedback and behaviour, as of every month end.

Features and rungs are computed on the engine (Ibis: signals x month ends, aggregated, one CASE per rung), so
the ladder runs alike on DuckDB, SQLite, PostgreSQL and Spark; only counts come back. Rules: `LadderRules`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import ibis
import pandas as pd
from ibis.expr.types import BooleanValue, Table

from cxm.analytics.experience import NPS_KEY
from cxm.analytics.metrics import Tables
from cxm.core.errors import InvalidInput

RUNGS = ("lost", "at_risk", "unknown", "satisfied", "loyal", "advocate")  # lowest to highest
DAY = 86_400


@dataclass(frozen=True)
class LadderRules:
    """How customers are placed on the ladder; every window is counted back from the snapshot time.

    First matching rule wins: lost, advocate, at_risk, loyal, satisfied, else unknown. Activity is an inbound
    touchpoint or an order; feedback is the customer's latest answer of each kind within its window.
    """

    lost_days: int = 365  # no activity for longer than this: lost
    repurchase_days: int = 180  # expected interval between purchases: the last order must be this recent to be loyal
    repeat_orders: int = 2  # loyal: at least this many orders within `loyal_window_days`
    loyal_window_days: int = 365
    feedback_days: int = 365  # how long an NPS answer or a referral counts
    recent_days: int = 90  # how long a CSAT/CES answer or a bad experience counts; the activity comparison window
    falling_ratio: float = 0.5  # at risk when activity in the last window < this share of the window before ...
    falling_min: int = 3  # ... and the window before had at least this many activities
    bad_types: tuple[str, ...] = ("complaint", "delivery_failed")  # touchpoint types that are a bad experience
    referral_types: tuple[str, ...] = ("referral",)  # touchpoint types that are a recommendation: advocate

    def check(self) -> None:
        """Refuse windows that make no sense."""
        days = (self.lost_days, self.repurchase_days, self.loyal_window_days, self.feedback_days, self.recent_days)
        if min(days) < 1 or self.repeat_orders < 1 or not 0 < self.falling_ratio <= 1 or self.falling_min < 1:
            raise InvalidInput("ladder windows must be at least 1 day, repeat_orders >= 1, 0 < falling_ratio <= 1")


@dataclass(frozen=True)
class LoyaltyQuery:
    """Which month ends to place customers at, by which rules, and the currency order value is counted in."""

    months: int = 12
    until: datetime | None = None  # the last snapshot is the end of this month (default: of the newest activity)
    currency: str | None = None  # default: the currency most orders are in
    rules: LadderRules = field(default_factory=LadderRules)


def _encoded(kind_matches: BooleanValue, at: object, score: object) -> object:
    """A score packed with its time (max of these = the latest score), or NULL."""
    return ibis.ifelse(kind_matches, at * NPS_KEY + score, ibis.null("int64"))  # type: ignore[operator]


def signals(tables: Tables, rules: LadderRules, currency: str | None) -> Table:
    """Touchpoints, orders and scored answers as one narrow table of per-customer events (epoch seconds)."""
    t = tables("touchpoints")
    t = t.filter(t.customer_id.notnull())
    none, no_key = ibis.literal(0), ibis.null("int64")
    touches = t.select(
        customer_id=t.customer_id, at=t.occurred_at.epoch_seconds().cast("int64"),
        active=(t.direction == "inbound").ifelse(1, 0), ordered=none, amount=ibis.literal(0.0),
        bad=t.type.isin(list(rules.bad_types)).ifelse(1, 0),
        referral=t.type.isin(list(rules.referral_types)).ifelse(1, 0),
        nps=no_key, csat=no_key, ces=no_key,
    )  # fmt: skip
    o = tables("orders")
    o = o.filter(o.customer_id.notnull())
    counted = o.amount if currency is None else ibis.ifelse(o.currency == currency, o.amount, 0.0)
    orders = o.select(
        customer_id=o.customer_id, at=o.occurred_at.epoch_seconds().cast("int64"), active=ibis.literal(1),
        ordered=ibis.literal(1), amount=counted.cast("float64"), bad=none, referral=none, nps=no_key, csat=no_key,
        ces=no_key,
    )  # fmt: skip
    s = tables("scores")
    s = s.filter(s.customer_id.notnull(), s.kind.isin(["nps", "csat", "ces"]))
    at = s.completed_at.epoch_seconds().cast("int64")
    answers = s.select(
        customer_id=s.customer_id, at=at, active=ibis.literal(1), ordered=none, amount=ibis.literal(0.0), bad=none,
        referral=none, nps=_encoded(s.kind == "nps", at, s.score), csat=_encoded(s.kind == "csat", at, s.score),
        ces=_encoded(s.kind == "ces", at, s.score),
    )  # fmt: skip
    return touches.union(orders).union(answers)


def month_ends(last: datetime, count: int) -> pd.DataFrame:
    """`count` months up to `last`'s month: label, start and end (the next month's start) in epoch seconds."""
    first = pd.Timestamp(last.year, last.month, 1, tz=UTC) - pd.DateOffset(months=count - 1)
    starts = [first + pd.DateOffset(months=i) for i in range(count + 1)]
    return pd.DataFrame(
        {
            "step": range(count),
            "month": [s.strftime("%Y-%m") for s in starts[:-1]],
            "start": [int(s.timestamp()) for s in starts[:-1]],
            "cut": [int(s.timestamp()) for s in starts[1:]],
        }
    )


def daily(events: Table) -> Table:
    """Events summed per customer and day (fewer rows to join): windows start at midnight, so nothing is lost."""
    e = events.mutate(day=events.at - events.at % DAY)
    null = ibis.null("int64")
    return e.group_by(["customer_id", "day"]).aggregate(
        last_active=ibis.ifelse(e.active == 1, e.at, null).max(),
        last_order=ibis.ifelse(e.ordered == 1, e.at, null).max(),
        active=e.active.sum(), ordered=e.ordered.sum(), amount=e.amount.sum(), bad=e.bad.sum(),
        referral=e.referral.sum(), nps=e.nps.max(), csat=e.csat.max(), ces=e.ces.max(),
    )  # fmt: skip


def features(events: Table, months: Table, rules: LadderRules) -> Table:
    """Per customer and month end: what the rules look at, from the (daily) events before that time."""
    j = events.join(months, events.day < months.cut)
    null = ibis.null("int64")

    def within(days: int) -> BooleanValue:
        return j.day >= j.cut - days * DAY

    recent, window = within(rules.recent_days), rules.recent_days * DAY
    before = (j.day >= j.cut - 2 * window) & (j.day < j.cut - window)
    return j.group_by(["customer_id", "step", "month", "start", "cut"]).aggregate(
        last_active=j.last_active.max(),
        orders_window=ibis.ifelse(within(rules.loyal_window_days), j.ordered, 0).sum(),
        last_order=j.last_order.max(),
        nps_key=ibis.ifelse(within(rules.feedback_days), j.nps, null).max(),
        csat_key=ibis.ifelse(recent, j.csat, null).max(),
        ces_key=ibis.ifelse(recent, j.ces, null).max(),
        bad=ibis.ifelse(recent, j.bad, 0).sum(),
        referrals=ibis.ifelse(within(rules.feedback_days), j.referral, 0).sum(),
        active_recent=ibis.ifelse(recent, j.active, 0).sum(),
        active_before=ibis.ifelse(before, j.active, 0).sum(),
        orders_month=ibis.ifelse(j.day >= j.start, j.ordered, 0).sum(),
        value=ibis.ifelse(j.day >= j.start, j.amount, 0.0).sum(),
    )


def placed(found: Table, rules: LadderRules) -> Table:
    """The features with the latest scores unpacked and the rung the rules give (first matching rule wins)."""
    f = found.filter(found.last_active.notnull())
    f = f.mutate(nps=f.nps_key % NPS_KEY, csat=f.csat_key % NPS_KEY, ces=f.ces_key % NPS_KEY)
    loyal = (f.orders_window >= rules.repeat_orders) & (f.last_order >= f.cut - rules.repurchase_days * DAY)
    falling = (f.active_before >= rules.falling_min) & (f.active_recent < rules.falling_ratio * f.active_before)
    rung = ibis.cases(
        (f.last_active < f.cut - rules.lost_days * DAY, "lost"),
        ((f.referrals > 0) | ((f.nps >= 9) & loyal), "advocate"),
        ((f.nps <= 6) | (f.bad > 0) | (f.csat <= 2) | (f.ces <= 3) | falling, "at_risk"),
        (loyal, "loyal"),
        ((f.nps >= 7) | (f.csat >= 4) | (f.ces >= 5), "satisfied"),
        else_="unknown",
    )
    return f.mutate(rung=rung).drop("nps_key", "csat_key", "ces_key")


def _newest(tables: Tables) -> datetime:
    """The time of the newest touchpoint or order (the default last snapshot)."""
    t, o = tables("touchpoints"), tables("orders")
    found = [table.occurred_at.epoch_seconds().max().execute() for table in (t, o)]
    known = [int(value) for value in found if value is not None and not pd.isna(value)]
    if not known:
        raise InvalidInput("no touchpoints or orders yet: nothing to place on the ladder")
    return datetime.fromtimestamp(max(known), UTC)


def main_currency(tables: Tables) -> str | None:
    """The currency most orders are in (value is summed in one currency only)."""
    o = tables("orders")
    counted = o.group_by("currency").aggregate(n=o.count()).order_by([ibis.desc("n"), "currency"]).limit(1)
    found = counted.execute()
    return None if found.empty else str(found["currency"].iloc[0])


def snapshots(tables: Tables, request: LoyaltyQuery, customer_ids: Sequence[int] = ()) -> tuple[Table, str | None]:
    """Every customer's rung at every month end of the request, and the currency value is counted in."""
    request.rules.check()
    if not 1 <= request.months <= 120:
        raise InvalidInput("months must be 1-120")
    currency = request.currency or main_currency(tables)
    months = ibis.memtable(month_ends(request.until or _newest(tables), request.months))
    events = signals(tables, request.rules, currency)
    if customer_ids:
        events = events.filter(events.customer_id.isin(list(customer_ids)))
    return placed(features(daily(events), months, request.rules), request.rules), currency


def ladder(tables: Tables, request: LoyaltyQuery) -> pd.DataFrame:
    """Customers per rung at each month end, with the orders and order value of that month each rung holds."""
    found, currency = snapshots(tables, request)
    keys = ["month", "rung"]
    counted = found.group_by(keys).aggregate(
        customers=found.count(), orders=found.orders_month.sum(), value=found.value.sum()
    )
    months = month_ends(request.until or _newest(tables), request.months)["month"]
    every = pd.MultiIndex.from_product([months, RUNGS], names=keys)
    frame = counted.execute().set_index(keys).reindex(every, fill_value=0).reset_index()
    totals = frame.groupby("month")[["customers", "value"]].transform("sum")
    frame["customers_pct"] = 100.0 * frame["customers"] / totals["customers"].where(totals["customers"] > 0)
    frame["value_pct"] = 100.0 * frame["value"] / totals["value"].where(totals["value"] > 0)
    frame["currency"] = currency
    columns = ["month", "rung", "customers", "customers_pct", "orders", "value", "value_pct", "currency"]
    result: pd.DataFrame = frame[columns].astype({"customers": int, "orders": int, "value": float})
    return result


def transitions(tables: Tables, request: LoyaltyQuery) -> pd.DataFrame:
    """Month to month: how many customers moved from each rung to each rung (`new`: not placed the month before)."""
    found, _ = snapshots(tables, request)
    # A customer placed once stays placed at every later month end, so the row before is the month before.
    ordered = ibis.window(group_by=found.customer_id, order_by=found.step)
    moved = found.mutate(from_rung=found.rung.lag().over(ordered))
    now = moved.filter(moved.step > 0)
    counted = now.group_by(["month", "from_rung", "rung"]).aggregate(customers=now.count()).execute()
    counted["from_rung"] = counted["from_rung"].astype("object").where(counted["from_rung"].notna(), "new")
    frame = counted.rename(columns={"rung": "to_rung"})
    frame["movement"] = [_movement(a, b) for a, b in zip(frame["from_rung"], frame["to_rung"], strict=True)]
    leaving = frame.groupby(["month", "from_rung"])["customers"].transform("sum")
    frame["share_of_from_pct"] = 100.0 * frame["customers"] / leaving
    frame["customers"] = frame["customers"].astype(int)
    order = {rung: i for i, rung in enumerate(("new", *RUNGS))}
    ranked = frame.assign(a=frame["from_rung"].map(order), b=frame["to_rung"].map(order))
    result: pd.DataFrame = ranked.sort_values(["month", "a", "b"], ignore_index=True).drop(columns=["a", "b"])
    return result


def _movement(before: str, after: str) -> str:
    if before == "new":
        return "new"
    up = RUNGS.index(after) - RUNGS.index(before)
    return "up" if up > 0 else "down" if up < 0 else "same"


PLACEMENT_COLUMNS = [
    "customer_id", "month", "rung", "last_active", "last_order", "orders_window", "nps", "csat", "ces", "bad",
    "referrals", "active_recent", "active_before",
]  # fmt: skip


def placements(tables: Tables, request: LoyaltyQuery, customer_ids: Sequence[int] = ()) -> pd.DataFrame:
    """Each customer's rung at the last month end, with the features that put them there (times in UTC)."""
    found, _ = snapshots(tables, LoyaltyQuery(1, request.until, request.currency, request.rules), customer_ids)
    frame = found.order_by("customer_id").execute()
    for column in ("last_active", "last_order"):
        frame[column] = pd.to_datetime(frame[column], unit="s", utc=True)
    # Engines hand an all-NULL column back as objects or floats: one type everywhere.
    frame = frame.astype({"nps": float, "csat": float, "ces": float, "orders_window": int, "bad": int})
    frame = frame.astype({"referrals": int, "active_recent": int, "active_before": int})
    result: pd.DataFrame = frame[PLACEMENT_COLUMNS].reset_index(drop=True)
    return result


def rung_levels(tables: Tables, cutoff: float) -> Table:
    """Each customer's rung at the last month end before a cut-off (epoch seconds), as 0 (lost) ... 5 (advocate)."""
    moment = datetime.fromtimestamp(cutoff, UTC)
    # The month before the cut-off's month: its end is at or before the cut-off, so nothing after it leaks in.
    before = datetime(moment.year, moment.month, 1, tzinfo=UTC) - timedelta(seconds=1)
    found, _ = snapshots(tables, LoyaltyQuery(1, before))
    level = ibis.cases(*((found.rung == name, float(index)) for index, name in enumerate(RUNGS)))
    return found.select(customer_id=found.customer_id, rung_level=level)
