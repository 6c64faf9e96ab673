"""Reports and the analytics store: `cxm report METRIC`, `cxm analytics sync`."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cxm.cli import journeys as journey_reports
from cxm.cli import risk
from cxm.cli.base import app, console, open_hub, out, settings, sync_analytics, unit_of_work
from cxm.core.errors import InvalidInput

analytics_app = typer.Typer(help="The analytics store (DuckDB by default) and its Parquet lake.", no_args_is_help=True)
app.add_typer(analytics_app, name="analytics")


OVERVIEW_FILTERS = {"channel", "journey_stage", "segment", "language", "survey"}


class ReportFormat(StrEnum):
    """How a report is printed."""

    table = "table"
    csv = "csv"
    json = "json"
    html = "html"
    pdf = "pdf"


@analytics_app.command("sync")
def analytics_sync() -> None:
    """Bring the analytics store (and the lake, when CXM_ANALYTICS_LAKE is set) up to date."""
    from cxm.analytics import service as analytics_service

    hub = open_hub()
    try:
        with console.status("syncing") as status:
            report = analytics_service.sync_store(
                settings(), hub.engine, progress=lambda step: status.update(f"syncing {step}")
            )
    finally:
        hub.close()
    console.print(report.describe() if report else "the analytics engine reads the database directly: nothing to sync")


@app.command("report")
def report(
    metric: Annotated[
        str,
        typer.Argument(
            help="nps | csat | ces | rating | responses | response_rate | first_response_time | drivers | funnel"
            " | stage-times | paths | experience | moments | loyalty | transitions | ladder | churn | churn-evaluation"
            " | value-at-risk | retention | overview"
        ),
    ],
    by: Annotated[str | None, typer.Option(help="Comma-separated dimensions, e.g. channel,segment or theme")] = None,
    period: Annotated[str | None, typer.Option(help="day | week | month | quarter | year")] = None,
    since: Annotated[str | None, typer.Option(help="From this date or ISO 8601 time (no zone: --tz's)")] = None,
    until: Annotated[str | None, typer.Option(help="Before this date or ISO 8601 time (no zone: --tz's)")] = None,
    tz: Annotated[
        str | None, typer.Option("--tz", help="Time zone of periods and of times without one (default CXM_TIMEZONE)")
    ] = None,
    where: Annotated[list[str] | None, typer.Option(help="dimension=value filter, repeatable")] = None,
    target: Annotated[float, typer.Option(help="First-response target in seconds")] = 3600.0,
    output: Annotated[
        ReportFormat, typer.Option("--format", help="table | csv | json; overview: html | pdf")
    ] = ReportFormat.table,
    file: Annotated[Path | None, typer.Option("--output", help="overview: the file to write")] = None,
    language: Annotated[str, typer.Option(help="overview: en | cs | pl | hr | ro")] = "en",
    survey: Annotated[str | None, typer.Option(help="drivers: the survey holding the outcome")] = None,
    outcome: Annotated[str | None, typer.Option(help="drivers: the outcome question key")] = None,
    driver: Annotated[
        list[str] | None,
        typer.Option(help="drivers: a question, survey.question, stage:X, channel:X, sentiment or theme:NAME (repeat)"),
    ] = None,
    level: Annotated[str, typer.Option(help="drivers: response | customer")] = "response",
    method: Annotated[str, typer.Option(help="drivers: relative_weights | shapley")] = "relative_weights",
    resamples: Annotated[int | None, typer.Option(help="drivers: bootstrap resamples (0: no CIs)")] = None,
    chart: Annotated[Path | None, typer.Option(help="drivers, funnel: also write the chart (.svg or .png)")] = None,
    top: Annotated[int, typer.Option(help="paths: how many")] = 10,
    steps: Annotated[int, typer.Option(help="paths: first N steps of each path")] = 5,
    detail: Annotated[bool, typer.Option(help="paths: steps as stage:channel")] = False,
    by_channel: Annotated[bool, typer.Option(help="experience: stage x channel")] = False,
    min_customers: Annotated[int, typer.Option(help="moments: smallest cell shown")] = 5,
    months: Annotated[int, typer.Option(help="loyalty, transitions: how many month ends")] = 12,
    currency: Annotated[str | None, typer.Option(help="loyalty: order value in this currency")] = None,
    lost_days: Annotated[int | None, typer.Option(help="ladder rules: days without activity to be lost")] = None,
    repurchase_days: Annotated[int | None, typer.Option(help="ladder rules: expected days between purchases")] = None,
    customer: Annotated[list[int] | None, typer.Option(help="ladder: only this customer id (repeatable)")] = None,
    horizon_days: Annotated[int, typer.Option(help="churn: no order in this many days = churned")] = 90,
    lookback_days: Annotated[int, typer.Option(help="churn: how far back features look (days)")] = 365,
    margin: Annotated[float, typer.Option(help="value: gross margin as a share of revenue")] = 1.0,
    discount_rate: Annotated[float, typer.Option(help="value: discount rate per year")] = 0.10,
    years: Annotated[float, typer.Option(help="value: horizon of customer value in years")] = 5.0,
    uplift: Annotated[float, typer.Option(help="retention: points of retention per period to add")] = 0.05,
    relative: Annotated[bool, typer.Option(help="retention: uplift as a share of retention")] = False,
    limit: Annotated[int, typer.Option(help="churn: how many customers to show")] = 50,
) -> None:
    """A metric with n, 95% CI, change and p-value, by any dimensions and period; or the key drivers of a question."""
    from cxm.analytics import service as analytics_service

    filters: dict[str, list[str]] = {}
    for item in where or []:
        name, equals, value = item.partition("=")
        if not equals or not name.strip():
            raise InvalidInput(f"--where takes dimension=value, e.g. channel=web: got '{item[:40]}'")
        filters.setdefault(name.strip(), []).append(value.strip())
    # The query reads the times as the library and the API do, and turns them into UTC (a time without a zone is the
    # query's zone's).
    engine = analytics_service.engine_for(settings())
    zone = tz or engine.zone
    query = analytics_service.describe_query(by=by, period=period, since=since, until=until, where=filters, zone=zone)
    if metric in journey_reports.REPORTS:
        options = journey_reports.JourneyOptions(
            by,
            top,
            steps,
            detail,
            by_channel,
            min_customers,
            months,
            currency,
            lost_days,
            repurchase_days,
            list(customer or []),
        )
        journey_query = analytics_service.describe_query(since=since, until=until, where=filters, zone=zone)
        frame = journey_reports.journey_frame(metric, engine, journey_query, journey_query.until, options)
        journey_reports.print_report(metric, frame, output.value, chart)
        return
    if metric in risk.REPORTS:
        chosen = risk.RiskOptions(
            horizon_days, lookback_days, margin, discount_rate, years, uplift, relative, limit, by
        )
        risk.risk_report(metric, engine, chosen, output.value)
        return
    if metric == "overview":
        _overview(engine, output, file, language, query.since, query.until, filters)
        return
    if metric == "drivers":
        if not survey or not outcome:
            raise InvalidInput("drivers needs --survey and --outcome")
        asked = analytics_service.DriverQuery(survey, outcome, tuple(driver or ()), level, method, resamples, query)
        _print_drivers(analytics_service.key_drivers(engine, asked), output, chart)
        return
    frame = analytics_service.metric(engine, metric, query, target_seconds=target)
    if output is ReportFormat.csv:
        # Ten significant digits, as the JSON has: 30.000000000000004 is float noise, not a figure.
        out.print(frame.to_csv(index=False, float_format="%.10g"), end="", highlight=False, markup=False)
    elif output is ReportFormat.json:
        out.print_json(data=analytics_service.records(frame))
    else:
        # Periods are the zone's: said in the title unless they are UTC's.
        zoned = f" — periods in {query.zone}" if period and query.zone != "UTC" else ""
        out.print(_table(frame, metric, analytics_service.UNITS[metric], zoned))


def _overview(
    engine: Any,
    output: ReportFormat,
    file: Path | None,
    language: str,
    since: datetime | None,
    until: datetime | None,
    filters: dict[str, list[str]],
) -> None:
    """The printable Overview (the dashboard's view) written to a file as HTML or PDF."""
    from dataclasses import replace
    from zoneinfo import ZoneInfo

    from cxm.web import report as web_report
    from cxm.web.filters import filter_bar

    if output not in (ReportFormat.html, ReportFormat.pdf) or file is None:
        raise InvalidInput("the overview report needs --format html|pdf and --output FILE")
    unknown = sorted(set(filters) - OVERVIEW_FILTERS)
    if unknown:
        known = ", ".join(sorted(OVERVIEW_FILTERS))
        raise InvalidInput(f"the overview is filtered by {known}, not {', '.join(unknown)}")
    chosen = {name: values[0] for name, values in filters.items() if values}
    zone = ZoneInfo(engine.zone)  # the query's times are UTC: its dates are the installation's days
    days = [moment.astimezone(zone).date().isoformat() if moment else None for moment in (since, until)]
    wanted = replace(filter_bar(*days, **chosen), zone=engine.zone)
    sync_analytics()
    with unit_of_work() as session:
        html = web_report.overview_html(session, engine, wanted, language)
    file.write_bytes(web_report.pdf_from_html(html) if output is ReportFormat.pdf else html.encode())
    console.print(f"overview report written to {file}", highlight=False)


def _print_drivers(frame: Any, output: ReportFormat, chart: Path | None) -> None:
    from cxm.analytics import service as analytics_service

    if chart is not None:
        image = chart.suffix.lstrip(".").lower() or "svg"
        chart.write_bytes(analytics_service.quadrant_chart(frame, image=image))
    if output is ReportFormat.csv:
        out.print(frame.to_csv(index=False), end="", highlight=False, markup=False)
    elif output is ReportFormat.json:
        out.print_json(data=analytics_service.records(frame))
    else:
        out.print(_drivers_table(frame))


def _drivers_table(frame: Any) -> Table:
    first = frame.iloc[0]
    title = f"key drivers of {first['outcome']} — R² {first['r_squared']:.3f}, n = {first['n']:,} ({first['method']})"
    table = Table(title=title, caption="importance: % of R² (95% bootstrap CI); performance: mean as % of scale")
    for name in ("#", "driver", "importance %", "95% CI", "performance", "quadrant"):
        table.add_column(name, justify="left" if name in ("driver", "quadrant") else "right", no_wrap=name != "driver")
    for row in frame.to_dict("records"):
        interval = f"{_cell(row['importance_ci_low'])}-{_cell(row['importance_ci_high'])}"
        figures = [_cell(row["importance_pct"]), interval, _cell(row["performance"])]
        table.add_row(str(row["rank"]), str(row["driver"]), *figures, row["quadrant"])
    return table


SHOWN = {"value", "n", "ci_low", "ci_high", "change", "p_value", "small_sample", "partial"}
TIMES = (
    "n", "median_seconds", "p90_seconds", "within_target_pct", "within_ci_low", "within_ci_high", "target_seconds",
    "partial",
)  # fmt: skip
PARTIAL = " (partial)"
CAPTION = "95% CI; change vs the previous period (or the rest) with its p-value; * n < 30"
VOLUME_CAPTIONS = (  # with periods, without
    "exact 95% CI; change: % more or fewer responses per day counted than in the previous period, with its exact "
    "p-value",
    "exact 95% CI; groups are not compared by volume: --period gives each period's change",
)


def _table(frame: object, metric: str, unit: str, zoned: str = "") -> Table:
    import pandas as pd

    assert isinstance(frame, pd.DataFrame)
    if "median_seconds" in frame.columns:
        return _times_table(frame, metric, zoned)
    caption = VOLUME_CAPTIONS["period" not in frame.columns] if metric == "responses" else CAPTION
    keys = [c for c in frame.columns if c not in SHOWN and not str(c).startswith(("ci_", "change_", "compared"))]
    table = Table(
        title=f"{metric} — {unit}{zoned}", caption=caption + _untied_note(frame, keys) + _partial_note(frame, metric)
    )
    for name in keys:
        table.add_column(str(name))
    for name in ("value", "n", "95% CI", "change", "p"):
        table.add_column(name, justify="right")
    for row in frame.to_dict("records"):
        table.add_row(*_keys(row, keys), *_figures(row))
    return table


def _keys(row: dict[Any, Any], keys: list[str]) -> list[str]:
    """A row's group and period, a period only partly counted marked so."""
    return [_cell(row[k]) + (PARTIAL if k == "period" and row.get("partial") else "") for k in keys]


def _partial_note(frame: Any, metric: str) -> str:
    """What a partial period is, where the table shows one."""
    if "partial" not in frame.columns or not frame["partial"].any():
        return ""
    begun = "; for responses, also before the group's first response" if metric == "responses" else ""
    return f"\n(partial): only part of the period is counted (cut by --since/--until, or not over yet{begun})"


# Score dimensions that come from the interaction a response is about: a relationship survey's answers have none.
INTERACTION_KEYS = ("channel", "journey_stage", "store", "agent")


def _untied_note(frame: Any, keys: list[str]) -> str:
    """A hint where answers tied to no interaction show as (none) in an interaction's dimension."""
    untied = [k for k in keys if k in INTERACTION_KEYS and (frame[k] == "(none)").any()]
    if not untied:
        return ""
    return f"\n(none) in {untied[0]}: answers tied to no interaction; --by collected_via shows how they were answered"


def _times_table(frame: Any, metric: str, zoned: str = "") -> Table:
    target = f"{frame['target_seconds'].iloc[0]:,.0f} s" if len(frame) else ""
    caption = f"within target = answered within {target}; 95% CI" + _partial_note(frame, metric)
    table = Table(title=f"{metric} (seconds){zoned}", caption=caption)
    keys = [c for c in frame.columns if c not in TIMES]
    for name in [*keys, "n", "median", "p90", "within target %", "95% CI"]:
        table.add_column(name, justify="left" if name in keys else "right")
    for row in frame.to_dict("records"):
        interval = _interval(row["within_ci_low"], row["within_ci_high"])
        figures = [_figure(row[name]) for name in ("n", "median_seconds", "p90_seconds", "within_target_pct")]
        table.add_row(*_keys(row, keys), *figures, interval)
    return table


def _figures(row: dict[Any, Any]) -> list[str]:
    small = "*" if row.get("small_sample") else ""
    interval = _interval(row.get("ci_low"), row.get("ci_high"))
    return [
        _figure(row.get("value")) + small,
        _figure(row.get("n")),
        interval,
        _cell(row.get("change")),
        _cell(row.get("p_value")),
    ]


def _interval(low: object, high: object) -> str:
    """'low to high', or nothing where there is no interval (one answer)."""
    low_text, high_text = _cell(low), _cell(high)
    return f"{low_text} to {high_text}" if low_text and high_text else ""


def _figure(value: object) -> str:
    """A figure as shown: counts with thousands separators, like the intervals beside them (group keys stay as
    they are: an attribute value 1990 is not 1,990)."""
    import numpy as np

    return f"{value:,}" if isinstance(value, int | np.integer) else _cell(value)


def _cell(value: object) -> str:
    import pandas as pd

    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) >= 0.01 or value == 0 else f"{value:.2g}"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return str(value)
