"""Metric definitions: what each metric counts (in Ibis, on any engine) and which statistics it reports."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pandas as pd
from ibis.expr.types import Table

from cxm.analytics import stats
from cxm.analytics.dimensions import (
    INVITATION_DIMENSIONS,
    NONE_LABEL,
    SCORE_DIMENSIONS,
    Query,
    check_query,
    group_columns,
    shaped,
)
from cxm.analytics.zones import utc_starts
from cxm.core.errors import InvalidInput

Tables = Callable[[str], Table]
Scale = tuple[float, float]
# The breakdowns that tell rating questions apart: groups of one survey's or one question's ratings share a scale.
SCALE_KEYS = ("survey", "question")


@dataclass(frozen=True)
class Scales:
    """The scale of each group of ratings where questions on different scales were asked, found by the group's
    survey and question."""

    keys: tuple[str, ...]
    of: dict[tuple[Any, ...], Scale]

    def scale(self, key: tuple[Any, ...], columns: list[str]) -> Scale | None:
        """The scale of the group with this key (None for a question no longer defined)."""
        return self.of.get(tuple(key[columns.index(name)] for name in self.keys))


@dataclass(frozen=True)
class ScoreMetric:
    """A metric computed from the histogram of one kind of score."""

    name: str
    kind: str
    estimate: Callable[[stats.Histogram], stats.Estimate]
    compare: Callable[[stats.Estimate, stats.Estimate], stats.Comparison]
    unit: str
    scales: Scales | None = None  # ratings on several scales: each group on its own

    def estimator(self, key: tuple[Any, ...], columns: list[str]) -> Callable[[stats.Histogram], stats.Estimate]:
        """How one group's figure is estimated (ratings on several scales: on the group's own scale)."""
        if self.scales is None:
            return self.estimate
        return partial(stats.mean, scale=self.scales.scale(key, columns))


def _answered_share(histogram: stats.Histogram) -> stats.Estimate:
    """The share of invitations answered: score 1 counts the answered ones, score 0 the others."""
    return stats.proportion(histogram.get(1, 0), sum(histogram.values()))


# Response rate is a share like CSAT: its table, change and significance are made the same way.
RESPONSE_RATE = ScoreMetric("response_rate", "response_rate", _answered_share, stats.proportion_compare, "% answered")
SCORE_METRICS = {
    "nps": ScoreMetric("nps", "nps", stats.nps, stats.z_compare, "points"),
    "csat": ScoreMetric("csat", "csat", stats.csat, stats.proportion_compare, "% satisfied (4-5)"),
    "ces": ScoreMetric("ces", "ces", stats.ces, stats.welch_compare, "mean on 1-7"),
    "rating": ScoreMetric("rating", "rating", stats.mean, stats.welch_compare, "mean score"),
}


def scaled(tables: Tables, metric: ScoreMetric, query: Query) -> ScoreMetric:
    """The metric with the scale of its answers where it has none of its own: ratings take the scale of the rating
    questions asked (their intervals then stay on it, and answers that nearly all agree get some width); ratings on
    different scales are only figured apart, each group on its own."""
    if metric.kind != "rating":
        return metric
    asked = _rating_scales(tables, query)
    found = set(asked.values())
    if len(found) > 1:
        return replace(metric, scales=_group_scales(asked, query))
    if not found:
        return metric
    [scale] = found
    return replace(metric, estimate=partial(stats.mean, scale=scale))


def _rating_scales(tables: Tables, query: Query) -> dict[tuple[str, str], Scale]:
    """The scale of each rating question the query's filters leave, by survey and question."""
    q = tables("questions")
    q = q.filter(q.kind == "rating")
    for name in SCALE_KEYS:
        if name in query.where:
            q = q.filter(q[name].isin(list(query.where[name])))
    rows = q.select("survey", "question", "scale_min", "scale_max").execute().dropna()
    return {
        (str(row.survey), str(row.question)): (float(row.scale_min), float(row.scale_max)) for row in rows.itertuples()
    }


