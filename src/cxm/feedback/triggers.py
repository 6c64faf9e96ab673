"""Triggers: invite the customer of each matching interaction after a delay, sampled, capped and with consent."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxm.core import jobs
from cxm.core.db import utcnow
from cxm.core.errors import NotFound
from cxm.customers import service as customers_service
from cxm.feedback.invitations import SURVEYS, Invitee, invite_many, recently_invited
from cxm.feedback.models import Survey, SurveyStatus, SurveyTrigger
from cxm.feedback.schemas import TriggerCreate, TriggerRead
from cxm.interactions import service as interactions_service
from cxm.interactions.service import InteractionRef

BATCH = 5000
# An interaction this much older than its send time is not surveyed: importing last year's history
# must not send a survey about each old visit.
TOO_OLD = timedelta(days=7)


def create_trigger(session: Session, survey: Survey, body: TriggerCreate) -> SurveyTrigger:
    """Store a trigger; it reacts only to interactions that arrive from now on."""
    trigger = SurveyTrigger(
        survey_id=survey.id,
        **body.model_dump(),
        active=True,
        last_interaction_id=interactions_service.newest_interaction_id(session),
    )
    session.add(trigger)
    session.flush()
    return trigger


def list_triggers(session: Session, survey: Survey) -> list[TriggerRead]:
    """A survey's triggers, oldest first."""
    query = select(SurveyTrigger).where(SurveyTrigger.survey_id == survey.id).order_by(SurveyTrigger.id)
    return [TriggerRead.model_validate(trigger) for trigger in session.scalars(query)]


def get_trigger(session: Session, survey: Survey, trigger_id: int) -> SurveyTrigger:
    """One trigger of a survey."""
    trigger = session.get(SurveyTrigger, trigger_id)
    if trigger is None or trigger.survey_id != survey.id:
        raise NotFound(f"survey '{survey.key}' has no trigger {trigger_id}")
    return trigger


def sampled(trigger_id: int, interaction_id: int, percent: int) -> bool:
    """Whether an interaction falls in a trigger's sample: decided by a hash, so every re-run agrees."""
    digest = hashlib.sha256(f"{trigger_id}:{interaction_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < percent


def match_triggers(session: Session, *, now: datetime | None = None) -> int:
    """Invite the customers of the interactions that arrived since each active trigger last looked; how many."""
    if not jobs.tick_lock(session, "feedback.match_triggers"):
        return 0
    now = now or utcnow()
    # Interaction ids are given out under the ingest's resolution lock, so every id up to the newest
    # committed one is visible now: nothing below the watermark can still arrive.
    ceiling = interactions_service.newest_interaction_id(session)
    due = select(SurveyTrigger).where(SurveyTrigger.active.is_(True), SurveyTrigger.last_interaction_id < ceiling)
    return sum(_match(session, trigger, ceiling, now) for trigger in session.scalars(due.order_by(SurveyTrigger.id)))


def _match(session: Session, trigger: SurveyTrigger, ceiling: int, now: datetime) -> int:
    if session.get_one(Survey, trigger.survey_id).status != SurveyStatus.active:
        trigger.last_interaction_id = ceiling  # interactions while a survey takes no answers are let go
        return 0
    invited = 0
    while trigger.last_interaction_id < ceiling:
        batch = interactions_service.interactions_after(
            session,
            trigger.last_interaction_id,
            type=trigger.interaction_type,
            channel=trigger.channel,
            stage=trigger.journey_stage,
            limit=BATCH,
        )
        batch = [row for row in batch if row.id <= ceiling]
        if batch:
            invited += _invite(session, trigger, batch, now)
        trigger.last_interaction_id = batch[-1].id if len(batch) == BATCH else ceiling
    return invited


def _invite(session: Session, trigger: SurveyTrigger, batch: Sequence[InteractionRef], now: datetime) -> int:
    delay = timedelta(minutes=trigger.delay_minutes)
    fresh = [
        row
        for row in batch
        if sampled(trigger.id, row.id, trigger.sample_percent) and row.occurred_at + delay >= now - TOO_OLD
    ]
    blocked = _blocked(session, {row.customer_id for row in fresh}, trigger.cap_days, now)
    invitees: list[Invitee] = []
    for row in fresh:
        if row.customer_id in blocked:
            continue
        if trigger.cap_days > 0:
            blocked.add(row.customer_id)  # one invitation per customer within the cap, even in one batch
        invitees.append(Invitee(row.customer_id, row.id, trigger.id, "email", row.occurred_at + delay))
    return invite_many(session, trigger.survey_id, invitees, now=now)


def _blocked(session: Session, customer_ids: set[int], cap_days: int, now: datetime) -> set[int]:
    """Customers not to invite: revoked consent, erased, or asked within the cap."""
    blocked = customers_service.refused(session, customer_ids, SURVEYS)
    blocked |= customer_ids - customers_service.usable_customer_ids(session, customer_ids)
    if cap_days > 0:
        blocked |= recently_invited(session, customer_ids - blocked, days=cap_days, now=now)
    return blocked


def stop_trigger(session: Session, survey: Survey, trigger_id: int) -> SurveyTrigger:
    """Stop a trigger (it is kept, inactive, so its invitations still name it)."""
    trigger = get_trigger(session, survey, trigger_id)
    trigger.active = False
    session.flush()
    return trigger
