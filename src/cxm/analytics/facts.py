"""The analytic facts, defined once in Ibis over the operational tables.

Live engines (PostgreSQL, SQLite) run these expressions directly; the DuckDB store and the Parquet lake
hold their materialised result, written by the sync with the very same expressions.
"""

from __future__ import annotations

from typing import Any

import ibis
from ibis.expr.types import Table

SCORED_KINDS = ("nps", "csat", "ces", "rating")
CUSTOMER_COLUMNS = ("segment", "country", "language")
NUMBER = r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$"
CATEGORY_SPEND = "category_spend"  # the customer attribute holding their total category spend per year


def scores(tables: Any) -> Table:
    """One row per answer to a scored question of a completed response, and one row of its own for a completed
    response with no such answer (text or choices only, or a skipped score: question, kind and score empty), so that
    responses are counted whatever they answered; erased people left out. Score metrics read only the answers
    (`scored`)."""
    q = tables("questions")
    scored_questions = q.filter(q.kind.isin(SCORED_KINDS)).select(scored_id="id")
    a = tables("answers").select("response_id", "question_id", "score")
    a = a.filter(a.score.notnull(), a.question_id.isin(scored_questions.scored_id))
    q = q.select(qid="id", question="key", kind="kind", qsurvey="survey_id")
    r = tables("responses")
    r = r.filter(r.status == "complete").select(
        rid=r.id,
        survey_id=r.survey_id,
        customer_id=r.customer_id,
        interaction_id=r.interaction_id,
        language=r.language,
        collected_via=r.channel,
        completed_at=r.completed_at,
    )
    s = tables("surveys").select(sid="id", survey="key")
    i = tables("interactions").select(
        iid="id", channel="channel", journey_stage="journey_stage", agent="agent", store="store"
    )
    c = tables("customers")
    # The customer's traits ride on each answer (the join is made here anyway, for erasure): breakdowns by segment,
    # country or customer language then need no join at query time. The sync refreshes them when a profile changes.
    people = c.select(
        person=c.id, erased_at=c.erased_at, segment=c.segment, country=c.country, customer_language=c.language
    )
    # Responses first: DuckDB then hashes the answers (three numbers each) and streams the responses past them, where
    # it hashed the responses with their texts (10M answers: ~250 MiB less at the sync's peak, no slower). The scored
    # questions pick the answers before the join (a semi-join on a few ids), so its hash table stays three numbers.
    joined = (
        r.left_join(a, r.rid == a.response_id)
        .left_join(q, a.question_id == q.qid)
        .join(s, r.survey_id == s.sid)
        .left_join(i, r.interaction_id == i.iid)
        .left_join(people, r.customer_id == people.person)
    )
    kept = joined.filter(joined.erased_at.isnull())
    return kept.select(
        response_id=kept.rid.cast("int64"),
        survey=kept.survey,
        question=kept.question,
        kind=kept.kind,
        score=kept.score.cast("int64"),
        completed_at=kept.completed_at,
        customer_id=kept.customer_id.cast("int64"),
        language=kept.language,
        collected_via=kept.collected_via,
        channel=kept.channel,
        journey_stage=kept.journey_stage,
        agent=kept.agent,
        store=kept.store,
        segment=kept.segment,
        country=kept.country,
        customer_language=kept.customer_language,
    )


def scored(rows: Table) -> Table:
    """The rows of the scores fact that are answers to scored questions (not a response's row of its own)."""
    return rows.filter(rows.kind.notnull())


def _not_erased(tables: Any, rows: Table) -> Table:
    """Rows with a `customer_id`, those of erased people left out (rows of no one kept)."""
    # An anti-join with the erased few, not a join with every customer: the engine hashes a handful of ids instead
    # of the whole customer table (10M answers, 2M interactions: the three interaction facts 1.34 -> 1.10 s).
    c = tables("customers")
    erased = c.filter(c.erased_at.notnull()).select(person=c.id)
    # Selected by name so that the join ends here: a later join to customers (a breakdown on a live engine) starts anew.
    return rows.anti_join(erased, rows.customer_id == erased.person).select(*rows.columns)


def response_times(tables: Any) -> Table:
    """Inbound interactions that were answered: how long the first response took, in seconds."""
    i = tables("interactions")
    i = i.filter(i.direction == "inbound", i.responded_at.notnull())
    kept = _not_erased(tables, i)
    waited = kept.responded_at.epoch_seconds() - kept.occurred_at.epoch_seconds()
    return kept.select(
        interaction_id=kept.id.cast("int64"),
        customer_id=kept.customer_id.cast("int64"),
        channel=kept.channel,
        journey_stage=kept.journey_stage,
        type=kept.type,
        agent=kept.agent,
        store=kept.store,
        occurred_at=kept.occurred_at,
        response_seconds=waited.cast("float64"),
    )


