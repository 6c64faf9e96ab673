"""Journey and loyalty reports: `cxm report funnel|stage-times|paths|experience|moments|loyalty|transitions|ladder`."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rich.table import Table

from cxm.cli.base import out

REPORTS = ("funnel", "stage-times", "paths", "experience", "moments", "loyalty", "transitions", "ladder")
TITLES = {
    "funnel": "journey funnel — customers reaching each stage in order; conversion from the stage before (95% CI)",
    "stage-times": "days between stages (customers who went on, in order)",
    "paths": "most common journey paths",
    "experience": "experience at each journey stage (answers tied to the stage's interactions)",
    "moments": "moments that matter — NPS after a good minus after a poor experience in the cell",
    "loyalty": "loyalty ladder at each month end — customers and the month's order value per rung",
    "transitions": "loyalty transitions, month to month",
    "ladder": "customers on the loyalty ladder at the last month end",
}


@dataclass(frozen=True)
class JourneyOptions:
    """What a journey or loyalty report was asked for on the command line."""

    by: str | None
    top: int
    steps: int
    detail: bool
    by_channel: bool
    min_customers: int
    months: int
    currency: str | None
    lost_days: int | None
    repurchase_days: int | None
    customers: list[int]


def journey_frame(name: str, engine: Any, filters: Any, until: Any, options: JourneyOptions) -> Any:
    """The report's table, from the analytics service."""
    from cxm.analytics import service

    journeys = service.JourneyQuery(options.by, filters, options.top, options.steps, options.detail)
    experience = service.ExperienceQuery(filters, options.by_channel, options.min_customers)
    ladder = service.LoyaltyQuery(options.months, until, options.currency, _rules(options))
    made = {
        "funnel": lambda: service.funnel(engine, journeys),
        "stage-times": lambda: service.stage_times(engine, journeys),
        "paths": lambda: service.paths(engine, journeys),
        "experience": lambda: service.stage_experience(engine, experience),
        "moments": lambda: service.moments(engine, experience),
        "loyalty": lambda: service.loyalty_ladder(engine, ladder),
        "transitions": lambda: service.loyalty_transitions(engine, ladder),
        "ladder": lambda: service.loyalty_placements(engine, replace(ladder, months=1), options.customers),
    }
    return made[name]()


def _rules(options: JourneyOptions) -> Any:
    from cxm.analytics import service

    rules = service.LadderRules()
    if options.lost_days is not None:
        rules = replace(rules, lost_days=options.lost_days)
    if options.repurchase_days is not None:
        rules = replace(rules, repurchase_days=options.repurchase_days)
    return rules


def print_report(name: str, frame: Any, output: str, chart: Path | None) -> None:
    """Print a journey or loyalty table as a table, CSV or JSON; the funnel chart too when asked."""
    from cxm.analytics import service

    if chart is not None and name == "funnel":
        chart.write_bytes(service.funnel_chart(frame, image=chart.suffix.lstrip(".").lower() or "svg"))
    if output == "csv":
        out.print(frame.to_csv(index=False), end="", highlight=False, markup=False)
    elif output == "json":
        out.print_json(data=service.records(frame))
    else:
        out.print(_table(frame, TITLES[name]))


HIDDEN = ("step", "of_first_pct", "ci_method", "change", "change_ci_low", "change_ci_high", "p_value",
          "compared_with", "likelihood_gap", "currency", "active_before", "active_recent", "last_order")  # fmt: skip


def _shown(frame: Any) -> list[str]:
    """The columns a terminal table shows: intervals as one column, the rest of the detail in CSV/JSON."""
    return [c for c in frame.columns if c not in HIDDEN and not str(c).endswith("ci_high")]


def _table(frame: Any, title: str) -> Table:
    from cxm.cli.reports import _cell

    columns = _shown(frame)
    table = Table(title=title)
    for column in columns:
        label = "95% CI" if str(column).endswith("ci_low") else str(column).replace("_pct", " %").replace("_", " ")
        table.add_column(label, justify="right" if frame[column].dtype.kind in "iuf" else "left")
    for row in frame.to_dict("records"):
        table.add_row(*(_value(row, column, _cell) for column in columns))
    return table


def _value(row: dict[str, Any], column: str, cell: Any) -> str:
    if not column.endswith("ci_low"):
        return str(cell(row[column]))
    low, high = cell(row[column]), cell(row[column.removesuffix("low") + "high"])
    return f"{low}-{high}" if low else ""
