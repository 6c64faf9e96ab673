"""Periods in a time zone: UTC times shifted by the offset the zone had then, written once for every engine."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import ibis
import ibis.expr.datatypes as dt
import pandas as pd
from ibis.expr.types import TimestampValue

from cxm.core.errors import InvalidInput

FIRST_YEAR = 1970  # offsets are followed from here; earlier times keep the offset of 1970
YEARS_AHEAD = 2  # ... up to the end of the year after next
STEP = timedelta(days=1)  # no zone changed its offset twice within a day
Shift = Callable[[TimestampValue, int], TimestampValue]


def checked_zone(name: str) -> str:
    """An IANA time zone name as given, or a clear error."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone '{name[:60]}': use an IANA name such as Europe/Prague or UTC") from None
    return name


@cache
def offsets(zone: str, last_year: int) -> tuple[tuple[datetime, int], ...]:
    """The zone's UTC offset in seconds from FIRST_YEAR, and each UTC moment it changed up to `last_year`, with
    the new offset."""
    place = ZoneInfo(zone)

    def offset(moment: datetime) -> int:
        found = moment.astimezone(place).utcoffset()
        return int(found.total_seconds()) if found is not None else 0

    moment, end = datetime(FIRST_YEAR, 1, 1, tzinfo=UTC), datetime(last_year + 1, 1, 1, tzinfo=UTC)
    found = [(moment, offset(moment))]
    while moment < end:
        later = moment + STEP
        if offset(later) != found[-1][1]:
            found.append((_changed_at(moment, later, offset), offset(later)))
        moment = later
    return tuple(found)


def _changed_at(before: datetime, after: datetime, offset: Callable[[datetime], int]) -> datetime:
    """The first second after `before` with the offset `after` has (bisection)."""
    wanted = offset(after)
    while after - before > timedelta(seconds=1):
        middle = before + (after - before) / 2
        before, after = (before, middle) if offset(middle) == wanted else (middle, after)
    return after.replace(microsecond=0)


def local_time(moment: TimestampValue, zone: str, *, sqlite: bool = False) -> TimestampValue:
    """UTC times as the zone's wall-clock times (the offset in force at each): a balanced tree of comparisons with
    the moments the offset changed, so each row is compared ~log2(changes) times."""
    if zone == "UTC":
        return moment
    changes = offsets(zone, datetime.now(UTC).year + YEARS_AHEAD)
    return _shifted(moment, changes, _sqlite_shift if sqlite else _plain_shift)


def _shifted(
    moment: TimestampValue,
    changes: tuple[tuple[datetime, int], ...],
    shift: Callable[[TimestampValue, int], TimestampValue],
) -> TimestampValue:
    if len(changes) == 1:
        return shift(moment, changes[0][1])
    middle = len(changes) // 2
    earlier, later = _shifted(moment, changes[:middle], shift), _shifted(moment, changes[middle:], shift)
    return ibis.ifelse(moment < changes[middle][0], earlier, later)


def _plain_shift(moment: TimestampValue, seconds: int) -> TimestampValue:
    return moment + ibis.interval(seconds=seconds) if seconds else moment


@ibis.udf.scalar.builtin(name="datetime", signature=((dt.timestamp, dt.string), dt.timestamp))
def _sqlite_datetime(moment, modifier):  # type: ignore[no-untyped-def]
    """SQLite's own `datetime(time, '+N seconds')` (Ibis's interval arithmetic there needs SQLite 3.42)."""


def _sqlite_shift(moment: TimestampValue, seconds: int) -> TimestampValue:
    return _sqlite_datetime(moment, f"{seconds:+d} seconds") if seconds else moment


def utc_starts(starts: pd.Series, zone: str) -> pd.Series:
    """Period starts written in the zone's wall-clock time as the plain UTC times they began."""
    if zone == "UTC":
        return starts
    # A local midnight that did not exist (a zone that sprang forward at midnight) begins when the clock resumed.
    local = starts.dt.tz_localize(zone, ambiguous=False, nonexistent="shift_forward")
    found: pd.Series = local.dt.tz_convert(UTC).dt.tz_localize(None)
    return found

