"""Key driver analysis: which ratings move an outcome most, how well each performs, and what to fix first.

Engines build the table to fit (one row per response or per customer, one column per question, in Ibis);
the weights, intervals, performance and quadrant are computed here with numpy (`importance.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import ibis
import numpy as np
import pandas as pd
from ibis.expr.types import Table

from cxm.analytics import importance as weighing
from cxm.analytics.dimensions import SCORE_DIMENSIONS, Query, check_query, shaped
from cxm.analytics.engines import Engine
from cxm.analytics.metrics import Tables
from cxm.core.errors import InvalidInput

LEVELS = ("response", "customer")
# Experience drivers: `stage:<journey stage>` or `channel:<channel>` = a customer's mean score (0-100 of each
# question's scale) over the answers tied to interactions in that stage or channel.
EXPERIENCES = {"stage": "journey_stage", "channel": "channel"}
STAGES = ("awareness", "purchase", "post_purchase")
QUADRANTS = {
    (True, False): "fix first",
    (True, True): "keep",
    (False, True): "overkill",
    (False, False): "low priority",
}
COLUMNS = [
    "driver", "kind", "weight", "weight_ci_low", "weight_ci_high", "importance_pct", "importance_ci_low",
    "importance_ci_high", "rank", "mean_score", "performance", "quadrant", "n", "r_squared", "outcome", "method",
]  # fmt: skip


@dataclass(frozen=True)
class DriverQuery:
    """What to explain (a question of a survey), by which questions, at which level, over which answers.

    A driver is a question key of the outcome's survey, `survey.question` for another survey's question, or an
    experience, `stage:purchase` / `channel:phone` (both customer level only). No drivers: every other scored
    question of the outcome's survey.
    """

    survey: str
    outcome: str
    drivers: Sequence[str] = ()
    level: str = "response"
    method: str = "relative_weights"
    resamples: int | None = None
    filters: Query = field(default_factory=Query)


Reference = tuple[str, str]


def _reference(text: str, survey: str) -> Reference:
    """`question` of the outcome's survey, or `survey.question`."""
    named, dot, question = text.partition(".")
    return (named, question) if dot else (survey, text)


def _label(reference: Reference, survey: str) -> str:
    if reference[0] in EXPERIENCES:
        return ":".join(reference)
    return reference[1] if reference[0] == survey else ".".join(reference)


def _experience(text: str) -> Reference | None:
    """(`stage`|`channel`, value) for an experience driver, else None."""
    kind, colon, value = text.partition(":")
    if not colon or kind not in EXPERIENCES:
        return None
    if not value or (kind == "stage" and value not in STAGES):
        raise InvalidInput(f"unknown experience '{text}'", details={"stages": list(STAGES)})
    return kind, value


def _experience_rows(references: list[Reference]) -> pd.DataFrame:
    """Experience drivers as rows shaped like the questions fact (scale 0-100)."""
    rows = [{"survey": kind, "question": value, "kind": "experience", "scale_min": 0, "scale_max": 100}
            for kind, value in references]  # fmt: skip
    return pd.DataFrame(rows)


def _questions(tables: Tables, request: DriverQuery) -> pd.DataFrame:
    """The outcome and the drivers as rows of the questions fact (outcome first), checked to exist."""
    experiences = [found for d in request.drivers if (found := _experience(d)) is not None]
    chosen = _question_rows(tables, request, [d for d in request.drivers if _experience(d) is None], bool(experiences))
    if len(set(experiences)) != len(experiences):
        raise InvalidInput("name each driver once")
    return pd.concat([chosen, _experience_rows(experiences)], ignore_index=True) if experiences else chosen


def _question_rows(tables: Tables, request: DriverQuery, drivers: list[str], others: bool) -> pd.DataFrame:
    known = tables("questions").execute().sort_values(["survey", "position"])
    known.index = pd.MultiIndex.from_arrays([known["survey"], known["question"]])
    outcome = (request.survey, request.outcome)
    wanted = [_reference(d, request.survey) for d in drivers] if drivers or others else [
        key for key in known.index if key[0] == request.survey and key != outcome
    ]
    missing = [".".join(key) for key in [outcome, *wanted] if key not in known.index]
    if missing:
        raise InvalidInput(f"no scored question '{missing[0]}'", details={"survey": request.survey})
    if not (wanted or others) or outcome in wanted or len(set(wanted)) != len(wanted):
        raise InvalidInput("name one or more drivers, each once and other than the outcome")
    chosen: pd.DataFrame = known.loc[[outcome, *wanted]].reset_index(drop=True)
    return chosen


def _check(request: DriverQuery, chosen: pd.DataFrame) -> None:
    if request.level not in LEVELS:
        raise InvalidInput(f"unknown level '{request.level}'", details={"levels": list(LEVELS)})
    if request.level == "response" and (chosen["survey"] != request.survey).any():
        raise InvalidInput(
            "questions of other surveys and experiences are drivers at the customer level only (level=customer)"
        )
    check_query(request.filters, SCORE_DIMENSIONS)
    if request.filters.by or request.filters.period:
        raise InvalidInput("driver analysis takes filters, not a breakdown or a period")


