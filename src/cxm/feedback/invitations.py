"""Invitations: who is asked to answer which survey, how, when, and through which personal link."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, exists, func, insert, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cxm.config import Settings
from cxm.core import jobs
from cxm.core.db import utcnow
from cxm.core.errors import Conflict
from cxm.core.schemas import Page
from cxm.customers import service as customers_service
from cxm.feedback.models import Invitation, Response, ResponseStatus, Survey, SurveyStatus
from cxm.feedback.schemas import InvitationRead
from cxm.feedback.surveys import check_open
from cxm.feedback.tokens import personal_link

SCHEDULED, ISSUED, SENT, SKIPPED, FAILED, ANSWERED = "scheduled", "issued", "sent", "skipped", "failed", "answered"
STATUSES = (SCHEDULED, ISSUED, SENT, SKIPPED, FAILED, ANSWERED)
SEND_JOB = "feedback.send_invitation"
REMIND_JOB = "feedback.send_reminder"
REMIND_PREFIX = "remind:"
SURVEYS = "surveys"  # the consent purpose that allows inviting


class ConsentRefused(Conflict):
    """The customer has revoked consent to be surveyed."""

    code = "consent_refused"


@dataclass(frozen=True)
class Invitee:
    """Whom to invite, why, how and when."""

    customer_id: int
    interaction_id: int | None = None
    trigger_id: int | None = None
    channel: str = "email"
    send_at: datetime | None = None


def invitation_key(survey_id: int, customer_id: int, interaction_id: int | None) -> str:
    """The same survey, customer and cause always give the same key, so nobody is invited twice for one cause."""
    cause = f"interaction:{interaction_id}" if interaction_id is not None else "direct"
    return f"survey:{survey_id}:customer:{customer_id}:{cause}"


def _by_key(session: Session, key: str) -> Invitation | None:
    return session.scalar(select(Invitation).where(Invitation.key == key))


def invite(
    session: Session, survey: Survey, invitee: Invitee, *, now: datetime | None = None
) -> tuple[Invitation, bool]:
    """Invite a customer (e-mails are sent by a queued job); the invitation and whether it is new."""
    check_open(survey)
    key = invitation_key(survey.id, invitee.customer_id, invitee.interaction_id)
    existing = _by_key(session, key)
    if existing is not None:
        return existing, False
    if invitee.customer_id in customers_service.refused(session, [invitee.customer_id], SURVEYS):
        raise ConsentRefused(f"customer {invitee.customer_id} does not want to be surveyed")
    now = now or utcnow()
    invitation = _new(survey.id, invitee, key, max(invitee.send_at or now, now), now)
    try:
        with session.begin_nested():
            session.add(invitation)
    except IntegrityError:  # the same invitation was made at the same moment by another request
        return _by_key(session, key) or invitation, False
    if invitation.channel == "email":
        jobs.enqueue(
            session, SEND_JOB, {"invitation_id": invitation.id}, run_at=invitation.send_at, key=_job_key(invitation.id)
        )
    return invitation, True


def _new(survey_id: int, invitee: Invitee, key: str, send_at: datetime, now: datetime) -> Invitation:
    return Invitation(
        survey_id=survey_id,
        customer_id=invitee.customer_id,
        interaction_id=invitee.interaction_id,
        trigger_id=invitee.trigger_id,
        channel=invitee.channel,
        key=key,
        status=SCHEDULED if invitee.channel == "email" else ISSUED,
        send_at=send_at,
        created_at=now,
    )


def _remind_key() -> ColumnElement[str]:
    """The key of an invitation's reminder job, in SQL (once queued, an invitation is not picked again)."""
    return literal(REMIND_PREFIX, String) + cast(Invitation.id, String)


def _job_key(invitation_id: int) -> str:
    return f"invite:{invitation_id}"


def invite_many(session: Session, survey_id: int, invitees: Sequence[Invitee], *, now: datetime) -> int:
    """E-mail invitations for many customers at once (set-based); causes already invited are skipped."""
    rows = {invitation_key(survey_id, i.customer_id, i.interaction_id): i for i in invitees}
    for start in range(0, len(rows), 2000):
        chunk = list(rows)[start : start + 2000]
        for taken in session.scalars(select(Invitation.key).where(Invitation.key.in_(chunk))):
            rows.pop(taken, None)
    if not rows:
        return 0
    values = [_row(survey_id, key, invitee, now) for key, invitee in rows.items()]
    stored = session.execute(insert(Invitation).returning(Invitation.id, Invitation.send_at), values).all()
    queued = [({"invitation_id": id_}, send_at, _job_key(id_)) for id_, send_at in stored]
    jobs.enqueue_many(session, SEND_JOB, queued)
    return len(stored)


