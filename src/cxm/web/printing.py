"""The Overview's charts as images and its printable report: for the browser, and as a self-contained file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from cxm.analytics import service as analytics_service
from cxm.core.errors import NotFound
from cxm.web.cache import remembered, sharing
from cxm.web.charts import bar_chart, inline_svg, trend_chart
from cxm.web.figures import CARDS, STYLES, TITLES, metric_frame, value_columns
from cxm.web.filters import FilterBar
from cxm.web.i18n import environment, gettext
from cxm.web.pages.overview import overview_context, volume

# The Overview's charts: each metric's monthly trend, and interactions by channel.
CHARTS = (*CARDS, "volume")
# The charts the printed report carries (the sparklines on the cards show the rest).
REPORT_CHARTS = ("nps", "csat", "ces", "volume")
UNITS = {"points": "NPS", "percent": "%", "mean": "1-7"}
REPORT_TEMPLATE = "report_overview.html"
STATIC = Path(__file__).parent / "static"


def overview_chart(
    session: Session, engine: analytics_service.Engine, filters: FilterBar, chart: str, *, image: str, language: str
) -> bytes:
    """One Overview chart under the page's filters, as SVG or PNG bytes (drawn once per analytics store state)."""
    question = ("overview_chart", chart, image, language, filters)
    return remembered(engine, question, lambda: _drawn(session, engine, filters, chart, image=image, language=language))


def _drawn(
    session: Session, engine: analytics_service.Engine, filters: FilterBar, chart: str, *, image: str, language: str
) -> bytes:
    if chart == "volume":
        rows = volume(session, engine)
        title = gettext(language, "Interactions by channel")
        labels, counts = [r["label"] for r in rows], [r["n"] for r in rows]
        return bar_chart(labels, counts, title=title, unit=gettext(language, "Interactions"), image=image)
    if chart not in CARDS:
        raise NotFound(f"no chart '{chart}' on the overview", details={"charts": list(CHARTS)})
    frame = metric_frame(engine, chart, filters.query(chart, period="month"))
    title = f"{gettext(language, TITLES[chart])} · {gettext(language, 'by month')} (95% CI)"
    unit = UNITS[STYLES[chart]]
    return trend_chart(frame, value_columns(chart), title=title, unit=unit, image=image)


def report_context(
    session: Session, engine: analytics_service.Engine, filters: FilterBar, *, now: datetime
) -> dict[str, Any]:
    """What the printable Overview shows: the overview's figures, the filters in words, when it was made."""
    return {**overview_context(session, engine, filters), "generated": now, "charts": REPORT_CHARTS}


def stylesheet() -> str:
    """The dashboard's CSS, its print rules and the report's own, as one text to inline in a file."""
    screen = (STATIC / "dashboard.css").read_text(encoding="utf-8")
    printed = (STATIC / "print.css").read_text(encoding="utf-8")
    report = (STATIC / "report.css").read_text(encoding="utf-8")
    return f"{screen}\n@media print {{\n{printed}\n}}\n{report}"


def report_file(
    session: Session, engine: analytics_service.Engine, filters: FilterBar, *, language: str, now: datetime
) -> str:
    """The printable Overview as one self-contained HTML document (CSS inlined, charts as inline SVG)."""
    with sharing(engine):
        context = report_context(session, engine, filters, now=now)
        drawn = {
            chart: inline_svg(overview_chart(session, engine, filters, chart, image="svg", language=language))
            for chart in REPORT_CHARTS
        }
    template = environment(language).get_template(REPORT_TEMPLATE)
    return template.render(lang=language, inline_css=stylesheet(), inline_charts=drawn, **context)
