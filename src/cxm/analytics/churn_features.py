"""The churn feature table: one row per customer active at a cut-off, built as one Ibis query on any engine.

A customer is *active* at a cut-off T when they ordered in the `lookback_days` before T. An active customer has
*churned* when they placed no order in [T, T + horizon_days). Every feature looks only at what was known before
T (an inbound question answered after T counts as unanswered at T), so a model trained on one cut-off and tested
on a later one is an honest forecast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import ibis
import pandas as pd
from ibis.expr.types import Table

from cxm.analytics import loyalty
from cxm.analytics.metrics import Tables

DAY = 86_400.0
COMPLAINT_TYPES = ("complaint", "return", "return_request")
# Low scores: detractors (NPS 0-6), dissatisfied (CSAT 1-2), hard to deal with (CES 1-3 of 7; 7 = very easy).
LOW_SCORE = {"nps": ("<=", 6), "csat": ("<=", 2), "ces": ("<=", 3)}
FEATURES = {
    "recency_days": "days since the last order",
    "orders": "orders in the look-back window",
    "spend": "spend in the look-back window",
    "tenure_days": "days since the first order",
    "nps_mean": "mean NPS score (0-10)",
    "csat_mean": "mean CSAT score (1-5)",
    "ces_mean": "mean ease score (CES 1-7)",
    "low_scores": "low scores (detractor NPS, CSAT 1-2, CES 1-3)",
    "complaints": "complaints and returns",
    "unanswered": "questions without a response",
    "response_hours": "mean hours to a first response",
}
COUNTS = ("orders", "spend", "low_scores", "complaints", "unanswered")


@dataclass(frozen=True)
class ChurnSettings:
    """How churn is defined and how far back features look (days)."""

    horizon_days: int = 90
    lookback_days: int = 365

    @property
    def horizon(self) -> timedelta:
        """The churn horizon as a time span."""
        return timedelta(days=self.horizon_days)


@dataclass(frozen=True)
class Window:
    """One cut-off as epoch seconds: features from [start, cutoff), the label from [cutoff, end)."""

    cutoff: float
    start: float
    end: float

    @classmethod
    def at(cls, cutoff: datetime, settings: ChurnSettings) -> Window:
        """The window of a cut-off (a naive time is read as UTC)."""
        at = (cutoff if cutoff.tzinfo else cutoff.replace(tzinfo=UTC)).timestamp()
        return cls(at, at - settings.lookback_days * DAY, at + settings.horizon_days * DAY)


# Extra per-customer feature tables, joined on customer_id: each takes the facts and the window and returns
# `customer_id` plus numeric columns.
ExtraFeatures = Callable[[Tables, Window], Table]


def _rung(tables: Tables, w: Window) -> Table:
    """The loyalty rung at the month end before the cut-off, as a level (0 lost ... 5 advocate)."""
    return loyalty.rung_levels(tables, w.cutoff)


EXTRA_FEATURES: list[tuple[ExtraFeatures, dict[str, str]]] = [
    (_rung, {"rung_level": "loyalty rung (0 lost - 5 advocate)"}),
]


def _seconds(moment: ibis.Value) -> ibis.Value:
    """A time as whole epoch seconds (SQLite has no fractions there, so every engine drops them)."""
    return moment.epoch_seconds().floor().cast("float64")


def _orders(tables: Tables, w: Window) -> Table:
    """Recency, frequency, spend and tenure of customers who ordered in the look-back window."""
    o = tables("orders")
    o = o.mutate(at=_seconds(o.occurred_at))
    past = o.filter(o.at < w.cutoff)
    recent = past.at >= w.start
    agg = past.group_by("customer_id").aggregate(
        last_at=past.at.max(),
        first_at=past.at.min(),
        orders=ibis.ifelse(recent, 1, 0).sum(),
        spend=ibis.ifelse(recent, past.amount, 0.0).sum(),
    )
    agg = agg.filter(agg.last_at >= w.start)
    return agg.select(
        "customer_id",
        "orders",
        "spend",
        recency_days=(w.cutoff - agg.last_at) / DAY,
        tenure_days=(w.cutoff - agg.first_at) / DAY,
    )


def _last_channel(tables: Tables, w: Window) -> Table:
    """The channel of each customer's newest order before the cut-off."""
    o = tables("orders")
    o = o.mutate(at=_seconds(o.occurred_at))
    o = o.filter(o.at < w.cutoff)
    ranked = o.mutate(
        n=ibis.row_number().over(group_by=o.customer_id, order_by=[ibis.desc(o.at), ibis.desc(o.order_ref)])
    )
    first = ranked.filter(ranked.n == 0)
    return first.select(channel_id=first.customer_id, channel=first.channel)


def _is_low(s: Table) -> ibis.Value:
    """Whether a score is low for its kind (see LOW_SCORE)."""
    nps, csat, ces = ((s.kind == k) & (s.score <= limit) for k, (_, limit) in LOW_SCORE.items())
    return nps | csat | ces


