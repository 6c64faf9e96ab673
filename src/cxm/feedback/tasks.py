"""Background jobs of feedback: invitation e-mails and reminders, each safe to run twice."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxm.config import Settings
from cxm.core.db import utcnow
from cxm.core.jobs import job_handler
from cxm.customers import service as customers_service
from cxm.feedback import mail
from cxm.feedback.definitions import translated
from cxm.feedback.invitations import (
    FAILED,
    REMIND_JOB,
    SCHEDULED,
    SEND_JOB,
    SENT,
    SKIPPED,
    SURVEYS,
    is_answered,
)
from cxm.feedback.models import Invitation, Survey, SurveyStatus
from cxm.feedback.tokens import personal_link

NO_ADDRESS = "the customer has no e-mail address"


def job_settings(session: Session) -> Settings:
    """The settings the worker runs with (it puts them on its sessions), else those of the environment."""
    found = session.info.get("settings")
    return found if isinstance(found, Settings) else Settings()


def survey_language(survey: Survey, preferred: str | None) -> str:
    """The customer's language when the survey has it (cs-CZ counts as cs), else the survey's default."""
    for candidate in (preferred or "").lower(), (preferred or "").lower().split("-")[0]:
        if candidate and candidate in survey.languages:
            return candidate
    return survey.default_language


def letter_for(session: Session, invitation: Invitation, settings: Settings, *, reminder: bool) -> mail.Letter | None:
    """What to e-mail for an invitation, in the customer's language; None without an e-mail address."""
    survey = session.get_one(Survey, invitation.survey_id)
    live = customers_service.current_customer(session, invitation.customer_id).id
    customer = customers_service.read_customer(session, live)
    address = next((identity.value for identity in customer.identities if identity.kind == "email"), None)
    if address is None:
        return None
    language = survey_language(survey, customer.language)
    title = translated(survey.texts, "title", language, survey.default_language) or survey.name
    link = personal_link(session, survey.key, invitation.id, settings=settings)
    return mail.Letter(address, customer.name, language, title, link, reminder)


def _locked(session: Session, payload: dict[str, Any]) -> Invitation | None:
    # PostgreSQL: a second worker running the same job waits here, then sees it was sent.
    query = select(Invitation).where(Invitation.id == int(payload["invitation_id"])).with_for_update()
    return session.scalar(query)


def _reason_not_to_send(session: Session, invitation: Invitation) -> str | None:
    if session.get_one(Survey, invitation.survey_id).status != SurveyStatus.active:
        return "the survey takes no answers"
    if invitation.customer_id in customers_service.refused(session, [invitation.customer_id], SURVEYS):
        return "the customer revoked consent to surveys"
    if is_answered(session, invitation.id):
        return "already answered"
    return None


def _deliver(session: Session, invitation: Invitation, *, reminder: bool) -> bool:
    """E-mail an invitation or its reminder; whether it went (SMTP failures raise, so the job is retried)."""
    settings = job_settings(session)
    reason = _reason_not_to_send(session, invitation)
    letter = None if reason else letter_for(session, invitation, settings, reminder=reminder)
    if letter is None:
        invitation.last_error = reason or NO_ADDRESS
        return False
    mail.send(settings, mail.compose(letter, sender=settings.smtp_from))
    invitation.last_error = None
    return True


@job_handler(SEND_JOB)
def send_invitation(session: Session, payload: dict[str, Any]) -> None:
    """Send a scheduled invitation e-mail once and mark it sent (or skipped / failed, with the reason)."""
    invitation = _locked(session, payload)
    if invitation is None or invitation.status != SCHEDULED:
        return
    if _deliver(session, invitation, reminder=False):
        invitation.status, invitation.sent_at = SENT, utcnow()
    else:
        invitation.status = FAILED if invitation.last_error == NO_ADDRESS else SKIPPED


@job_handler(REMIND_JOB)
def send_reminder(session: Session, payload: dict[str, Any]) -> None:
    """Send the one reminder of a sent, unanswered invitation."""
    invitation = _locked(session, payload)
    if invitation is None or invitation.status != SENT or invitation.reminded_at is not None:
        return
    if _deliver(session, invitation, reminder=True):
        invitation.reminded_at = utcnow()