def _group_scales(asked: dict[tuple[str, str], Scale], query: Query) -> Scales:
    """Each group's scale, where the breakdown keeps ratings of different scales apart; else a clear refusal."""
    # A mean of 1-5 stars and 0-10 scores together means nothing: no figure rather than a wrong one.
    keys = tuple(name for name in SCALE_KEYS if name in query.by)
    grouped: dict[tuple[str, ...], set[Scale]] = {}
    for (survey, question), scale in asked.items():
        named = {"survey": survey, "question": question}
        grouped.setdefault(tuple(named[name] for name in keys), set()).add(scale)
    if not keys or any(len(scales) > 1 for scales in grouped.values()):
        listed = [
            {"survey": survey, "question": question, "scale_min": low, "scale_max": high}
            for (survey, question), (low, high) in sorted(asked.items())
        ]
        raise InvalidInput(
            "rating questions on different scales cannot be averaged together: break ratings down by survey and "
            "question, or filter on one survey",
            details={"scales": listed},
        )
    return Scales(keys, {key: next(iter(scales)) for key, scales in grouped.items()})


def score_histogram(tables: Tables, metric: ScoreMetric, query: Query) -> pd.DataFrame:
    """How many answers gave each score, per group (the only thing engines compute for score metrics)."""
    return kind_histograms(tables, [metric.kind], query).drop(columns="kind")


def kind_histograms(tables: Tables, kinds: Sequence[str], query: Query) -> pd.DataFrame:
    """How many answers gave each score, per kind of score and group: several score metrics in one engine query."""
    check_query(query, SCORE_DIMENSIONS)
    facts = tables("scores")
    facts = facts.filter(facts.kind.isin(list(kinds)))
    table = shaped(facts, tables, query, "completed_at")
    keys = ["kind", *group_columns(query), "score"]
    counted = table.group_by(keys).aggregate(count=table.count())
    return labelled(counted.execute(), group_columns(query))