def touchpoints(tables: Any) -> Table:
    """Every interaction with its journey stage, channel, type and direction: what journeys and the ladder read."""
    i = tables("interactions")
    kept = _not_erased(tables, i)
    return kept.select(
        interaction_id=kept.id.cast("int64"),
        customer_id=kept.customer_id.cast("int64"),
        channel=kept.channel,
        journey_stage=kept.journey_stage,
        type=kept.type,
        direction=kept.direction,
        store=kept.store,
        occurred_at=kept.occurred_at,
    )


def orders(tables: Any) -> Table:
    """Every order with its value and currency: repeat purchases and the value each loyalty rung holds."""
    o = tables("orders")
    kept = _not_erased(tables, o)
    return kept.select(
        order_ref=kept.id.cast("int64"),
        customer_id=kept.customer_id.cast("int64"),
        channel=kept.channel,
        occurred_at=kept.occurred_at,
        amount=kept.amount.cast("float64"),
        currency=kept.currency,
    )


def contacts(tables: Any) -> Table:
    """Inbound interactions (questions, complaints, ...), answered or not, with the time of the first response."""
    i = tables("interactions")
    i = i.filter(i.direction == "inbound")
    kept = _not_erased(tables, i)
    return kept.select(
        interaction_id=kept.id.cast("int64"),
        customer_id=kept.customer_id.cast("int64"),
        channel=kept.channel,
        type=kept.type,
        occurred_at=kept.occurred_at,
        responded_at=kept.responded_at,
    )


def invitations(tables: Any) -> Table:
    """Sent invitations and whether each was answered."""
    v = tables("invitations")
    v = v.filter(v.sent_at.notnull()).select(
        invitation_id=v.id,
        survey_id=v.survey_id,
        customer_id=v.customer_id,
        sent_via=v.channel,
        sent_at=v.sent_at,
        answered_at=v.answered_at,
    )
    s = tables("surveys").select(sid="id", survey="key")
    kept = _not_erased(tables, v.join(s, v.survey_id == s.sid))
    return kept.select(
        invitation_id=kept.invitation_id.cast("int64"),
        survey=kept.survey,
        customer_id=kept.customer_id.cast("int64"),
        sent_via=kept.sent_via,
        sent_at=kept.sent_at,
        answered=ibis.ifelse(kept.answered_at.notnull(), 1, 0),
    )


def customers(tables: Any) -> Table:
    """The customer dimension: traits analysts break figures down by, and the category spend trait (a number)."""
    c = tables("customers")
    kept = c.filter(c.erased_at.isnull())
    return kept.select(
        customer_id=kept.id.cast("int64"),
        segment=kept.segment,
        country=kept.country,
        customer_language=kept.language,
        # The customer's total spend in our category (with us and elsewhere), for share of wallet.
        category_spend=_number(kept.attributes[CATEGORY_SPEND]),
        # Every free attribute, for `attr.<name>` breakdowns (analytics/attributes.py).
        attributes=kept.attributes,
    )


def _number(value: Any) -> Any:
    """A JSON value as a float when it is a plain number, else NULL (the same on DuckDB, SQLite and PostgreSQL)."""
    # Ibis's own JSON-to-number compiles to invalid SQL on PostgreSQL; the value's JSON text works everywhere.
    text = value.cast("string")
    return ibis.ifelse(text.re_search(NUMBER), text.cast("float64"), ibis.null("float64"))


def questions(tables: Any) -> Table:
    """The scored questions of every survey with their scales (what driver analysis may use)."""
    q = tables("questions")
    q = q.filter(q.kind.isin(SCORED_KINDS))
    s = tables("surveys").select(sid="id", survey="key")
    joined = q.join(s, q.survey_id == s.sid)
    return joined.select(
        survey=joined.survey,
        question=joined.key,
        kind=joined.kind,
        position=joined.position.cast("int64"),
        scale_min=joined.scale_min.cast("int64"),
        scale_max=joined.scale_max.cast("int64"),
    )


def text_signals(tables: Any) -> Table:
    """What text analysis found in comments and interaction texts: language, sentiment, themes (by name)."""
    s = tables("text_signals")
    t = tables("text_themes").select(tid="id", theme="name")
    kept = _not_erased(tables, s.left_join(t, s.theme_id == t.tid))
    return kept.select(
        signal_id=kept.id.cast("int64"),
        kind=kept.kind,
        label=kept.label,
        value=kept.value.cast("float64"),
        theme_id=kept.theme_id.cast("int64"),
        theme=kept.theme,
        source=kept.source,
        source_id=kept.source_id.cast("int64"),
        question_id=kept.question_id.cast("int64"),
        response_id=ibis.ifelse(kept.source == "response", kept.source_id, ibis.null()).cast("int64"),
        interaction_id=ibis.ifelse(kept.source == "interaction", kept.source_id, ibis.null()).cast("int64"),
        customer_id=kept.customer_id.cast("int64"),
        written_at=kept.written_at,
    )


FACTS = {
    "scores": scores,
    "response_times": response_times,
    "invitations": invitations,
    "orders": orders,
    "contacts": contacts,
    "customers": customers,
    "questions": questions,
    "touchpoints": touchpoints,
    "text_signals": text_signals,
}
