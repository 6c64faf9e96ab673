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
from cxm.analytics.texts import response_sentiment, response_themes
from cxm.core.errors import InvalidInput

LEVELS = ("response", "customer")
# Experience drivers: `stage:<journey stage>` or `channel:<channel>` = a customer's mean score (0-100 of each
# question's scale) over the answers tied to interactions in that stage or channel.
EXPERIENCES = {"stage": "journey_stage", "channel": "channel"}
STAGES = ("awareness", "purchase", "post_purchase")
# Text drivers, from the comments of the unit's responses: `sentiment` = their mean sentiment score mapped from
# -1..1 to 0..100 (no comment: no value); `theme:<name>` = 100 when a comment carries the theme, else 0.
TEXTS = ("sentiment", "theme")
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

    A driver is a question key of the outcome's survey, `survey.question` for another survey's question, an
    experience, `stage:purchase` / `channel:phone` (both customer level only), or what the comments say:
    `sentiment`, `theme:<name>` (any level). No drivers: every other scored question of the outcome's survey.
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
    if reference == ("sentiment", ""):
        return "sentiment"
    if reference[0] in EXPERIENCES or reference[0] in TEXTS:
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


def _text(text: str) -> Reference | None:
    """(`sentiment`, "") or (`theme`, name) for a text driver, else None."""
    if text == "sentiment":
        return "sentiment", ""
    kind, colon, name = text.partition(":")
    if kind != "theme" or not colon:
        return None
    if not name:
        raise InvalidInput("name the theme: theme:<name>")
    return kind, name


def _special_rows(references: list[tuple[str, Reference]]) -> pd.DataFrame:
    """Experience and text drivers as rows shaped like the questions fact (scale 0-100)."""
    rows = [{"survey": ref[0], "question": ref[1], "kind": kind, "scale_min": 0, "scale_max": 100}
            for kind, ref in references]  # fmt: skip
    return pd.DataFrame(rows)


def _special(driver: str) -> tuple[str, Reference] | None:
    """("experience" | "text", reference) for a driver that is not a question, else None."""
    if (found := _experience(driver)) is not None:
        return "experience", found
    return ("text", text) if (text := _text(driver)) is not None else None


def _questions(tables: Tables, request: DriverQuery) -> pd.DataFrame:
    """The outcome and the drivers as rows of the questions fact (outcome first), checked to exist."""
    special = [found for d in request.drivers if (found := _special(d)) is not None]
    named = [d for d in request.drivers if _special(d) is None]
    chosen = _question_rows(tables, request, named, bool(special))
    if len(set(special)) != len(special):
        raise InvalidInput("name each driver once")
    _check_themes(tables, [ref[1] for kind, ref in special if kind == "text" and ref[0] == "theme"])
    return pd.concat([chosen, _special_rows(special)], ignore_index=True) if special else chosen


def _check_themes(tables: Tables, names: list[str]) -> None:
    """Refuse themes no comment carries, naming those that exist."""
    if not names:
        return
    themes = response_themes(tables)
    known = set(themes.select("theme").distinct().execute()["theme"])
    unknown = [name for name in names if name not in known]
    if unknown:
        raise InvalidInput(f"no comment carries the theme '{unknown[0]}'", details={"themes": sorted(known)})


def _question_rows(tables: Tables, request: DriverQuery, drivers: list[str], others: bool) -> pd.DataFrame:
    known = tables("questions").execute().sort_values(["survey", "position"])
    known.index = pd.MultiIndex.from_arrays([known["survey"], known["question"]])
    outcome = (request.survey, request.outcome)
    wanted = (
        [_reference(d, request.survey) for d in drivers]
        if drivers or others
        else [key for key in known.index if key[0] == request.survey and key != outcome]
    )
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
    if request.level == "response" and ((chosen["survey"] != request.survey) & (chosen["kind"] != "text")).any():
        raise InvalidInput(
            "questions of other surveys and experiences are drivers at the customer level only (level=customer)"
        )
    check_query(request.filters, SCORE_DIMENSIONS)
    if request.filters.by or request.filters.period:
        raise InvalidInput("driver analysis takes filters, not a breakdown or a period")


def driver_table(tables: Tables, chosen: pd.DataFrame, request: DriverQuery) -> Table:
    """One row per response (or customer), one column per question (`q0` the outcome), ordered by the unit."""
    facts = shaped(tables("scores"), tables, request.filters, "completed_at")
    unit = f"{request.level}_id"
    if "experience" in chosen["kind"].tolist():
        facts = _with_scales(tables, facts)
    answers, table = _scored_columns(facts, chosen, unit)
    drivers = zip(chosen["survey"], chosen["question"], chosen["kind"], strict=True)
    written = {i: (s, q) for i, (s, q, kind) in enumerate(drivers) if kind == "text"}
    if written:
        said = _text_columns(tables, answers, written, unit)
        table = table.left_join(said, table[unit] == said.said_unit).select(table, *(said[f"q{i}"] for i in written))
    return table.order_by(unit)


def _scored_columns(facts: Table, chosen: pd.DataFrame, unit: str) -> tuple[Table, Table]:
    """The answers to the outcome and the scored drivers, and per unit one column per driver (their mean)."""
    kinds = chosen["kind"].tolist()
    outcome = (facts.survey == chosen["survey"][0]) & (facts.question == chosen["question"][0])
    picked = {
        i: (facts[EXPERIENCES[s]] == q) & ~outcome if kind == "experience"
        else (facts.survey == s) & (facts.question == q)
        for i, (s, q, kind) in enumerate(zip(chosen["survey"], chosen["question"], kinds, strict=True))
        if kind != "text"
    }  # fmt: skip
    answers = facts.filter(ibis.or_(*picked.values()), facts[unit].notnull())
    value = {i: answers.percent if kinds[i] == "experience" else answers.score.cast("float64") for i in picked}
    columns = {f"q{i}": ibis.ifelse(is_it, value[i], ibis.null("float64")).mean() for i, is_it in picked.items()}
    return answers, answers.group_by(unit).aggregate(**columns)


def _text_columns(tables: Tables, answers: Table, written: dict[int, Reference], unit: str) -> Table:
    """Per unit: the mean sentiment (0-100) of its responses' comments, and 100 (else 0) per theme they carry."""
    responses = answers.select(said_unit=answers[unit], said_response=answers.response_id).distinct()
    mood = response_sentiment(tables)
    joined = responses.left_join(mood, responses.said_response == mood.mood_response)
    rows = joined.select(joined.said_unit, joined.said_response, percent=(joined.mood + 1.0) * 50.0)
    names = [name for kind, name in written.values() if kind == "theme"]
    if names:
        flags = _theme_flags(tables, names)
        rows = rows.left_join(flags, rows.said_response == flags.theme_response).select(
            rows, *(flags[f"t_{j}"].fill_null(0.0).name(f"t_{j}") for j in range(len(names)))
        )
    measures = {
        f"q{i}": rows.percent.mean() if kind == "sentiment" else rows[f"t_{names.index(name)}"].max()
        for i, (kind, name) in written.items()
    }
    return rows.group_by("said_unit").aggregate(**measures)


def _theme_flags(tables: Tables, names: list[str]) -> Table:
    """Per response carrying any of these themes: `t_0`, `t_1`, ... = 100 when it carries that theme, else 0."""
    themes = response_themes(tables)
    themes = themes.filter(themes.theme.isin(names))
    flags = {f"t_{j}": (themes.theme == name).ifelse(100.0, 0.0).max() for j, name in enumerate(names)}
    return themes.group_by("theme_response").aggregate(**flags)


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