def _scores(tables: Tables, w: Window) -> Table:
    """Mean NPS, CSAT and CES and the count of low scores in the look-back window."""
    s = tables("scores")
    s = s.mutate(at=_seconds(s.completed_at))
    s = s.filter(s.at < w.cutoff, s.at >= w.start, s.customer_id.notnull())
    mean = {f"{kind}_mean": ibis.ifelse(s.kind == kind, s.score, ibis.null("int64")).mean() for kind in LOW_SCORE}
    agg = s.group_by("customer_id").aggregate(low_scores=ibis.ifelse(_is_low(s), 1, 0).sum(), **mean)
    return agg.rename(score_id="customer_id")


def _questions(c: Table, w: Window) -> Table:
    """Inbound contacts of the kinds (channel, type) the company answered at least once before the cut-off.

    Page views and checkouts are inbound too but expect no reply; which kinds do is read from the data.
    """
    answered = ibis.ifelse(c.replied.notnull() & (c.replied < w.cutoff), 1, 0)
    kinds = c.group_by(["channel", "type"]).aggregate(answered_kinds=answered.max())
    kinds = kinds.filter(kinds.answered_kinds == 1).select(kind_channel="channel", kind_type="type")
    joined = c.join(kinds, (c.channel == kinds.kind_channel) & (c.type == kinds.kind_type))
    return joined.select(*c.columns)


def _contacts(tables: Tables, w: Window) -> tuple[Table, Table]:
    """Per customer: questions unanswered at the cut-off and mean hours to a first response; complaints filed."""
    c = tables("contacts")
    c = c.mutate(at=_seconds(c.occurred_at), replied=_seconds(c.responded_at))
    c = c.filter(c.at < w.cutoff)
    filed = c.filter(c.at >= w.start, c.type.isin(COMPLAINT_TYPES))
    complaints = filed.group_by("customer_id").aggregate(complaints=filed.count())
    q = _questions(c, w)
    q = q.filter(q.at >= w.start)
    answered = q.replied.notnull() & (q.replied < w.cutoff)
    hours = ibis.ifelse(answered, (q.replied - q.at) / 3600.0, ibis.null("float64"))
    agg = q.group_by("customer_id").aggregate(unanswered=ibis.ifelse(answered, 0, 1).sum(), response_hours=hours.mean())
    return agg, complaints.rename(complaint_id="customer_id")


def _labels(tables: Tables, w: Window) -> Table:
    """Orders and spend in [cutoff, cutoff + horizon)."""
    o = tables("orders")
    o = o.mutate(at=_seconds(o.occurred_at))
    o = o.filter(o.at >= w.cutoff, o.at < w.end)
    return o.group_by(label_id=o.customer_id).aggregate(future_orders=o.count(), future_spend=o.amount.sum())


def feature_table(tables: Tables, w: Window) -> Table:
    """One row per active customer: features, segment, last order channel, category spend and the label's orders."""
    base = _orders(tables, w)
    people = tables("customers").select(
        person_id="customer_id", segment="segment", country="country", category_spend="category_spend"
    )
    questions, complaints = _contacts(tables, w)
    parts = [
        (_scores(tables, w), "score_id"),
        (questions.rename(contact_id="customer_id"), "contact_id"),
        (complaints, "complaint_id"),
        (_labels(tables, w), "label_id"),
        (_last_channel(tables, w), "channel_id"),
        (people, "person_id"),
        *((extra(tables, w).rename(extra_id="customer_id"), "extra_id") for extra, _ in EXTRA_FEATURES),
    ]
    joined = base
    for part, key in parts:
        # One chain of joins and a single select: SQLite's parser overflows on a subquery per join.
        joined = joined.left_join(part, base.customer_id == part[key])
    kept = joined.select(*[name for name in joined.columns if not name.endswith("_id") or name == "customer_id"])
    return kept.order_by("customer_id")


def features_at(tables: Tables, cutoff: datetime, settings: ChurnSettings) -> pd.DataFrame:
    """The feature table of a cut-off as a DataFrame, counts filled with 0, `churned` from the label window."""
    frame = feature_table(tables, Window.at(cutoff, settings)).execute()
    for name in (*COUNTS, "future_orders"):
        frame[name] = pd.to_numeric(frame[name]).fillna(0).astype("float64")
    for name in feature_names():
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    frame["churned"] = (frame["future_orders"] == 0).astype(int)
    frame["customer_id"] = frame["customer_id"].astype("int64")
    found: pd.DataFrame = frame.reset_index(drop=True)
    return found


def feature_names() -> list[str]:
    """Every feature the model uses: the built-in ones, then the extra tables' columns."""
    return [*FEATURES, *(name for _, named in EXTRA_FEATURES for name in named)]


def feature_labels() -> dict[str, str]:
    """Readable names of every feature."""
    return {**FEATURES, **{name: label for _, named in EXTRA_FEATURES for name, label in named.items()}}


def newest_order(tables: Tables) -> datetime | None:
    """The time of the newest order: the data's "now" when no cut-off is given."""
    o = tables("orders")
    value = o.aggregate(at=o.occurred_at.epoch_seconds().floor().max()).execute()["at"].iloc[0]
    return None if pd.isna(value) else datetime.fromtimestamp(float(value), UTC)
