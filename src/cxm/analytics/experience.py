"""The experience at each journey stage, and the moments that matter: stage x channel cells that move loyalty.

Method (moments): a customer's experience in a cell is *good* when at least half of their answers tied to that
cell's interactions are good (CSAT 4-5, CES 5-7, NPS 9-10), else *poor*. Loyalty is their latest relationship
NPS answer (an NPS answer tied to no interaction). For each cell, the NPS of customers with a good experience there
minus the NPS of those with a poor one (z interval, unpooled) says how much that moment goes with loyalty; cells
rank by that gap. It is an association, not proof of cause: a cell with many poor experiences and a large gap is
where to look first (`poor_pct`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ibis
import numpy as np
import pandas as pd
from ibis.expr.types import Table

from cxm.analytics import stats
from cxm.analytics.dimensions import SCORE_DIMENSIONS, Query, check_query, shaped
from cxm.analytics.journeys import STAGES
from cxm.analytics.metrics import SCORE_METRICS, Tables, score_histogram, score_table
from cxm.core.errors import InvalidInput

EXPERIENCE_METRICS = ("nps", "csat", "ces")
GOOD_FROM = {"csat": 4, "ces": 5, "nps": 9}  # the lowest score of a good experience, per kind
NPS_KEY = 16  # latest answer: max(epoch seconds * 16 + score) keeps the score in the low bits, on every engine


@dataclass(frozen=True)
class ExperienceQuery:
    """Which answers count (metric filters and time window) and whether cells are stage or stage x channel."""

    filters: Query = field(default_factory=Query)
    by_channel: bool = False
    min_customers: int = 5


def _check(request: ExperienceQuery) -> None:
    check_query(request.filters, SCORE_DIMENSIONS)
    if request.filters.by or request.filters.period:
        raise InvalidInput("stage experience takes filters, not a breakdown or a period")
    if request.min_customers < 1:
        raise InvalidInput("min_customers must be at least 1")


def stage_experience(tables: Tables, request: ExperienceQuery) -> pd.DataFrame:
    """NPS, CSAT and CES of the answers tied to each stage's (or stage x channel's) interactions, n and 95% CI."""
    _check(request)
    keys = ["journey_stage", *(["channel"] if request.by_channel else [])]
    given = request.filters
    query = Query(by=keys, since=given.since, until=given.until, where=given.where, zone=given.zone)
    frames = []
    for name in EXPERIENCE_METRICS:
        metric = SCORE_METRICS[name]
        found = score_table(score_histogram(tables, metric, query), metric, query)
        frames.append(found[found["journey_stage"].isin(STAGES)].assign(metric=name))
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    order = {stage: i for i, stage in enumerate(STAGES)}
    frame = frame.sort_values([*keys, "metric"], key=lambda c: c.map(order) if c.name == "journey_stage" else c)
    return frame[[*keys, "metric", *(c for c in frame.columns if c not in (*keys, "metric"))]].reset_index(drop=True)


def cell_experience(tables: Tables, request: ExperienceQuery) -> Table:
    """One row per customer and stage x channel cell: 1 when their experience there was good, else 0."""
    s = shaped(tables("scores"), tables, request.filters, "completed_at")
    s = s.filter(s.journey_stage.isin(STAGES), s.kind.isin(list(GOOD_FROM)), s.customer_id.notnull())
    good = ibis.or_(*((s.kind == kind) & (s.score >= low) for kind, low in GOOD_FROM.items()))
    cells = s.group_by(["customer_id", "journey_stage", "channel"]).aggregate(good_share=good.ifelse(1.0, 0.0).mean())
    return cells.mutate(good=(cells.good_share >= 0.5).ifelse(1, 0))


def loyalty_outcome(tables: Tables) -> Table:
    """Each customer's latest relationship NPS answer (0-10): NPS answers tied to no interaction."""
    s = tables("scores")
    s = s.filter(s.kind == "nps", s.journey_stage.isnull(), s.customer_id.notnull())
    stamp = s.completed_at.epoch_seconds().cast("int64") * NPS_KEY + s.score
    latest = s.group_by("customer_id").aggregate(key=stamp.max())
    return latest.select(person=latest.customer_id, outcome=latest.key % NPS_KEY)


def moment_histograms(tables: Tables, request: ExperienceQuery) -> pd.DataFrame:
    """How many customers gave each outcome score, per cell and good/poor experience (all engines compute)."""
    cells, outcome = cell_experience(tables, request), loyalty_outcome(tables)
    joined = cells.join(outcome, cells.customer_id == outcome.person)
    keys = ["journey_stage", "channel", "good", "outcome"]
    counted: pd.DataFrame = joined.group_by(keys).aggregate(count=joined.count()).execute()
    return counted


MOMENT_COLUMNS = [
    "rank", "journey_stage", "channel", "customers", "poor_pct", "nps_good", "nps_poor", "nps_gap", "gap_ci_low",
    "gap_ci_high", "p_value", "likelihood_gap", "small_sample",
]  # fmt: skip


def moments(tables: Tables, request: ExperienceQuery) -> pd.DataFrame:
    """Stage x channel cells ranked by how much higher loyalty (NPS) is after a good than after a poor experience."""
    _check(request)
    counts = moment_histograms(tables, request)
    cells = counts.groupby(["journey_stage", "channel"], sort=True)
    rows = [_moment((str(cell[0]), str(cell[1])), part) for cell, part in cells]
    frame = pd.DataFrame(rows, columns=MOMENT_COLUMNS[1:])
    frame = frame[frame["customers"] >= request.min_customers]
    frame = frame.sort_values(
        ["nps_gap", "journey_stage", "channel"], ascending=[False, True, True], na_position="last"
    )
    frame.insert(0, "rank", range(1, len(frame) + 1))
    return frame.reset_index(drop=True)


def _moment(cell: tuple[str, str], part: pd.DataFrame) -> list[object]:
    """One cell's row: NPS of good vs poor experiences and their difference with CI."""
    good, poor = _histogram(part, 1), _histogram(part, 0)
    customers = sum(good.values()) + sum(poor.values())
    poor_pct = 100.0 * sum(poor.values()) / customers
    if not good or not poor:
        nps_one = stats.nps(good or poor).value
        return [*cell, customers, poor_pct, nps_one if good else np.nan, nps_one if poor else np.nan,
                *[np.nan] * 5, True]  # fmt: skip
    high, low = stats.nps(good), stats.nps(poor)
    gap = stats.z_compare(high, low)
    likelihood = stats.welch_compare(stats.mean(good), stats.mean(poor))
    small = high.small or low.small
    return [*cell, customers, poor_pct, high.value, low.value, gap.difference, gap.ci_low, gap.ci_high,
            gap.p_value, likelihood.difference, small]  # fmt: skip


def _histogram(part: pd.DataFrame, good: int) -> dict[int, int]:
    chosen = part[part["good"] == good]
    return {int(score): int(count) for score, count in zip(chosen["outcome"], chosen["count"], strict=True)}