def _row(survey_id: int, key: str, invitee: Invitee, now: datetime) -> dict[str, Any]:
    send_at = max(invitee.send_at or now, now)
    return {
        "survey_id": survey_id,
        "customer_id": invitee.customer_id,
        "interaction_id": invitee.interaction_id,
        "trigger_id": invitee.trigger_id,
        "channel": "email",
        "key": key,
        "status": SCHEDULED,
        "send_at": send_at,
        "created_at": now,
    }


def answered() -> ColumnElement[bool]:
    """Whether an invitation has been answered: marked so, or a complete response came through it."""
    complete = exists().where(Response.invitation_id == Invitation.id, Response.status == ResponseStatus.complete)
    return or_(Invitation.answered_at.is_not(None), complete)


def is_answered(session: Session, invitation_id: int) -> bool:
    """Whether this invitation has been answered."""
    return bool(session.scalar(select(answered()).where(Invitation.id == invitation_id)))


def recently_invited(session: Session, customer_ids: set[int], *, days: int, now: datetime) -> set[int]:
    """Which customers got an invitation (to any survey) in the last `days` days."""
    wanted, found = sorted(customer_ids), set[int]()
    since = now - timedelta(days=days)
    for start in range(0, len(wanted), 2000):
        chunk = wanted[start : start + 2000]
        query = select(Invitation.customer_id).where(Invitation.customer_id.in_(chunk), Invitation.created_at > since)
        found.update(session.scalars(query.distinct()))
    return found


def read_invitation(
    session: Session, invitation: Invitation, *, settings: Settings | None = None, with_link: bool = False
) -> InvitationRead:
    """An invitation as the API shows it; the personal link only when asked for (it lets one answer)."""
    status = ANSWERED if is_answered(session, invitation.id) else invitation.status
    read = InvitationRead.model_validate({**_columns(invitation), "status": status})
    if with_link:
        survey_key = session.get_one(Survey, invitation.survey_id).key
        read.link = personal_link(session, survey_key, invitation.id, settings=settings)
    return read


def _columns(invitation: Invitation) -> dict[str, Any]:
    return {column.key: getattr(invitation, column.key) for column in Invitation.__table__.columns}


def list_invitations(
    session: Session, survey: Survey, *, status: str | None, limit: int, offset: int
) -> Page[InvitationRead]:
    """A survey's invitations, newest first, optionally only those in one status."""
    query = select(Invitation, answered().label("answered")).where(Invitation.survey_id == survey.id)
    if status == ANSWERED:
        query = query.where(answered())
    elif status is not None:
        query = query.where(Invitation.status == status, ~answered())
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.order_by(Invitation.id.desc()).limit(limit).offset(offset))
    items = [
        InvitationRead.model_validate({**_columns(row), "status": ANSWERED if done else row.status})
        for row, done in rows
    ]
    return Page[InvitationRead](items=items, total=total, limit=limit, offset=offset)


def queue_reminders(session: Session, *, days: int, now: datetime | None = None, limit: int = 5000) -> int:
    """Queue one reminder for each e-mail invitation sent `days` ago and not answered; how many were queued."""
    if days <= 0 or not jobs.tick_lock(session, "feedback.queue_reminders"):
        return 0
    now = now or utcnow()
    due = (
        select(Invitation.id)
        .join(Survey, Survey.id == Invitation.survey_id)
        .where(
            and_(Invitation.channel == "email", Invitation.status == SENT, Invitation.reminded_at.is_(None)),
            Invitation.sent_at <= now - timedelta(days=days),
            Survey.status == SurveyStatus.active,
            ~answered(),
            ~exists().where(jobs.Job.key == _remind_key()),
        )
        .order_by(Invitation.id)
        .limit(limit)
    )
    queued = [({"invitation_id": id_}, now, f"{REMIND_PREFIX}{id_}") for id_ in session.scalars(due)]
    return jobs.enqueue_many(session, REMIND_JOB, queued)