def labelled(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Missing group values shown as "(none)"; periods as plain timestamps."""
    for key in keys:
        if key == "period":
            frame[key] = pd.to_datetime(frame[key]).dt.tz_localize(None)
        else:
            frame[key] = frame[key].astype("object").where(frame[key].notna(), NONE_LABEL)
    return frame


def score_table(histogram: pd.DataFrame, metric: ScoreMetric, query: Query) -> pd.DataFrame:
    """One row per group (and period): value, n, CI, and the change with its CI and p-value."""
    keys = group_columns(query)
    groups = _histograms(histogram, keys)
    estimates = {key: metric.estimator(key, keys)(counts) for key, counts in groups.items()}  # each group's once
    rows = [_row(key, estimate, keys) for key, estimate in estimates.items()]
    frame = pd.DataFrame(rows, columns=[*keys, "value", "n", "ci_low", "ci_high", "ci_method", "small_sample"])
    changes = list(_changes(groups, estimates, metric, query))
    change_columns = ["change", "change_ci_low", "change_ci_high", "p_value", "compared_with"]
    frame[change_columns] = pd.DataFrame(changes, columns=change_columns, index=frame.index) if changes else None
    return with_partial(frame.sort_values(keys, ignore_index=True), query) if keys else frame


def with_partial(
    frame: pd.DataFrame, query: Query, now: datetime | None = None, begun: pd.Series | None = None
) -> pd.DataFrame:
    """Each period marked `partial` (after the period) where only part of it is counted: `since` or `until` cut it,
    it is not over yet, or (`begun`, per row) its group began within it."""
    # A rate of part of a period is still a fair estimate (its n and CI say how sure), but a reader comparing it with
    # whole periods should know: a month so far is not the month.
    if query.period is None:
        return frame
    begins, ends = period_bounds(pd.to_datetime(frame["period"]), query)
    first, last = _spans(begins, ends, query, now, begun)
    found = (first > begins) | (last < ends)
    frame.insert(list(frame.columns).index("period") + 1, "partial", found.astype(bool))
    return frame


def counted_spans(
    starts: pd.Series, query: Query, now: datetime | None = None, begun: pd.Series | None = None
) -> tuple[pd.Series, pd.Series]:
    """Where counting began and ended (plain UTC times) in each period starting at `starts` (in the query's zone):
    cut by `since`, `until`, now, and where given, when each row's group began (plain UTC)."""
    return _spans(*period_bounds(starts, query), query, now, begun)


def _spans(
    starts: pd.Series, ends: pd.Series, query: Query, now: datetime | None, begun: pd.Series | None
) -> tuple[pd.Series, pd.Series]:
    """The parts of periods (plain UTC bounds) that are counted."""
    since = _naive(query.since) if query.since is not None else None
    first = starts.where(starts >= since, since) if since is not None else starts
    if begun is not None:
        first = first.where(first >= begun, begun)
    latest = _naive(now or datetime.now(UTC))
    end = min(latest, _naive(query.until)) if query.until is not None else latest
    return first, ends.where(ends <= end, end)


def period_bounds(starts: pd.Series, query: Query) -> tuple[pd.Series, pd.Series]:
    """When periods starting at `starts` (wall-clock times of the query's zone) began and ended, as plain UTC times."""
    assert query.period is not None
    return utc_starts(starts, query.zone), utc_starts(starts + STEP[query.period], query.zone)


def _naive(moment: datetime) -> pd.Timestamp:
    """A moment as a plain UTC timestamp, as periods are written."""
    return pd.Timestamp(moment.astimezone(UTC).replace(tzinfo=None))


def _histograms(histogram: pd.DataFrame, keys: list[str]) -> dict[tuple[Any, ...], dict[int, int]]:
    """Each group's counts per score, groups in the order of their keys as text."""
    groups: dict[tuple[Any, ...], dict[int, int]] = {}
    scores, counts = histogram["score"].astype(int).tolist(), histogram["count"].astype(int).tolist()
    for key, score, count in zip(_group_keys(histogram, keys), scores, counts, strict=True):
        groups.setdefault(key, {})[score] = count
    return dict(sorted(groups.items(), key=lambda item: tuple(map(str, item[0]))))


def _group_keys(histogram: pd.DataFrame, keys: list[str]) -> list[tuple[Any, ...]]:
    """Each row's group key; every distinct value is made a Python object once (not once per row: a period column
    of ~2,000 rows cost ~20 ms as one Timestamp per row)."""
    columns = []
    for name in keys:
        codes, distinct = pd.factorize(histogram[name], use_na_sentinel=False)
        values = list(distinct)
        columns.append([values[code] for code in codes.tolist()])
    return list(zip(*columns, strict=True)) if keys else [()] * len(histogram)


def _row(key: tuple[Any, ...], estimate: stats.Estimate, keys: list[str]) -> list[Any]:
    return [*key, estimate.value, estimate.n, estimate.ci_low, estimate.ci_high, estimate.method, estimate.small]


def _changes(
    groups: dict[tuple[Any, ...], dict[int, int]],
    estimates: dict[tuple[Any, ...], stats.Estimate],
    metric: ScoreMetric,
    query: Query,
) -> Iterator[list[Any]]:
    """Each period vs the group's previous period; without periods, each group vs all the others (on its scale)."""
    earlier: dict[Any, Any] = {}  # each period's previous one, worked out once
    keys = group_columns(query)
    totals = _totals(groups, metric, keys)
    for key, estimate in estimates.items():
        if query.period is not None:
            period = earlier.setdefault(key[-1], pd.Timestamp(key[-1]) - STEP[query.period])
            other, label = estimates.get((*key[:-1], period)), "previous period"
        else:
            rest = _rest(totals[_scale_of(metric, key, keys)], groups[key])
            other, label = (metric.estimator(key, keys)(rest) if rest else None), "rest"
        if other is None:
            yield [None, None, None, None, None]
            continue
        found = metric.compare(estimate, other)
        yield [found.difference, found.ci_low, found.ci_high, found.p_value, label]


def _scale_of(metric: ScoreMetric, key: tuple[Any, ...], keys: list[str]) -> Scale | None:
    """The scale a group is on, where groups of ratings are on several (None: one for all)."""
    return metric.scales.scale(key, keys) if metric.scales else None


def _totals(
    groups: dict[tuple[Any, ...], dict[int, int]], metric: ScoreMetric, keys: list[str]
) -> dict[Scale | None, dict[int, int]]:
    """Counts per score of all the groups on each scale (a group is compared with the rest of its scale only)."""
    on: dict[Scale | None, list[dict[int, int]]] = {}
    for key, counts in groups.items():
        on.setdefault(_scale_of(metric, key, keys), []).append(counts)
    return {scale: _summed(histograms) for scale, histograms in on.items()}


STEP = {
    "day": pd.DateOffset(days=1),
    "week": pd.DateOffset(weeks=1),
    "month": pd.DateOffset(months=1),
    "quarter": pd.DateOffset(months=3),
    "year": pd.DateOffset(years=1),
}


def _summed(histograms: Iterable[dict[int, int]]) -> dict[int, int]:
    """Counts per score over several histograms."""
    total: dict[int, int] = {}
    for counts in histograms:
        for score, count in counts.items():
            total[score] = total.get(score, 0) + count
    return total


def _rest(total: dict[int, int], counts: dict[int, int]) -> dict[int, int] | None:
    """The histogram of every other group: the total less this group's (scores only this group gave left out)."""
    rest = {score: count - counts.get(score, 0) for score, count in total.items()}
    return {score: count for score, count in rest.items() if count} or None


def response_rate_counts(tables: Tables, query: Query) -> pd.DataFrame:
    """Invitations sent and answered, per group."""
    check_query(query, INVITATION_DIMENSIONS)
    table = shaped(tables("invitations"), tables, query, "sent_at")
    keys = group_columns(query)
    measures = {"invited": table.count(), "answered": table.answered.sum()}
    counted = table.group_by(keys).aggregate(**measures) if keys else table.aggregate(**measures)
    return labelled(counted.execute(), keys) if keys else counted.execute()


def response_time_values(tables: Tables, query: Query) -> Table:
    """Answered inbound interactions with their first-response time, shaped by the query."""
    from cxm.analytics.dimensions import TIME_DIMENSIONS

    check_query(query, TIME_DIMENSIONS)
    return shaped(tables("response_times"), tables, query, "occurred_at")


def response_time_stats(
    table: Table, query: Query, target_seconds: float, *, quantiles_in_engine: bool
) -> pd.DataFrame:
    """n, median, p90 and the count answered within the target, per group."""
    keys = group_columns(query)
    within = (table.response_seconds <= target_seconds).ifelse(1, 0).sum()
    if quantiles_in_engine:
        measures = {
            "n": table.count(),
            "within": within,
            "median": table.response_seconds.quantile(0.5),
            "p90": table.response_seconds.quantile(0.9),
        }
        aggregated = table.group_by(keys).aggregate(**measures) if keys else table.aggregate(**measures)
        return labelled(aggregated.execute(), keys)
    # SQLite has no percentile function: the values are read and the quantiles taken here, interpolated alike.
    values = labelled(table.select(*keys, "response_seconds").execute(), keys)
    grouped = values.groupby(keys, dropna=False)["response_seconds"] if keys else [((), values["response_seconds"])]
    rows = [
        [
            *((key,) if not isinstance(key, tuple) else key),
            len(s),
            int((s <= target_seconds).sum()),
            s.quantile(0.5),
            s.quantile(0.9),
        ]
        for key, s in grouped
    ]
    return pd.DataFrame(rows, columns=[*keys, "n", "within", "median", "p90"])


def score_counts(tables: Tables, query: Query) -> pd.DataFrame:
    """How many answers gave each score, per question (every scored kind): the distribution of each question."""
    check_query(query, SCORE_DIMENSIONS)
    table = shaped(tables("scores"), tables, query, "completed_at")
    counted = table.group_by(["survey", "question", "kind", "score"]).aggregate(count=table.count())
    frame: pd.DataFrame = counted.execute()
    return frame.sort_values(["survey", "question", "score"], ignore_index=True)
