"""Feedback: surveys, the distribution of every scored question, and verbatim comments."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from cxm.analytics import service as analytics_service
from cxm.core.auth import Permission, Principal, SessionDep, require_user
from cxm.core.errors import InvalidInput
from cxm.feedback import service as feedback_service
from cxm.text import service as text_service
from cxm.web.cache import remember, store_version
from cxm.web.figures import AnalyticsEngine, metric_cards
from cxm.web.filters import FilterBar, Filters, comments_said, filter_options, responses_said
from cxm.web.rendering import render, ui_language
from cxm.web.tables import csv_response

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Principal, Depends(require_user(Permission.read))]


def _score(name: str) -> Any:
    """A score bound from the query string, 0-10; blank (the search form's empty field) is no bound."""

    def bound(value: str | None = Query(None, alias=name)) -> int | None:  # a default: evaluated here, with `name`
        if value is None or not value.strip():
            return None
        if not value.strip().isdigit() or int(value) > 10:
            raise InvalidInput(f"'{name}' must be a whole number from 0 to 10")
        return int(value)

    return Depends(bound)


MinScore = Annotated[int | None, _score("min_score")]
MaxScore = Annotated[int | None, _score("max_score")]
PAGE = 25
CSV_COMMENTS = 100_000  # the most comments one download holds
SIGNAL_CHUNK = 5_000  # comments per look-up of their signals (SQL bounds its parameters)
COMMENT_COLUMNS = ("response_id", "customer_id", "survey", "question", "language", "score", "completed_at", "text")


def distributions(engine: analytics_service.Engine, filters: FilterBar) -> list[dict[str, Any]]:
    """Each scored question's answers per score, with bar widths, from the analytics engine."""
    key = ("distributions", store_version(engine), filters)
    return remember(key, lambda: _distributions(analytics_service.distribution(engine, filters.query("nps"))))


def _distributions(frame: Any) -> list[dict[str, Any]]:
    questions: list[dict[str, Any]] = []
    for (survey, question, kind), rows in frame.groupby(["survey", "question", "kind"], sort=True):
        counts = [(int(score), int(count)) for score, count in zip(rows["score"], rows["count"], strict=True)]
        total = sum(count for _, count in counts) or 1
        largest = max(count for _, count in counts) or 1
        bars = [
            {"label": str(score), "n": count, "share": 100 * count / total, "width": round(100 * count / largest, 1)}
            for score, count in counts
        ]
        questions.append({"survey": survey, "question": question, "kind": kind, "n": total, "bars": bars})
    return questions


def choice_questions(session: SessionDep, filters: FilterBar, labels_in: str) -> list[dict[str, Any]]:
    """Each choice question's options with respondents, share and bar widths (labels in `labels_in` where the
    survey has it), from the feedback service."""
    query = filters.query("nps")
    wanted = feedback_service.ChoiceFilter(
        survey_key=filters.survey,
        language=filters.language,
        who=filters.respondents(),
        since=query.since,
        until=query.until,
        said=responses_said(filters),
    )
    found = feedback_service.choice_distributions(session, wanted, labels_in=labels_in)
    return [_choice_bars(question) for question in found]


def _choice_bars(found: feedback_service.ChoiceDistribution) -> dict[str, Any]:
    largest = max((option.count for option in found.options), default=0) or 1
    bars = [
        {"label": o.label, "n": o.count, "share": o.share, "width": round(100 * o.count / largest, 1)}
        for o in found.options
    ]
    return {"survey": found.survey, "question": found.question, "kind": found.kind, "n": found.n, "bars": bars}


ANSWER_COLUMNS = ("survey", "question", "kind", "answer", "count", "percent", "n")


def _answers_csv(questions: list[dict[str, Any]]) -> Response:
    """Every question's distribution (scores and options) as one table; percent of the question's n."""
    rows = [
        [q["survey"], q["question"], q["kind"], bar["label"], bar["n"], round(bar["share"], 2), q["n"]]
        for q in questions
        for bar in q["bars"]
    ]
    return csv_response("feedback-answers.csv", ANSWER_COLUMNS, rows)


def _verbatim_filter(filters: FilterBar, q: str, min_score: int | None, max_score: int | None) -> Any:
    query = filters.query("nps")
    return feedback_service.VerbatimFilter(
        survey_key=filters.survey,
        search=q.strip() or None,
        language=filters.language,
        min_score=min_score,
        max_score=max_score,
        since=query.since,
        until=query.until,
        who=filters.respondents(),
        said=comments_said(filters),
    )


def _comments_csv(session: Session, wanted: feedback_service.VerbatimFilter) -> Response:
    """The filtered comments as CSV, each with its sentiment and themes (as on the page)."""
    rows, _ = feedback_service.verbatims(session, wanted, limit=CSV_COMMENTS, offset=0)
    said = _comment_signals(session, [(v.response_id, v.question_id) for v in rows])
    header = [*COMMENT_COLUMNS, "sentiment", "themes"]
    cells = []
    for v in rows:
        signals = said.get((v.response_id, v.question_id))
        values = [v.response_id, v.customer_id, v.survey, v.question, v.language, v.score, v.completed_at, v.text]
        cells.append([*values, signals and signals.sentiment, "; ".join(signals.themes) if signals else ""])
    return csv_response("comments.csv", header, cells)


def _comment_signals(
    session: Session, keys: list[tuple[int, int]]
) -> dict[tuple[int, int], text_service.CommentSignals]:
    """The comments' signals, asked for in chunks (a download holds up to 100,000 comments; SQL has a bound)."""
    found: dict[tuple[int, int], text_service.CommentSignals] = {}
    for start in range(0, len(keys), SIGNAL_CHUNK):
        found.update(text_service.comment_signals(session, keys[start : start + SIGNAL_CHUNK]))
    return found


@router.get("/feedback")
def feedback_page(
    request: Request,
    user: Viewer,
    session: SessionDep,
    engine: AnalyticsEngine,
    filters: Filters,
    min_score: MinScore,
    max_score: MaxScore,
    q: str = "",
    offset: Annotated[int, Query(ge=0)] = 0,
    format: str = "html",
    table: str = "comments",
) -> Response:
    """Surveys, per-question distributions and the comments (searchable, by language and score); as CSV:
    `?format=csv` the comments, `&table=answers` the distributions."""
    wanted = _verbatim_filter(filters, q, min_score, max_score)
    if format == "csv" and table == "answers":
        return _answers_csv([*distributions(engine, filters), *choice_questions(session, filters, ui_language(user))])
    if format == "csv":
        return _comments_csv(session, wanted)
    comments, total = feedback_service.verbatims(session, wanted, limit=PAGE, offset=offset)
    with engine.holding():
        cards, questions = metric_cards(engine, ("nps", "csat", "ces"), filters), distributions(engine, filters)
    extra = {"q": q, "min_score": min_score, "max_score": max_score}
    return render(
        request,
        user,
        "feedback.html",
        title="Feedback",
        filters=filters,
        options=filter_options(session, engine),
        surveys=feedback_service.list_surveys(session),
        cards=cards,
        questions=questions,
        choices=choice_questions(session, filters, ui_language(user)),
        comments=comments,
        said=text_service.comment_signals(session, [(c.response_id, c.question_id) for c in comments]),
        page={"total": total, "limit": PAGE, "offset": offset},
        extra=extra,
        base=filters.url("/feedback", **extra) + ("&" if filters.params(**extra) else "?"),
    )
