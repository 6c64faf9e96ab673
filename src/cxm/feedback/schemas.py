"""What crosses the API about surveys, responses, invitations and triggers."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, Field, model_validator

from cxm.core.schemas import ReadModel, Schema
from cxm.customers.schemas import Identified, normalised_identities
from cxm.feedback.definitions import check_definition
from cxm.feedback.models import QuestionKind, SurveyStatus

Slug = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=100)
Translated = dict[str, str]
AnswerValue = int | str | list[str] | None
# The fixed scales of the standard metrics; `rating` sets its own.
SCALES: dict[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
SCORED = frozenset({"nps", "csat", "ces", "rating"})
CHOICE = frozenset({"single_choice", "multi_choice"})


class Option(Schema):
    """One answer option of a choice question."""

    value: str = Field(min_length=1, max_length=100)
    label: Translated


class Condition(Schema):
    """Show a question only when an earlier answer satisfies this."""

    question: str
    op: Literal["<=", "<", ">=", ">", "==", "!=", "in"]
    value: int | str | list[int | str]


class QuestionDef(Schema):
    """One question as defined by API or file; scales of nps/csat/ces are fixed."""

    key: str = Slug
    kind: QuestionKind
    required: bool = False
    label: Translated
    help: Translated | None = None
    low: Translated | None = None
    high: Translated | None = None
    scale_min: int | None = None
    scale_max: int | None = None
    options: list[Option] = Field(default_factory=list)
    show_if: Condition | None = None

    @model_validator(mode="after")
    def _shape(self) -> QuestionDef:
        if self.kind in SCALES:
            self.scale_min, self.scale_max = SCALES[self.kind]
        elif self.kind == "rating":
            self.scale_min = 1 if self.scale_min is None else self.scale_min
            self.scale_max = 5 if self.scale_max is None else self.scale_max
            if not 2 <= self.scale_max - self.scale_min + 1 <= 11:
                raise ValueError(f"question '{self.key}': a rating scale has 2 to 11 points")
        if (self.kind in CHOICE) != bool(self.options):
            raise ValueError(f"question '{self.key}': options belong to (and are needed by) choice questions")
        if len({option.value for option in self.options}) != len(self.options):
            raise ValueError(f"question '{self.key}': option values repeat")
        return self


class SurveyCreate(Schema):
    """A whole survey: texts per language, questions in order."""

    key: str = Slug
    name: str = Field(min_length=1, max_length=300)
    status: SurveyStatus = SurveyStatus.draft
    default_language: str = "en"
    languages: list[str] = Field(default_factory=lambda: ["en"], min_length=1)
    title: Translated
    intro: Translated | None = None
    thank_you: Translated
    questions: list[QuestionDef] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _consistent(self) -> SurveyCreate:
        check_definition(self)
        return self


class SurveyStatusChange(Schema):
    """Open a draft for answers, or close a survey."""

    status: SurveyStatus


class QuestionRead(ReadModel):
    """A stored question."""

    key: str
    kind: str
    required: bool
    texts: dict[str, Any]
    scale_min: int | None
    scale_max: int | None
    options: list[dict[str, Any]]
    show_if: dict[str, Any]


class SurveyRead(ReadModel):
    """A stored survey with its questions."""

    id: int
    key: str
    name: str
    status: str
    default_language: str
    languages: list[str]
    texts: dict[str, Any]
    questions: list[QuestionRead]
    created_at: datetime
    closed_at: datetime | None


class SurveySummary(ReadModel):
    """A survey in a list."""

    id: int
    key: str
    name: str
    status: str
    languages: list[str]
    responses: int = 0


class ResponseIn(Schema):
    """A response collected elsewhere; `external_id` makes re-sending it harmless."""

    survey: str
    external_id: str | None = Field(default=None, min_length=1, max_length=200)
    customer_id: int | None = None
    identities: dict[str, str] = Field(default_factory=dict)
    interaction_id: int | None = None
    language: str | None = None
    channel: str = Field(default="api", max_length=20)
    answers: dict[str, AnswerValue]
    started_at: AwareDatetime | None = None
    completed_at: AwareDatetime | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _identities(self) -> ResponseIn:
        self.identities = normalised_identities(self.identities)
        return self


class ResponseRead(ReadModel):
    """A stored response with its answers keyed by question."""

    id: int
    survey: str
    customer_id: int | None
    interaction_id: int | None
    external_id: str | None
    language: str
    channel: str
    status: str
    started_at: datetime
    completed_at: datetime | None
    answers: dict[str, AnswerValue]
    duplicate: bool = False


class InvitationCreate(Identified):
    """Invite one customer (by id or identity) to a survey, by e-mail or as a personal link."""

    interaction_id: int | None = None
    channel: Literal["email", "link"] = "email"
    send_at: AwareDatetime | None = None


class InvitationRead(ReadModel):
    """A stored invitation and its personal link."""

    id: int
    survey_id: int
    customer_id: int
    interaction_id: int | None
    channel: str
    status: str
    send_at: datetime
    sent_at: datetime | None
    answered_at: datetime | None
    link: str | None = None


class TriggerCreate(Schema):
    """Invite the customer of each matching interaction after a delay, sampled and capped."""

    interaction_type: str = Field(min_length=1, max_length=100)
    channel: str | None = None
    journey_stage: str | None = None
    delay_minutes: int = Field(default=0, ge=0, le=60 * 24 * 90)
    sample_percent: int = Field(default=100, ge=0, le=100)
    cap_days: int = Field(default=30, ge=0, le=3650)
    send_by: Literal["email"] = "email"


class TriggerRead(ReadModel):
    """A stored trigger."""

    id: int
    survey_id: int
    interaction_type: str
    channel: str | None
    journey_stage: str | None
    delay_minutes: int
    sample_percent: int
    cap_days: int
    send_by: str
    active: bool
