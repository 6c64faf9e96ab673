"""What every command shares: the Typer app, consoles, settings, the unit of work, progress bars."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from cxm.config import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from cxm.hub import Hub

app = typer.Typer(help="cxm: one customer hub for every channel.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.")
apikey_app = typer.Typer(help="API keys for machines.")
app.add_typer(db_app, name="db")
app.add_typer(apikey_app, name="apikey")
customer_app = typer.Typer(
    help="Look up, export or erase one customer (by id or identity, e.g. email:ann@example.com)."
)
app.add_typer(customer_app, name="customer")
# Nothing printed is read as rich markup or emoji codes: names, comments and attribute values are customers' text
# (a "[/x]" in one crashed a table, a "[bold]" styled it).
console = Console(stderr=True, soft_wrap=True, markup=False, emoji=False)
out = Console(soft_wrap=True, markup=False, emoji=False)
state: dict[str, Any] = {}

DatabaseUrl = Annotated[
    str | None, typer.Option("--database-url", envvar="CXM_DATABASE_URL", help="Default: sqlite:///cxm.db")
]


@app.callback()
def main_options(database_url: DatabaseUrl = None) -> None:
    """Options shared by every command."""
    state["settings"] = Settings(database_url=database_url) if database_url else Settings()


def settings() -> Settings:
    """The settings of this invocation."""
    return state.get("settings") or Settings()


def open_hub() -> Hub:
    """The hub of this invocation's database, migrated (imported on use so `--help` answers at once)."""
    from cxm.hub import Hub

    return Hub(settings().database_url)


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """A hub session for one command, committed at the end."""
    hub = open_hub()
    try:
        with hub.session() as session:
            yield session
    finally:
        hub.close()


def progress_bar() -> Progress:
    """The progress bar long commands show."""
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console
    )


def sync_analytics() -> None:
    """Bring the analytics store up to date after a command changed data (no-op for live engines)."""
    from cxm.analytics import service as analytics_service

    hub = open_hub()
    try:
        with console.status("syncing the analytics store"):
            report = analytics_service.sync_if_changed(settings(), hub.engine)
    finally:
        hub.close()
    if report is not None:
        console.print(report.describe(), highlight=False)
