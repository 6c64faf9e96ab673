"""Survey, question, response, answer, invitation and trigger tables."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cxm.core.db import Base, JSONDict, UTCDateTime, utcnow

PERSONAL = {"personal": True}


class QuestionKind(enum.StrEnum):
    """What a question asks for."""

    nps = "nps"
    csat = "csat"
    ces = "ces"
    rating = "rating"
    single_choice = "single_choice"
    multi_choice = "multi_choice"
    text = "text"


class SurveyStatus(enum.StrEnum):
    """Draft surveys cannot be answered, active ones can, closed ones no longer."""

    draft = "draft"
    active = "active"
    closed = "closed"


class ResponseStatus(enum.StrEnum):
    """A partial response is saved but not yet submitted."""

    partial = "partial"
    complete = "complete"


class Survey(Base):
    """A questionnaire with texts in several languages; `key` names it in links."""

    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(10), default=SurveyStatus.draft)
    default_language: Mapped[str] = mapped_column(String(16))
    languages: Mapped[list[str]] = mapped_column(JSON)
    # {"title": {"en": ...}, "intro": {...}, "thank_you": {...}}
    texts: Mapped[dict[str, Any]] = mapped_column(JSONDict, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Question(Base):
    """One question of a survey, in position order; `show_if` holds its display condition."""

    __tablename__ = "questions"
    __table_args__ = (UniqueConstraint("survey_id", "key", name="uq_questions_survey_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    # {"label": {"en": ...}, "help": {...}, "low": {...}, "high": {...}}
    texts: Mapped[dict[str, Any]] = mapped_column(JSONDict, default=dict)
    scale_min: Mapped[int | None] = mapped_column(Integer)
    scale_max: Mapped[int | None] = mapped_column(Integer)
    # [{"value": "price", "label": {"en": ...}}, ...]
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # {"question": "nps", "op": "<=", "value": 6}; empty = always shown
    show_if: Mapped[dict[str, Any]] = mapped_column(JSONDict, default=dict)


class Response(Base):
    """One person's answers to a survey, with how and when they were collected."""

    __tablename__ = "responses"
    __table_args__ = (Index("ix_responses_survey_completed", "survey_id", "completed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    interaction_id: Mapped[int | None] = mapped_column(ForeignKey("interactions.id", ondelete="SET NULL"))
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitations.id"), unique=True)
    # The client's own id (API, imports): a re-sent response is recognised and not stored twice.
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    language: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default=ResponseStatus.partial)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Indexed: the analytics sync's watermark and the worker's change check read the newest value often.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, index=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONDict, default=dict, info=PERSONAL)


class Answer(Base):
    """The answer to one question: a score, chosen options or text."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("response_id", "question_id", name="uq_answers_response_question"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), index=True)
    # Repeated from the response so merges move answers too and erasure blanks their text.
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    score: Mapped[int | None] = mapped_column(Integer)
    choices: Mapped[list[str] | None] = mapped_column(JSON)
    text: Mapped[str | None] = mapped_column(Text, info=PERSONAL)


class Invitation(Base):
    """A personal invitation to a survey (e-mail, personal link, widget), answered at most once."""

    __tablename__ = "invitations"
    __table_args__ = (Index("ix_invitations_customer_created", "customer_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    interaction_id: Mapped[int | None] = mapped_column(ForeignKey("interactions.id", ondelete="SET NULL"))
    trigger_id: Mapped[int | None] = mapped_column(ForeignKey("survey_triggers.id"))
    channel: Mapped[str] = mapped_column(String(20))
    # Same survey, customer and cause → same key: nobody gets the same invitation twice.
    key: Mapped[str] = mapped_column(String(300), unique=True)
    status: Mapped[str] = mapped_column(String(12), default="scheduled")
    send_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    # The analytics sync reads the invitations changed since its last look (sent, reminded, answered, merged).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, index=True)


class SurveyTrigger(Base):
    """When an interaction of a type (and channel, stage) arrives, invite its customer after a delay."""

    __tablename__ = "survey_triggers"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"))
    interaction_type: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str | None] = mapped_column(String(20))
    journey_stage: Mapped[str | None] = mapped_column(String(20))
    delay_minutes: Mapped[int] = mapped_column(Integer, default=0)
    sample_percent: Mapped[int] = mapped_column(Integer, default=100)
    # Nobody is asked more than once in this many days, across all surveys.
    cap_days: Mapped[int] = mapped_column(Integer, default=30)
    send_by: Mapped[str] = mapped_column(String(20), default="email")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Interactions up to this id have been matched (starts at the newest one when the trigger is made).
    last_interaction_id: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
