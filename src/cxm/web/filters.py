"""The filter bar every page shares: date range, channel, journey stage, store, segment, a customer attribute,
language, survey, and what the response's comments say (sentiment, theme); all in the URL."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time, timedelta
from time import monotonic
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from cxm.analytics import service as analytics_service
from cxm.analytics.attributes import PREFIX, attribute_key
from cxm.core.errors import InvalidInput
from cxm.customers import service as customers_service
from cxm.feedback import service as feedback_service
from cxm.interactions import service as interactions_service
from cxm.text import service as text_service
from cxm.web.cache import remember, store_version
from cxm.web.i18n import LANGUAGES, N_

# Which filter feeds which analytics column; `language` is the answer's language for scores, the
# customer's language elsewhere. A theme is chosen by id, so a shared link survives its renaming.
SCORE_COLUMNS = {
    "channel": "channel",
    "journey_stage": "journey_stage",
    "store": "store",
    "segment": "segment",
    "language": "language",
    "survey": "survey",
    "sentiment": "sentiment",
    "theme": "theme_id",
}
COLUMNS = {
    "nps": SCORE_COLUMNS,
    "csat": SCORE_COLUMNS,
    "ces": SCORE_COLUMNS,
    "rating": SCORE_COLUMNS,
    "responses": SCORE_COLUMNS,
    "response_rate": {"segment": "segment", "language": "customer_language", "survey": "survey"},
    "first_response_time": {
        "channel": "channel",
        "journey_stage": "journey_stage",
        "store": "store",
        "segment": "segment",
        "language": "customer_language",
    },
}
CHOICES = ("channel", "journey_stage", "store", "segment", "language", "survey", "sentiment", "theme")
# The analytics layer's value for "nothing there": no analysed comment, or a comment without a theme.
NOTHING = analytics_service.NONE_LABEL
SENTIMENTS = (
    ("negative", N_("negative")),
    ("neutral", N_("neutral")),
    ("positive", N_("positive")),
    ("mixed", N_("mixed")),
    (NOTHING, N_("no analysed comment")),
)


def _start(day: date | None, zone: str) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(zone)) if day else None


@dataclass(frozen=True)
class FilterBar:
    """What a page is filtered by; every field travels in the query string so a view can be shared."""

    since: date | None = None
    until: date | None = None
    channel: str | None = None
    journey_stage: str | None = None
    store: str | None = None
    segment: str | None = None
    # One customer attribute as `name=value` (`tier=gold`): every metric can take it, as `attr.<name>`.
    attribute: str | None = None
    language: str | None = None
    survey: str | None = None
    sentiment: str | None = None
    theme: str | None = None
    zone: str = "UTC"  # the installation's time zone (CXM_TIMEZONE): days and months are its own; not a filter

    def params(self, **changes: Any) -> dict[str, str]:
        """The filters (with changes) as query parameters, empty ones left out."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "zone"} | changes
        return {name: str(value) for name, value in values.items() if value not in (None, "")}

    def url(self, path: str, **changes: Any) -> str:
        """A link to `path` that keeps these filters (plus page-specific parameters in `changes`)."""
        params = self.params(**changes)
        return path + (f"?{urlencode(params)}" if params else "")

    def query(self, metric: str, *, by: tuple[str, ...] = (), period: str | None = None) -> analytics_service.Query:
        """The analytics question for a metric under these filters (filters a metric cannot take are left out)."""
        columns = COLUMNS[metric]
        chosen = {name: getattr(self, name) for name in CHOICES if getattr(self, name) and name in columns}
        where: dict[str, Sequence[str]] = {columns[name]: [str(value)] for name, value in chosen.items()}
        if pair := self.attribute_pair():
            where[PREFIX + pair[0]] = [pair[1]]
        # Dates are the installation's days: from the first's midnight in its zone to the end of the last.
        since, until = (
            _start(self.since, self.zone),
            _start(self.until + timedelta(days=1), self.zone) if self.until else None,
        )
        return analytics_service.Query(by=by, period=period, since=since, until=until, where=where, zone=self.zone)

    def respondents(self) -> feedback_service.Respondents:
        """Where the responses came from and who gave them, for the operational lists (comments, choices)."""
        return feedback_service.Respondents(
            channel=self.channel,
            journey_stage=self.journey_stage,
            store=self.store,
            segment=self.segment,
            attribute=self.attribute_pair(),
        )

    def attribute_pair(self) -> tuple[str, str] | None:
        """The customer attribute filter as (name, value)."""
        name, _, value = (self.attribute or "").partition("=")
        return (name, value) if self.attribute else None

    def ignored(self, metric: str) -> list[str]:
        """The filters set that a metric cannot be filtered by (shown on its card)."""
        return [name for name in CHOICES if getattr(self, name) and name not in COLUMNS[metric]]

    def unapplied(self, applied: Collection[str]) -> list[str]:
        """The filters set (dates as `since` / `until`) that a figure taking only `applied` leaves out."""
        return [f.name for f in fields(self) if getattr(self, f.name) and f.name not in (*applied, "zone")]

    def without_dates(self) -> FilterBar:
        """The same filters over all time (for trends)."""
        return replace(self, since=None, until=None)


