"""Serving cxm and generating the demo company."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from cxm.cli.base import app, console, open_hub, out, progress_bar, settings, sync_analytics, unit_of_work


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
    # DuckDB lets one process at a time open the store: no server process may keep it open for itself.
    os.environ["CXM_ANALYTICS_KEEP_OPEN"] = "0"
    uvicorn.run("cxm.app:create_app", factory=True, workers=workers, host=host, port=port, log_level="warning")


def analyze_comments() -> None:
    """Analyse the survey comments now and fit themes (interaction texts are left to the background worker)."""
    hub = open_hub()
    try:
        with progress_bar() as bar:
            task = bar.add_task("analysing survey comments", total=None)
            hub.text.backfill(lambda done, total: bar.update(task, completed=done, total=total), sources=["response"])
        if hub.text.themes().empty:
            with console.status("fitting themes"):
                hub.text.fit_themes()
    finally:
        hub.close()


TOUCHPOINTS_EACH = 20  # interactions per customer when none are asked for (5,000 customers: 100,000)


@app.command("demo")
def demo(
    customers: Annotated[int, typer.Option(help="How many customers")] = 5000,
    interactions: Annotated[
        int | None, typer.Option(help="How many interactions [default: 20 per customer]", show_default=False)
    ] = None,
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
                    interactions=TOUCHPOINTS_EACH * customers if interactions is None else interactions,
                    seed=seed,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
    analyze_comments()
    sync_analytics()
    out.print(summary.describe(f"http://{host}:{port}"), highlight=False, markup=False, soft_wrap=True)
    if serve_after:
        serve(host=host, port=port)
