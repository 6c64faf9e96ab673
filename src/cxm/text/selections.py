"""Which response comments (and responses) carry a sentiment or a theme: SQL selections other domains filter by.

A comment is judged by its own signals; a response as analytics judges it (`cxm.analytics.texts`): its sentiment is
its one comment's label, or with several comments the label of their mean score; its themes are every theme its
comments carry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, case, false, func, select
from sqlalchemy.orm import Session

from cxm.text.models import TextSignal, TextTheme
from cxm.text.sentiment import NEGATIVE_BELOW, POSITIVE_FROM


def _of_comments(kind: str) -> Any:
    """Where a signal of `kind` is about a response's comment."""
    t = TextSignal
    return (t.source == "response", t.kind == kind, t.question_id.is_not(None))


def _theme_matches(theme_id: str) -> Any:
    """A theme chosen by its id (as text: a link's value); anything else matches nothing."""
    return TextSignal.theme_id == int(theme_id) if theme_id.isdigit() else false()


def comments_with(kind: str) -> Select[int, int | None]:
    """(response id, question id) of every comment with any signal of `kind` (analysed; carrying some theme)."""
    return select(TextSignal.source_id, TextSignal.question_id).where(*_of_comments(kind))


def comments_with_sentiment(label: str) -> Select[int, int | None]:
    """(response id, question id) of every comment whose own sentiment is `label`."""
    return comments_with("sentiment").where(TextSignal.label == label)


def comments_with_theme(theme_id: str) -> Select[int, int | None]:
    """(response id, question id) of every comment about the theme with this id."""
    return comments_with("theme").where(_theme_matches(theme_id))


def responses_with(kind: str) -> Select[int]:
    """Ids of the responses with a comment that has any signal of `kind`."""
    return select(TextSignal.source_id).where(*_of_comments(kind))


def responses_with_sentiment(label: str) -> Select[int]:
    """Ids of the responses whose sentiment is `label`: one comment's own label, several comments' mean score's."""
    t = TextSignal
    g = (
        select(
            t.source_id, func.count().label("texts"), func.avg(t.value).label("mood"), func.max(t.label).label("only")
        )
        .where(*_of_comments("sentiment"))
        .group_by(t.source_id)
        .subquery()
    )
    judged = case(
        (g.c.texts == 1, g.c.only),
        (g.c.mood > POSITIVE_FROM, "positive"),
        (g.c.mood < NEGATIVE_BELOW, "negative"),
        else_="neutral",
    )
    return select(g.c.source_id).where(judged == label)


def responses_with_theme(theme_id: str) -> Select[int]:
    """Ids of the responses with a comment about the theme with this id."""
    return responses_with("theme").where(_theme_matches(theme_id))


@dataclass
class CommentSignals:
    """What text analysis says about one comment: its sentiment label and its themes' current names."""

    sentiment: str | None = None
    themes: list[str] = field(default_factory=list)


def comment_signals(session: Session, comments: Sequence[tuple[int, int]]) -> dict[tuple[int, int], CommentSignals]:
    """The sentiment and themes (strongest first) of these comments, by (response id, question id); analysed only."""
    wanted = set(comments)
    if not wanted:
        return {}
    t = TextSignal
    query = (
        select(t.source_id, t.question_id, t.kind, t.label, TextTheme.name)
        .outerjoin(TextTheme, TextTheme.id == t.theme_id)
        .where(t.source == "response", t.question_id.is_not(None), t.kind.in_(("sentiment", "theme")))
        .where(t.source_id.in_(sorted({r for r, _ in wanted})))
        .order_by(t.source_id, t.question_id, t.value.desc(), t.id)
    )
    found: dict[tuple[int, int], CommentSignals] = {}
    for response_id, question_id, kind, label, theme in session.execute(query):
        key = (int(response_id), int(question_id or 0))  # the query keeps comments only: a question id is there
        if key in wanted:
            _note(found.setdefault(key, CommentSignals()), kind, label, theme)
    return found


def _note(signals: CommentSignals, kind: str, label: str, theme: str | None) -> None:
    if kind == "sentiment":
        signals.sentiment = label
    elif theme is not None:
        signals.themes.append(theme)
