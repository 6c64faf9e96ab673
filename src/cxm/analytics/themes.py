"""Themes over time: volume, sentiment and impact on NPS (responses with vs without the theme), per period.

Engines only count (score histograms, text counts, sentiment sums); NPS, differences and CIs come from `stats.py`.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from ibis.expr.types import Table

from cxm.analytics import stats
from cxm.analytics.dimensions import PERIODS, in_periods
from cxm.core.errors import InvalidInput

Tables = Callable[[str], Table]
COLUMNS = [
    "theme_id",
    "theme",
    "period",
    "texts",
    "sentiment",
    "n_with",
    "nps_with",
    "n_without",
    "nps_without",
    "impact",
    "ci_low",
    "ci_high",
    "p_value",
]


def _themes(tables: Tables) -> Table:
    t = tables("text_signals")
    return t.filter(t.kind == "theme").select("source", "source_id", "question_id", "response_id", "theme_id", "theme")


def volume_counts(tables: Tables, period: str, zone: str = "UTC") -> pd.DataFrame:
    """Texts about each theme per period, with the sum and count of their sentiment scores."""
    t = tables("text_signals")
    mood = t.filter(t.kind == "sentiment").select(
        msource="source", msid="source_id", mq=t.question_id.fill_null(0), mood="value", written=t.written_at
    )
    themed = _themes(tables)
    joined = themed.join(
        mood,
        (themed.source == mood.msource)
        & (themed.source_id == mood.msid)
        & (themed.question_id.fill_null(0) == mood.mq),
    )
    joined = joined.mutate(period=in_periods(joined, "written", period, zone))
    counted = joined.group_by(["theme_id", "theme", "period"]).aggregate(
        texts=joined.count(), mood_sum=joined.mood.sum()
    )
    found: pd.DataFrame = counted.to_pandas()
    return found


def nps_counts(tables: Tables, period: str, zone: str = "UTC") -> tuple[pd.DataFrame, pd.DataFrame]:
    """NPS score histograms per period: of responses whose comment has each theme, and of all responses."""
    s = tables("scores")
    s = s.filter(s.kind == "nps")
    s = s.select(rid="response_id", score="score", period=in_periods(s, "completed_at", period, zone))
    themed = _themes(tables)
    themed = themed.filter(themed.response_id.notnull()).select("response_id", "theme_id", "theme").distinct()
    joined = s.join(themed, s.rid == themed.response_id)
    with_theme = joined.group_by(["theme_id", "theme", "period", "score"]).aggregate(n=joined.count())
    overall = s.group_by(["period", "score"]).aggregate(n=s.count())
    return with_theme.to_pandas(), overall.to_pandas()


def theme_impact(tables: Tables, *, period: str = "month", zone: str = "UTC") -> pd.DataFrame:
    """Per theme and period: texts, mean sentiment, NPS with and without the theme, their difference and 95% CI."""
    if period not in PERIODS:
        raise InvalidInput(f"unknown period '{period}'", details={"periods": list(PERIODS)})
    volume = volume_counts(tables, period, zone)
    with_theme, overall = nps_counts(tables, period, zone)
    rows = [_row(key, group, overall) for key, group in with_theme.groupby(["theme_id", "theme", "period"])]
    impact = pd.DataFrame(rows, columns=[c for c in COLUMNS if c not in ("texts", "sentiment")])
    volume["sentiment"] = (volume["mood_sum"] / volume["texts"]).round(4)
    # An empty side comes back with untyped columns: one period type on both so they can be joined.
    for empty, other in ((impact, volume), (volume, impact)):
        if empty.empty:
            empty["period"] = empty["period"].astype(other["period"].dtype)
    merged = volume.drop(columns="mood_sum").merge(impact, on=["theme_id", "theme", "period"], how="outer")
    merged["texts"] = merged["texts"].fillna(0).astype(int)
    return merged[COLUMNS].sort_values(["period", "theme_id"], ignore_index=True)


def _row(key: tuple[object, ...], group: pd.DataFrame, overall: pd.DataFrame) -> list[object]:
    """Impact of one theme in one period: NPS with it minus NPS of the other responses of that period."""
    theme_id, theme, period = key
    everyone = overall[overall["period"] == period]
    with_hist = {int(s): int(n) for s, n in zip(group["score"], group["n"], strict=True)}
    without = {int(s): int(n) - with_hist.get(int(s), 0) for s, n in zip(everyone["score"], everyone["n"], strict=True)}
    without = {s: n for s, n in without.items() if n > 0}
    inside = stats.nps(with_hist)
    if not without:
        return [theme_id, theme, period, inside.n, round(inside.value, 2), 0, None, None, None, None, None]
    outside = stats.nps(without)
    diff = stats.z_compare(inside, outside)
    return [
        theme_id,
        theme,
        period,
        inside.n,
        round(inside.value, 2),
        outside.n,
        round(outside.value, 2),
        round(diff.difference, 2),
        round(diff.ci_low, 2),
        round(diff.ci_high, 2),
        round(diff.p_value, 4),
    ]


__all__ = ["COLUMNS", "theme_impact"]
