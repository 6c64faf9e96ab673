"""`cxm report overview --format html|pdf --output FILE`: the printable Overview of the dashboard, as a file."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from cxm.cli.base import console, open_hub, settings
from cxm.core.errors import InvalidInput

if TYPE_CHECKING:
    from cxm.web.filters import FilterBar

FILTERS = ("channel", "journey_stage", "segment", "language", "survey")


def overview_filters(since: datetime | None, until: datetime | None, where: list[str]) -> FilterBar:
    """The dashboard's filter bar from the report options (`--until` is exclusive, as for every report)."""
    from cxm.web.filters import FilterBar

    chosen: dict[str, str] = {}
    for item in where:
        name, _, value = item.partition("=")
        if name.strip() not in FILTERS or not value.strip():
            raise InvalidInput(f"overview filters are {', '.join(FILTERS)} (--where NAME=VALUE), not '{item}'")
        chosen[name.strip()] = value.strip()
    last_day: date | None = (until - timedelta(microseconds=1)).date() if until else None
    return FilterBar(since=since.date() if since else None, until=last_day, **chosen)


def write_overview(output: Path, image: str, filters: FilterBar, *, language: str, chromium: Path) -> None:
    """Render the Overview (synced analytics store, the dashboard's template) to an HTML or PDF file."""
    from cxm.analytics import service as analytics_service
    from cxm.web.i18n import LANGUAGES
    from cxm.web.printing import report_file

    if language not in LANGUAGES:
        raise InvalidInput(f"--language must be one of {', '.join(LANGUAGES)}")
    hub = open_hub()
    try:
        with console.status("syncing the analytics store"):
            analytics_service.sync_if_changed(settings(), hub.engine)
        with hub.session() as session:
            html = report_file(
                session, analytics_service.engine_for(settings()), filters, language=language, now=datetime.now(UTC)
            )
    finally:
        hub.close()
    _write(output, html, image, chromium)


def _write(output: Path, html: str, image: str, chromium: Path) -> None:
    if image == "pdf":
        from cxm.web.pdf import html_to_pdf

        output.write_bytes(html_to_pdf(html, chromium=chromium))
    else:
        output.write_text(html, encoding="utf-8")
    console.print(f"wrote {output} ({output.stat().st_size:,} bytes)", highlight=False, markup=False)