def driver_table(tables: Tables, chosen: pd.DataFrame, request: DriverQuery) -> Table:
    """One row per response (or customer), one column per question (`q0` the outcome), ordered by the unit."""
    facts = shaped(tables("scores"), lambda: tables("customers"), request.filters, "completed_at")
    unit = f"{request.level}_id"
    kinds = chosen["kind"].tolist()
    if "experience" in kinds:
        facts = _with_scales(tables, facts)
    outcome = (facts.survey == chosen["survey"][0]) & (facts.question == chosen["question"][0])
    picked = [
        (facts[EXPERIENCES[s]] == q) & ~outcome if kind == "experience" else (facts.survey == s) & (facts.question == q)
        for s, q, kind in zip(chosen["survey"], chosen["question"], kinds, strict=True)
    ]
    facts = facts.filter(ibis.or_(*picked), facts[unit].notnull())
    values = [facts.percent if kind == "experience" else facts.score.cast("float64") for kind in kinds]
    columns = {
        f"q{i}": ibis.ifelse(is_it, value, ibis.null("float64")).mean()
        for i, (is_it, value) in enumerate(zip(picked, values, strict=True))
    }
    return facts.group_by(unit).aggregate(**columns).order_by(unit)


def _with_scales(tables: Tables, facts: Table) -> Table:
    """The scores with each answer as a percentage of its question's scale (0 = lowest, 100 = highest)."""
    q = tables("questions").select(s_survey="survey", s_question="question", lo="scale_min", hi="scale_max")
    joined = facts.join(q, (facts.survey == q.s_survey) & (facts.question == q.s_question))
    share = (joined.score - joined.lo).cast("float64") * 100.0 / (joined.hi - joined.lo).cast("float64")
    return joined.mutate(percent=share)


def _complete(frame: pd.DataFrame, width: int) -> np.ndarray:
    """Rows that answered the outcome and every driver, as floats."""
    values = frame[[f"q{i}" for i in range(width)]].astype("float64").to_numpy()
    complete: np.ndarray = values[~np.isnan(values).any(axis=1)]
    return complete


def key_drivers(engine: Engine, request: DriverQuery) -> pd.DataFrame:
    """One row per driver: share of R^2 with 95% CI, rank, performance (0-100) and quadrant."""
    with engine.connect() as tables:
        chosen = _questions(tables, request)
        _check(request, chosen)
        values = _complete(driver_table(tables, chosen, request).execute(), len(chosen))
    names = [_label(key, request.survey) for key in zip(chosen["survey"][1:], chosen["question"][1:], strict=True)]
    x, y = values[:, 1:], values[:, 0]
    weighing.check_fit(x, y, names, request.method)
    found = weighing.importance(x, y, method=request.method, resamples=request.resamples)
    return _frame(found, chosen.iloc[1:].reset_index(drop=True), x, names, request)


def _performance(x: np.ndarray, drivers: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each driver's mean score and that mean as a percentage of its scale (0 = lowest, 100 = highest)."""
    means = x.mean(axis=0)
    low, high = drivers["scale_min"].astype(float).to_numpy(), drivers["scale_max"].astype(float).to_numpy()
    return means, 100 * (means - low) / (high - low)


def _frame(
    found: weighing.Importance, drivers: pd.DataFrame, x: np.ndarray, names: list[str], request: DriverQuery
) -> pd.DataFrame:
    means, performance = _performance(x, drivers)
    scale = 100 / found.r_squared if found.r_squared > 0 else np.nan
    frame = pd.DataFrame({"driver": names, "kind": drivers["kind"].tolist(), "weight": found.weights})
    frame["weight_ci_low"], frame["weight_ci_high"] = found.ci_low, found.ci_high
    frame["importance_pct"] = found.weights * scale
    frame["importance_ci_low"], frame["importance_ci_high"] = found.share_ci_low, found.share_ci_high
    frame["rank"] = frame["weight"].rank(ascending=False, method="min").astype(int)
    frame["mean_score"], frame["performance"] = means, performance
    frame["quadrant"] = quadrants(frame["importance_pct"].to_numpy(), performance)
    frame["n"], frame["r_squared"] = len(x), found.r_squared
    frame["outcome"], frame["method"] = request.outcome, request.method
    return frame[COLUMNS].sort_values(["rank", "driver"], ignore_index=True)


def quadrants(importance: np.ndarray, performance: np.ndarray) -> list[str]:
    """Importance x performance, each split at its mean over the drivers: fix first / keep / overkill / low."""
    important, performing = importance >= importance.mean(), performance >= performance.mean()
    return [QUADRANTS[(bool(i), bool(p))] for i, p in zip(important, performing, strict=True)]
