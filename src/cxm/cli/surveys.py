"""Survey commands: create from a file or a template, list, open/close, export responses."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cxm.cli.base import app, console, out, unit_of_work
from cxm.core.errors import InvalidInput

survey_app = typer.Typer(help="Surveys: define them from YAML/JSON files or built-in templates.", no_args_is_help=True)
app.add_typer(survey_app, name="survey")


@survey_app.command("create")
def survey_create(path: Annotated[Path, typer.Argument(help="Survey definition, YAML or JSON")]) -> None:
    """Create a survey from a YAML or JSON definition."""
    from cxm.feedback import service as feedback_service
    from cxm.feedback.templates import definition_from_file

    definition = definition_from_file(path)
    with unit_of_work() as session:
        survey = feedback_service.create_survey(session, definition)
        console.print(f"survey {survey.id} '{survey.key}' created ({survey.status}, {', '.join(survey.languages)})")


@survey_app.command("template")
def survey_template(
    name: Annotated[str | None, typer.Argument(help="Template to create; none lists them")] = None,
) -> None:
    """Create a built-in template survey (relationship-nps, purchase-csat, support-ces)."""
    from cxm.feedback import service as feedback_service

    if name is None:
        out.print("\n".join(feedback_service.template_names()), highlight=False)
        return
    with unit_of_work() as session:
        survey = feedback_service.create_survey(session, feedback_service.load_template(name))
        console.print(f"survey {survey.id} '{survey.key}' created from template ({survey.status})")


@survey_app.command("list")
def survey_list() -> None:
    """List surveys with their status and number of responses."""
    from cxm.feedback import service as feedback_service

    with unit_of_work() as session:
        surveys = feedback_service.list_surveys(session)
    table = Table("id", "key", "name", "status", "languages", "responses")
    for survey in surveys:
        languages = ", ".join(survey.languages)
        table.add_row(str(survey.id), survey.key, survey.name, survey.status, languages, str(survey.responses))
    out.print(table)


@survey_app.command("status")
def survey_status(survey: str, status: Annotated[str, typer.Argument(help="draft | active | closed")]) -> None:
    """Open (active) or close a survey."""
    from cxm.feedback import service as feedback_service

    if status not in {s.value for s in feedback_service.SurveyStatus}:
        raise InvalidInput(f"status must be draft, active or closed, not '{status}'")
    with unit_of_work() as session:
        found = feedback_service.set_status(
            session, feedback_service.get_survey(session, survey), feedback_service.SurveyStatus(status)
        )
        console.print(f"survey '{found.key}' is now {found.status}")


@survey_app.command("export")
def survey_export(survey: str, output: Annotated[Path, typer.Argument(help="File to write: .csv or .parquet")]) -> None:
    """Export a survey's completed responses, one row per response and one column per question."""
    from cxm.feedback import service as feedback_service

    if output.suffix not in (".csv", ".parquet"):
        raise InvalidInput("the output file must end in .csv or .parquet")
    with unit_of_work() as session:
        wanted = feedback_service.ResponseFilter(survey_id=feedback_service.get_survey(session, survey).id)
        frame = feedback_service.responses_frame(session, wanted)
    if output.suffix == ".csv":
        frame.to_csv(output, index=False)
    else:
        frame.to_parquet(output, index=False)
    console.print(f"{len(frame):,} responses written to {output}")
