"""The `cxm` command line: thin commands that call services, one module per area."""

from __future__ import annotations

from pydantic import ValidationError

from cxm.cli import admin, records, reports, serving, surveys, text, themes, users, worker
from cxm.cli.base import app, console
from cxm.config import settings_problem
from cxm.core.errors import CxmError

__all__ = ["admin", "app", "main", "records", "reports", "serving", "surveys", "text", "themes", "users", "worker"]


def main() -> None:
    """Entry point: run the CLI, turning expected errors into a one-line reason and exit 1."""
    try:
        app(standalone_mode=True)
    except CxmError as error:
        console.print(f"error: {error.message}", highlight=False, markup=False)
        raise SystemExit(1) from None
    except ValidationError as error:  # a setting of the environment (or .env) that cannot be read
        console.print(f"error: {settings_problem(error)}", highlight=False, markup=False)
        raise SystemExit(1) from None