def _said(value: str, matching: Callable[[str], Any], any_signal: Any) -> feedback_service.Selection:
    """The rows text analysis found `value` in; `(none)`: the rows without any such signal."""
    if value == NOTHING:
        return feedback_service.Selection(any_signal, outside=True)
    return feedback_service.Selection(matching(value))


def comments_said(filters: FilterBar) -> tuple[feedback_service.Selection, ...]:
    """The comments whose own sentiment and themes match the filter bar (a comment list shows what each says)."""
    t = text_service
    return _selections(filters, t.comments_with_sentiment, t.comments_with_theme, t.comments_with)


def responses_said(filters: FilterBar) -> tuple[feedback_service.Selection, ...]:
    """The responses whose comments match the filter bar as analytics judges a response (its sentiment from all its
    comments, any of its themes), so counts agree with the score cards."""
    t = text_service
    return _selections(filters, t.responses_with_sentiment, t.responses_with_theme, t.responses_with)


def _selections(
    filters: FilterBar,
    with_sentiment: Callable[[str], Any],
    with_theme: Callable[[str], Any],
    with_any: Callable[[str], Any],
) -> tuple[feedback_service.Selection, ...]:
    """The filter bar's sentiment and theme as selections of one level (comments or responses)."""
    found = []
    if filters.sentiment:
        found.append(_said(filters.sentiment, with_sentiment, with_any("sentiment")))
    if filters.theme:
        found.append(_said(filters.theme, with_theme, with_any("theme")))
    return tuple(found)


def _text(value: str | None) -> str | None:
    return value.strip()[:200] or None if value else None


def _day(value: str | None) -> date | None:
    """A date from the query string; a blank one (the filter bar's empty date field) is no date."""
    if not value or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError as error:
        raise InvalidInput(f"'{value[:40]}' is not a date (YYYY-MM-DD)") from error


def _attribute(value: str | None) -> str | None:
    """A customer attribute filter `name=value` (spaces around either trimmed); refused unless it has that shape."""
    text = _text(value)
    if text is None:
        return None
    name, equals, wanted = (part.strip() for part in text.partition("="))
    if not equals or not wanted:
        raise InvalidInput(f"'{text[:40]}' is not a customer attribute filter: write name=value, e.g. tier=gold")
    attribute_key(PREFIX + name)
    return f"{name}={wanted}"


def filter_bar(
    since: str | None = None,
    until: str | None = None,
    channel: str | None = None,
    journey_stage: str | None = None,
    store: str | None = None,
    segment: str | None = None,
    attribute: str | None = None,
    language: str | None = None,
    survey: str | None = None,
    sentiment: str | None = None,
    theme: str | None = None,
) -> FilterBar:
    """The filter bar of a page request (unknown values simply match nothing)."""
    chosen = {"channel": channel, "journey_stage": journey_stage, "store": store, "segment": segment}
    chosen |= {"language": language, "survey": survey, "sentiment": sentiment, "theme": theme}
    picked: dict[str, Any] = {name: _text(value) for name, value in chosen.items()}
    return FilterBar(since=_day(since), until=_day(until), attribute=_attribute(attribute), **picked)


def page_filters(request: Request, bar: Annotated[FilterBar, Depends(filter_bar)]) -> FilterBar:
    """The filter bar in the installation's time zone."""
    return replace(bar, zone=request.app.state.settings.timezone)


Filters = Annotated[FilterBar, Depends(page_filters)]


def filter_options(session: Session, engine: analytics_service.Engine) -> dict[str, list[tuple[str, str]]]:
    """The values each filter menu offers (value, label); segments, stores and attribute names are looked up again
    after a minute. Sentiment labels and "no theme" are message ids (the filter bar translates them); themes show
    their current name."""
    minute = int(monotonic() // 60)
    database = str(session.get_bind().engine.url)
    segments = remember(("segments", database, minute), lambda: customers_service.segments(session))
    stores = remember(("stores", store_version(engine), minute), lambda: analytics_service.stores(engine))
    names = remember(("attributes", database, minute), lambda: customers_service.attribute_names(session))
    return {
        "channel": [(c, c) for c in interactions_service.CHANNELS],
        "journey_stage": [(s, s.replace("_", "-")) for s in interactions_service.JOURNEY_STAGES],
        "store": [(s, s) for s in stores],
        # Suggestions for the attribute field ("tier=" for an attribute `tier`), not a menu.
        "attribute": [(f"{name}=", name) for name in names],
        "segment": [(s, s) for s in segments],
        "language": [(code, code) for code in LANGUAGES],
        "survey": [(s.key, s.name) for s in feedback_service.list_surveys(session)],
        "sentiment": list(SENTIMENTS),
        "theme": theme_menu(session),
    }


def theme_menu(session: Session) -> list[tuple[str, str]]:
    """The theme filter's choices: each theme by id with its current name, then "no theme"."""
    return [*((str(i), name) for i, name in text_service.theme_names(session)), (NOTHING, N_("no theme"))]
