"""The `cxm` command line: thin commands that call services."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from cxm.config import Settings
from cxm.core.errors import CxmError

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
console = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)
state: dict[str, Any] = {}

DatabaseUrl = Annotated[
    str | None, typer.Option("--database-url", envvar="CXM_DATABASE_URL", help="Default: sqlite:///cxm.db")
]


class ImportKind(StrEnum):
    """What an import file holds."""

    customers = "customers"
    interactions = "interactions"
    orders = "orders"


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


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the schema to the newest migration."""
    open_hub().close()
    console.print(f"schema up to date: {settings().database_url}")


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Option(help="Who or what uses the key")],
    role: Annotated[str, typer.Option(help="admin | analyst | agent | viewer")] = "analyst",
) -> None:
    """Create an API key and print it once."""
    from cxm.access import service as access_service

    with unit_of_work() as session:
        key = access_service.create_api_key(session, name=name, role=role)
    console.print(f"API key {key.id} '{key.name}' ({key.role}); store it now, it is not shown again:")
    out.print(key.secret, highlight=False)


@apikey_app.command("list")
def apikey_list() -> None:
    """List API keys (never their secrets)."""
    from cxm.access import service as access_service

    with unit_of_work() as session:
        keys = access_service.list_api_keys(session)
    table = Table("id", "name", "role", "prefix", "created", "revoked")
    for key in keys:
        table.add_row(
            str(key.id),
            key.name,
            key.role,
            key.prefix + "…",
            f"{key.created_at:%Y-%m-%d}",
            f"{key.revoked_at:%Y-%m-%d}" if key.revoked_at else "",
        )
    out.print(table)


@apikey_app.command("revoke")
def apikey_revoke(key_id: int) -> None:
    """Revoke an API key."""
    from cxm.access import service as access_service

    with unit_of_work() as session:
        access_service.revoke_api_key(session, key_id=key_id)
    console.print(f"API key {key_id} revoked")


def _customer_id(session: Session, ref: str) -> int:
    """A customer id from an id or an identity reference."""
    from cxm.customers import service as customers_service

    return int(ref) if ref.isdigit() else customers_service.find_by_identity(session, ref).id


@customer_app.command("show")
def customer_show(ref: str) -> None:
    """Print a customer's profile (traits, identities, consent, merges) as JSON."""
    from cxm.customers import service as customers_service

    with unit_of_work() as session:
        profile = customers_service.read_customer(session, _customer_id(session, ref))
    out.print_json(profile.model_dump_json())


@customer_app.command("export")
def customer_export(
    ref: str, output: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout")] = None
) -> None:
    """Everything held about a person, as JSON (subject access request)."""
    import orjson

    from cxm.customers import service as customers_service

    with unit_of_work() as session:
        held = customers_service.export_person(session, _customer_id(session, ref))
    data = orjson.dumps(held, default=str, option=orjson.OPT_INDENT_2)
    if output is None:
        out.print(data.decode(), highlight=False, markup=False)
    else:
        output.write_bytes(data)
        console.print(f"exported to {output}")


@customer_app.command("erase")
def customer_erase(
    ref: str, yes: Annotated[bool, typer.Option("--yes", help="Confirm: this cannot be undone")] = False
) -> None:
    """Erase a person's personal data everywhere (identities, traits, texts), leaving a tombstone."""
    from cxm.customers import service as customers_service

    if not yes:
        raise CxmError("erasure cannot be undone: repeat with --yes to confirm")
    with unit_of_work() as session:
        erased = customers_service.erase_person(session, _customer_id(session, ref), actor="cli")
    console.print(f"erased profile(s) {', '.join(map(str, erased))}")


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(envvar="CXM_HOST")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="CXM_PORT")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Server processes (more use more cores)")] = 1,
) -> None:
    """Serve the API and pages for an existing database."""
    import uvicorn

    from cxm.app import create_app

    open_hub().close()
    console.print(f"cxm on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    if workers == 1:
        uvicorn.run(create_app(settings()), host=host, port=port, log_level="warning")
        return
    # Worker processes build their own app from the environment.
    os.environ["CXM_DATABASE_URL"] = settings().database_url
    uvicorn.run("cxm.app:create_app", factory=True, workers=workers, host=host, port=port, log_level="warning")


@app.command("import")
def import_command(
    kind: ImportKind,
    path: Annotated[Path, typer.Argument(help="CSV, JSON Lines or Parquet file")],
    file_format: Annotated[
        str | None, typer.Option("--format", help="csv | jsonl | parquet (default: extension)")
    ] = None,
    mapping: Annotated[list[str] | None, typer.Option("--map", help="field=column, repeatable")] = None,
    rejected: Annotated[Path | None, typer.Option(help="Where to write rejected rows (CSV)")] = None,
) -> None:
    """Import customers, interactions or orders from CSV, JSON Lines or Parquet."""
    from cxm.interactions import importers

    if not path.is_file():
        raise CxmError(f"no such file: {path}")
    fields = importers.parse_mapping(mapping or [])
    with progress_bar() as bar, unit_of_work() as session:
        task = bar.add_task(f"importing {kind}", total=None)
        summary = importers.import_file(
            session,
            kind.value,
            path,
            file_format=file_format,
            mapping=fields,
            rejected_path=rejected,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            actor="cli:import",
        )
    out.print(summary.describe(), highlight=False)


@app.command("demo")
def demo(
    customers: Annotated[int, typer.Option(help="How many customers")] = 5000,
    interactions: Annotated[int, typer.Option(help="How many interactions")] = 100_000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same company)")] = 42,
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the app afterwards")] = True,
    host: Annotated[str, typer.Option(envvar="CXM_HOST")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="CXM_PORT")] = 8000,
) -> None:
    """Generate a realistic demo company, print an API key, then serve it."""
    from cxm import demo as demo_data

    with unit_of_work() as session:
        if demo_data.has_data(session):
            summary = demo_data.reuse(session)
        else:
            with progress_bar() as bar:
                task = bar.add_task("generating demo company", total=None)
                summary = demo_data.generate(
                    session,
                    customers=customers,
                    interactions=interactions,
                    seed=seed,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
    out.print(summary.describe(f"http://{host}:{port}"), highlight=False, markup=False, soft_wrap=True)
    if serve_after:
        serve(host=host, port=port)


def main() -> None:
    """Entry point: run the CLI, turning expected errors into a one-line reason and exit 1."""
    try:
        app(standalone_mode=True)
    except CxmError as error:
        console.print(f"error: {error.message}", highlight=False, markup=False)
        raise SystemExit(1) from None
