"""Churn and value reports: `cxm report churn | churn-evaluation | value-at-risk | retention`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from rich.table import Table

from cxm.cli.base import out

REPORTS = ("churn", "churn-evaluation", "value-at-risk", "retention")
# Stable JSON keys for titles that carry dates.
EVALUATION = "churn model vs recency-only baseline"
KEYS = {EVALUATION: "evaluation", "calibration on the test cut-off": "calibration"}
HIDDEN = ("train_cutoff", "test_cutoff", "n_train", "churn_rate_train", "category_spend", "revenue_per_period")


@dataclass(frozen=True)
class RiskOptions:
    """What the report command passes on for the churn and value reports."""

    horizon_days: int
    lookback_days: int
    margin: float
    discount_rate: float
    years: float
    uplift: float
    relative: bool
    limit: int
    by: str | None


def risk_report(name: str, engine: Any, options: RiskOptions, output: str) -> None:
    """Compute one churn/value report and print it as a table, CSV or JSON."""
    from cxm.analytics import service as analytics_service

    asked = analytics_service.churn_request(
        horizon_days=options.horizon_days, lookback_days=options.lookback_days, margin=options.margin,
        discount_rate=options.discount_rate, years=options.years,
    )  # fmt: skip
    frames = _frames(name, engine, asked, options)
    if output == "csv":
        out.print(frames[0][1].to_csv(index=False), end="", highlight=False, markup=False)
    elif output == "json":
        out.print_json(data={_key(title): analytics_service.records(frame) for title, frame in frames})
    else:
        for title, frame in frames:
            out.print(rich_table(frame.drop(columns=list(HIDDEN), errors="ignore"), title))


def _key(title: str) -> str:
    """The JSON key of a titled table: its title without the dates."""
    short = title.split(":")[0]
    return KEYS.get(short, short)


def _frames(name: str, engine: Any, asked: Any, options: RiskOptions) -> list[tuple[str, pd.DataFrame]]:
    from cxm.analytics import service as analytics_service

    if name == "churn":
        frame = analytics_service.churn_table(engine, asked)
        return [(f"churn: risk as of {frame.attrs.get('as_of', '')}", frame.head(options.limit))]
    if name == "churn-evaluation":
        summary, calibration = analytics_service.churn_evaluation(engine, asked)
        first = summary.iloc[0]
        title = f"{EVALUATION}: trained {first['train_cutoff']}, tested {first['test_cutoff']}"
        return [(title, summary), ("calibration on the test cut-off", calibration)]
    if name == "value-at-risk":
        return [("value_at_risk", analytics_service.value_at_risk(engine, asked, options.by or "segment"))]
    given = analytics_service.RetentionInputs()
    frame = analytics_service.retention_economics(
        engine, asked, uplift=options.uplift, relative=options.relative, given=given
    )
    return [("retention", frame)]


def rich_table(frame: pd.DataFrame, title: str) -> Table:
    """Any result frame as a rich table (printed without markup: its text is shown as it is)."""
    table = Table(title=title)
    for column in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[column])
        table.add_column(str(column), justify="right" if numeric else "left")
    for row in frame.itertuples(index=False):
        table.add_row(*(_cell(value) for value in row))
    return table


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.0f}"
    return str(value)
