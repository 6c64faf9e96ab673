"""What figures can be broken down by and filtered on, and the periods they can be bucketed into."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import ibis
from ibis.expr.types import Table

from cxm.analytics.attributes import attribute_key, is_attribute, with_attributes
from cxm.analytics.texts import TEXT_DIMENSIONS, THEME_DIMENSIONS, response_themes, with_text_dimensions
from cxm.analytics.zones import checked_zone, local_time
from cxm.core.errors import InvalidInput

# Where a dimension has no value (no segment, no analysed comment): shown so in breakdowns, and matched so by filters.
NONE_LABEL = "(none)"
PERIODS = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}
CUSTOMER_DIMENSIONS = ("segment", "country", "customer_language")
# Score dimensions also hold what text analysis found in the response's comments (sentiment, theme: texts.py).
SCORE_DIMENSIONS = (
    "channel", "journey_stage", "store", "survey", "question", "language", "collected_via", "agent", *TEXT_DIMENSIONS
)  # fmt: skip
TIME_DIMENSIONS = ("channel", "journey_stage", "store", "type", "agent")
INVITATION_DIMENSIONS = ("survey", "sent_via")


@dataclass(frozen=True)
class Query:
    """One question asked of a metric: breakdown, period, filters."""

    by: Sequence[str] = ()
    period: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    where: dict[str, Sequence[str]] = field(default_factory=dict)
    zone: str = "UTC"  # the time zone periods are cut in, and times without a zone are read in

    def __post_init__(self) -> None:
        # Times in any zone (or ISO 8601 text, from the library) become UTC here: the engines compare them with UTC
        # times, and DuckDB knows no zone called '+02:00'.
        object.__setattr__(self, "zone", checked_zone(self.zone))
        object.__setattr__(self, "since", utc_moment(self.since, "since", self.zone))
        object.__setattr__(self, "until", utc_moment(self.until, "until", self.zone))
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise InvalidInput(
                "'since' must be before 'until'", details={"since": str(self.since), "until": str(self.until)}
            )

    def columns(self) -> list[str]:
        """Every column the breakdown and the filters need."""
        return [*self.by, *self.where]


def utc_moment(value: object, name: str, zone: str = "UTC") -> datetime | None:
    """A moment as an aware UTC datetime: a datetime (one without a zone is taken as the zone's wall-clock time), a
    date (its midnight there), or ISO 8601 text."""
    moment = read_moment(value, name)
    if moment is None:
        return None
    try:
        return moment.replace(tzinfo=moment.tzinfo or ZoneInfo(zone)).astimezone(UTC)
    except OverflowError:  # 0001-01-01 an hour east of UTC is before the first moment Python knows
        raise InvalidInput(f"'{name}' is out of range: '{str(value)[:40]}'") from None


def read_moment(value: object, name: str) -> datetime | None:
    """A datetime, a date (its midnight) or ISO 8601 text as a datetime, with the zone it was given in (or none)."""
    if value is None or isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time.min)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidInput(f"'{name}' is not a date or time (ISO 8601): '{value[:40]}'") from None
    else:
        raise InvalidInput(f"'{name}' must be a date or time, not {type(value).__name__}")
    return moment


def check_query(query: Query, allowed: Sequence[str]) -> None:
    """Refuse unknown dimensions, filters and periods with the list of what is allowed."""
    known = [*allowed, *CUSTOMER_DIMENSIONS]
    unknown = [name for name in query.columns() if name not in known and not is_attribute(name)]
    if unknown:
        allowed_names = [*known, "attr.<customer attribute>"]
        raise InvalidInput(
            f"cannot break down or filter by '{unknown[0]}': use {', '.join(allowed_names)}",
            details={"allowed": allowed_names},
        )
    for name in query.columns():
        if is_attribute(name):
            attribute_key(name)
    if query.period is not None and query.period not in PERIODS:
        raise InvalidInput(f"unknown period '{query.period}'", details={"allowed": list(PERIODS)})
    if len(set(query.by)) != len(query.by):
        raise InvalidInput("a dimension is repeated in 'by'")


def shaped(facts: Table, tables: Callable[[str], Table], query: Query, time_column: str) -> Table:
    """Facts joined to customers and to text signals only when needed, filtered, with a `period` when asked for."""
    table = facts
    # Facts that carry the customer's traits themselves (scores) need no join.
    if any(name in CUSTOMER_DIMENSIONS and name not in facts.columns for name in query.columns()):
        people = tables("customers")
        table = table.left_join(people, table.customer_id == people.customer_id).select(
            table, *[people[name] for name in CUSTOMER_DIMENSIONS]
        )
    attributes = [name for name in dict.fromkeys(query.columns()) if is_attribute(name)]
    if attributes:
        table = with_attributes(table, tables, attributes)
    if any(name in TEXT_DIMENSIONS for name in query.columns()):
        where = {name: list(values) for name, values in query.where.items()}
        table = with_text_dimensions(table, tables, list(query.by), where)
    # A theme filter without its breakdown keeps each chosen response once, however many of the themes it carries.
    about = [name for name in THEME_DIMENSIONS if name in query.where and name not in query.by]
    for name in about:
        table = _about_themes(table, tables, name, query.where[name])
    engine = _engine_name(table)
    table = _filtered(table, query, time_column, skip=about, plain=engine == "duckdb")
    if query.period is not None:
        table = table.mutate(period=in_periods(table, time_column, query.period, query.zone))
    return table


def in_periods(table: Table, time_column: str, period: str, zone: str) -> Any:
    """A time column's periods in the zone (their starts as its wall-clock times)."""
    engine = _engine_name(table)
    local = local_time(table[time_column], zone, sqlite=engine == "sqlite", plain=engine == "duckdb")
    return local.truncate(PERIODS[period])


def _comparable(moment: datetime, plain: bool) -> datetime:
    """A UTC moment as an engine compares its times with it cheaply: `plain` on DuckDB, whose facts hold plain UTC
    times (with a zone, DuckDB cast every row to TIMESTAMPTZ first: +0.7 s per 10M answers), aware elsewhere
    (PostgreSQL's times have a zone; Spark reads a plain literal in its session's zone)."""
    return moment.astimezone(UTC).replace(tzinfo=None) if plain else moment


def _engine_name(table: Table) -> str:
    """The name of the engine a table is read from ("" when it is not bound to one: compiled only)."""
    try:
        return str(table._find_backend(use_default=False).name)
    except ibis.common.exceptions.IbisError:
        return ""


def _matching(column: Any, values: Sequence[str]) -> Any:
    """A column's values among those chosen; `(none)` among them matches a missing value."""
    listed = [value for value in values if value != NONE_LABEL]
    found = column.isin(listed)
    return found | column.isnull() if NONE_LABEL in values else found


def _about_themes(table: Table, tables: Callable[[str], Table], name: str, values: Sequence[str]) -> Table:
    """Answers whose comments carry one of the chosen themes (by `name`); `(none)`: those carrying no theme."""
    themes = response_themes(tables)
    chosen = themes.filter(themes[name].isin([value for value in values if value != NONE_LABEL]))
    about = table.response_id.isin(chosen.theme_response)
    if NONE_LABEL in values:
        about = about | ~table.response_id.isin(themes.theme_response)
    return table.filter(about)


def _filtered(table: Table, query: Query, time_column: str, skip: Sequence[str], plain: bool) -> Table:
    conditions: list[Any] = [_matching(table[name], values) for name, values in query.where.items() if name not in skip]
    if query.since is not None:
        conditions.append(table[time_column] >= _comparable(query.since, plain))
    if query.until is not None:
        conditions.append(table[time_column] < _comparable(query.until, plain))
    return table.filter(*conditions) if conditions else table


def group_columns(query: Query) -> list[str]:
    """The columns results are grouped by, in order."""
    return [*query.by, *(["period"] if query.period else [])]
