"""Schema, API key and single-customer commands."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cxm.cli.base import apikey_app, console, customer_app, db_app, open_hub, out, settings, unit_of_work
from cxm.core.errors import CxmError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


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
