"""Feedback: the one way other domains, the API, the CLI and the library reach surveys and responses."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxm.core.timeline import TimelineEntry, register_source
from cxm.feedback import tasks  # noqa: F401  (registers the e-mail jobs wherever feedback is used)
from cxm.feedback.choices import ChoiceDistribution, ChoiceFilter, OptionCount, choice_distributions
from cxm.feedback.comments import (
    CommentText,
    RatedComment,
    Verbatim,
    VerbatimFilter,
    comment_texts,
    commented_responses,
    rated_comments,
    verbatims,
)
from cxm.feedback.embedded import visitor_token
from cxm.feedback.exports import responses_frame
from cxm.feedback.importers import ResponseImportSummary, import_responses
from cxm.feedback.ingest import IncomingResponse, StoreResult, store_responses
from cxm.feedback.invitations import (
    STATUSES as INVITATION_STATUSES,
)
from cxm.feedback.invitations import (
    ConsentRefused,
    Invitee,
    invite,
    list_invitations,
    queue_reminders,
    read_invitation,
)
from cxm.feedback.mail import check_smtp
from cxm.feedback.mappings import ResponseMapping, load_mapping
from cxm.feedback.models import Response, Survey, SurveyStatus
from cxm.feedback.preview import preview_page
from cxm.feedback.responses import (
    Respondent,
    ResponseFilter,
    get_response,
    list_responses,
    read_response,
    record_response,
    save_answers,
    start_response,
    stored_answers,
)
from cxm.feedback.selections import Respondents, Selection
from cxm.feedback.surveys import (
    SurveyClosed,
    check_open,
    create_survey,
    definition_of,
    get_survey,
    list_surveys,
    questions_of,
    read_survey,
    replace_draft,
    set_status,
)
from cxm.feedback.templates import definition_from_text, install_templates, load_template, template_names
from cxm.feedback.triggers import create_trigger, get_trigger, list_triggers, match_triggers, stop_trigger

__all__ = [
    "INVITATION_STATUSES",
    "ConsentRefused",
    "Invitee",
    "Respondent",
    "ResponseFilter",
    "SurveyClosed",
    "SurveyStatus",
    "check_open",
    "create_survey",
    "create_trigger",
    "get_response",
    "get_survey",
    "get_trigger",
    "install_templates",
    "invite",
    "list_invitations",
    "list_responses",
    "list_surveys",
    "list_triggers",
    "load_template",
    "match_triggers",
    "questions_of",
    "queue_reminders",
    "read_invitation",
    "read_response",
    "read_survey",
    "record_response",
    "responses_frame",
    "save_answers",
    "set_status",
    "start_response",
    "stop_trigger",
    "stored_answers",
    "template_names",
]
__all__ += ["CommentText", "RatedComment", "comment_texts", "commented_responses", "rated_comments"]  # for text
__all__ += ["definition_from_text", "definition_of", "preview_page", "replace_draft"]  # designing in the browser
__all__ += ["Respondents", "Selection", "Verbatim", "VerbatimFilter", "check_smtp", "verbatims"]  # the dashboard
__all__ += ["ChoiceDistribution", "ChoiceFilter", "OptionCount", "choice_distributions"]
__all__ += [  # imports and bulk storing
    "IncomingResponse",
    "ResponseImportSummary",
    "ResponseMapping",
    "StoreResult",
    "import_responses",
    "load_mapping",
    "store_responses",
    "visitor_token",
]


def _response_entries(session: Session, customer_ids: Sequence[int], limit: int) -> list[TimelineEntry]:
    """Completed responses as timeline entries, newest first."""
    query = (
        select(Response, Survey.name)
        .join(Survey, Survey.id == Response.survey_id)
        .where(Response.customer_id.in_(customer_ids), Response.completed_at.is_not(None))
        .order_by(Response.completed_at.desc(), Response.id.desc())
        .limit(limit)
    )
    return [_entry(session, response, name) for response, name in session.execute(query)]


def _entry(session: Session, response: Response, survey_name: str) -> TimelineEntry:
    answers = stored_answers(session, response.id)
    scores = ", ".join(f"{key} {value}" for key, value in answers.items() if isinstance(value, int))
    assert response.completed_at is not None
    return TimelineEntry(
        kind="response",
        id=response.id,
        occurred_at=response.completed_at,
        channel=response.channel,
        summary=f"{survey_name}: {scores}" if scores else survey_name,
        data={"survey_id": response.survey_id, "interaction_id": response.interaction_id, "answers": answers},
    )


register_source("responses", _response_entries)
