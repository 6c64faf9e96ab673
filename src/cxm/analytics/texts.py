"""What text analysis found in each response's comments, as columns metrics and drivers can use.

A response's *sentiment* is the label of its comment's sentiment signal; when it has several text answers, the
label of the mean of their scores (positive above 0.2, negative below -0.2, else neutral: the text engine's
thresholds). Its *themes* are every theme its comments carry, each once, by name (`theme`) or by id (`theme_id`, as
text: it survives a rename). Responses without a comment have none.
"""

from __future__ import annotations

from collections.abc import Callable

import ibis
from ibis.expr.types import Table

Tables = Callable[[str], Table]
THEME_DIMENSIONS = ("theme", "theme_id")
TEXT_DIMENSIONS = ("sentiment", *THEME_DIMENSIONS)
# The text engine's label thresholds (cxm.text.sentiment), a test keeps them equal.
POSITIVE_FROM = 0.2
NEGATIVE_BELOW = -0.2


def _response_signals(tables: Tables, kind: str) -> Table:
    t = tables("text_signals")
    return t.filter(t.kind == kind, t.response_id.notnull())


def response_sentiment(tables: Tables) -> Table:
    """One row per response with a comment: `mood_response`, its `sentiment` label and `mood` score (-1..1)."""
    t = _response_signals(tables, "sentiment")
    g = t.group_by("response_id").aggregate(texts=t.count(), mood=t.value.mean(), only=t.label.max())
    label = ibis.cases(
        (g.texts == 1, g.only),
        (g.mood > POSITIVE_FROM, "positive"),
        (g.mood < NEGATIVE_BELOW, "negative"),
        else_="neutral",
    )
    return g.select(mood_response=g.response_id, sentiment=label, mood=g.mood)


def response_themes(tables: Tables) -> Table:
    """One row per response and theme its comments carry: `theme_response`, `theme` (its name), `theme_id` (text)."""
    t = _response_signals(tables, "theme")
    t = t.filter(t.theme.notnull())
    return t.select(theme_response=t.response_id, theme=t.theme, theme_id=t.theme_id.cast("string")).distinct()


def with_text_dimensions(table: Table, tables: Tables, by: list[str], where: dict[str, list[str]]) -> Table:
    """Answers with the text dimensions a query breaks down by (and sentiment when filtered): a response counts once
    in each theme it carries. A theme filter without its breakdown is a filter on the response (`dimensions.py`)."""
    if "sentiment" in by or "sentiment" in where:
        mood = response_sentiment(tables)
        table = table.left_join(mood, table.response_id == mood.mood_response).select(table, mood.sentiment)
    shown = [name for name in THEME_DIMENSIONS if name in by]
    if shown:
        themes = response_themes(tables)
        table = table.left_join(themes, table.response_id == themes.theme_response).select(
            table, *[themes[name] for name in shown]
        )
    return table
