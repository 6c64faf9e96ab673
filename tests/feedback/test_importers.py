"""Response imports: a Qualtrics export and a mapped CSV file, on SQLite and PostgreSQL; `cxm import responses`."""

from __future__ import annotations

import csv
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from cxm.core.errors import InvalidInput
from cxm.customers import service as customers_service
from cxm.feedback import service
from cxm.feedback.models import Answer, Question, Response

DATA = Path(__file__).parent / "data"
EXPORT = DATA / "qualtrics_relationship_nps.csv"
CXM = str(Path(sys.executable).with_name("cxm"))


@pytest.fixture
def surveys(session: Session) -> None:
    """The three built-in surveys."""
    service.install_templates(session)
    session.flush()


def answer_counts(session: Session) -> dict[str, int]:
    """Stored answers per question key."""
    query = select(Question.key, func.count()).join(Answer, Answer.question_id == Question.id).group_by(Question.key)
    return dict(session.execute(query).all())


def by_external_id(session: Session) -> dict[str, Response]:
    """Stored responses by their external id."""
    return {r.external_id or "": r for r in session.scalars(select(Response))}


def rejected_rows(path: Path) -> list[dict[str, str]]:
    """The rejected-rows CSV as dicts."""
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_qualtrics_export_imports_responses_answers_and_customers(
    session: Session, surveys: None, tmp_path: Path
) -> None:
    rejected = tmp_path / "rejected.csv"
    summary = service.import_responses(session, EXPORT, survey="relationship-nps", rejected_path=rejected, actor="test")
    assert (summary.imported, summary.partial, summary.duplicates, summary.rejected) == (6, 1, 0, 3)
    assert answer_counts(session) == {"nps": 6, "reason": 4, "improve": 1}
    stored = by_external_id(session)
    jana = customers_service.find_by_identity(session, "email:jana.novakova@example.cz").id
    piotr = customers_service.find_by_identity(session, "email:piotr.kowalski@example.pl").id
    owners = {key: response.customer_id for key, response in stored.items()}
    assert [owners[k] for k in ("R_1aB2cD3eF4gH5iJ", "R_8sT9uV0wX1yZ2aB", "R_9cD0eF1gH2iJ3kL")] == [jana] * 3
    assert owners["R_2kL3mN4oP5qR6sT"] == piotr and owners["R_3uV4wX5yZ6aB7cD"] is None
    assert customers_service.read_customer(session, piotr).name == "Piotr Kowalski"
    first = stored["R_1aB2cD3eF4gH5iJ"]
    assert (first.language, first.channel, first.status) == ("cs", "email", "complete")
    assert first.started_at == datetime(2026, 10, 1, 7, 15, 42, tzinfo=UTC)  # Prague summer time is UTC+2
    assert first.completed_at == datetime(2026, 10, 1, 7, 17, 3, tzinfo=UTC)
    assert service.stored_answers(session, stored["R_2kL3mN4oP5qR6sT"].id) == {
        "nps": 3,
        "reason": "Paczka przyszła uszkodzona i nikt nie odpisał na reklamację.",
        "improve": ["price", "delivery"],
    }
    assert service.stored_answers(session, stored["R_3uV4wX5yZ6aB7cD"].id)["reason"].startswith('Great service, the "')
    partial = stored["R_4eF5gH6iJ7kL8mN"]
    assert (partial.status, partial.completed_at, partial.attributes["progress"]) == ("partial", None, 40)
    reasons = {int(row["row"]): row["reason"] for row in rejected_rows(rejected)}
    assert set(reasons) == {5, 6, 7}
    assert (
        "between 0 and 10" in reasons[5] and "preview" in reasons[6] and "'9' is not one of the options" in reasons[7]
    )


def test_a_second_run_adds_nothing(session: Session, surveys: None, tmp_path: Path) -> None:
    service.import_responses(session, EXPORT, survey="relationship-nps", rejected_path=tmp_path / "r.csv", actor="t")
    customers = customers_service.count_customers(session)
    again = service.import_responses(
        session, EXPORT, survey="relationship-nps", rejected_path=tmp_path / "r2.csv", actor="t"
    )
    assert (again.imported, again.duplicates, again.rejected) == (0, 6, 3)
    assert session.scalar(select(func.count()).select_from(Response)) == 6
    assert answer_counts(session) == {"nps": 6, "reason": 4, "improve": 1}
    assert customers_service.count_customers(session) == customers


def write_export(path: Path, header: list[str], import_ids: list[str], rows: list[list[str]]) -> Path:
    """A Qualtrics-shaped file: column ids, texts (here the ids again), ImportId JSON, then the rows."""
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerows([header, header, [f'{{"ImportId":"{i}"}}' for i in import_ids], *rows])
    return path


def test_choice_text_export_with_split_columns_and_a_mapping(session: Session, surveys: None, tmp_path: Path) -> None:
    header = ["StartDate", "Finished", "ResponseId", "RecipientEmail", "UserLanguage", "NPS", "Why", "Fix_1", "Fix_3"]
    ids = ["startDate", "finished", "_recordId", "recipientEmail", "userLanguage", "QID7", "QID8_TEXT", "QID9_1"]
    ids.append("QID9_3")
    rows = [
        ["2026-10-01T09:00:00Z", "True", "R_a", "ann@example.com", "EN-GB", "0 - Not at all likely", "", "Prices", ""],
        ["2026-10-01T10:00:00Z", "True", "R_b", "bob@example.com", "PL", "4", "drogo", "1", "1"],
    ]
    path = write_export(tmp_path / "split.csv", header, ids, rows)
    mapping = service.ResponseMapping(questions={"NPS": "nps", "Why": "reason", "QID9": "improve"})
    mapping.choices = {"improve": {"3": "delivery"}}
    summary = service.import_responses(session, path, survey="relationship-nps", mapping=mapping, actor="t")
    assert (summary.imported, summary.rejected) == (2, 0), summary.describe()
    stored = by_external_id(session)
    assert service.stored_answers(session, stored["R_a"].id) == {"nps": 0, "improve": ["price"]}
    assert service.stored_answers(session, stored["R_b"].id) == {
        "nps": 4,
        "reason": "drogo",
        "improve": ["price", "delivery"],
    }
    assert (stored["R_a"].language, stored["R_b"].language) == ("en", "pl")


def test_generic_csv_with_a_mapping_file(session: Session, surveys: None, tmp_path: Path) -> None:
    mapping_file = tmp_path / "mapping.yaml"
    mapping_file.write_text(
        "survey: purchase-csat\nresponse_id: ID\nidentities: {email: E-mail, phone: Telefon}\nname: Jméno\n"
        "language: Jazyk\ncompleted_at: Odesláno\ntimezone: Europe/Prague\ntime_format: '%d.%m.%Y %H:%M'\n"
        "channel: email\nquestions: {Spokojenost: csat, Našel vše: found, Komentář: comment}\n",
        encoding="utf-8",
    )
    path = tmp_path / "odpovedi.csv"
    path.write_text(
        "ID,E-mail,Telefon,Jméno,Jazyk,Odesláno,Spokojenost,Našel vše,Komentář,Pobočka\n"
        '101,eva@example.cz,,Eva Malá,cs,01.10.2026 14:30,5,Ano,"Super, díky!",Brno\n'
        "102,,+420 601 123 456,,cs,02.10.2026 09:05,2,Částečně,Dlouhá fronta <u pokladny>,Praha\n"
        "103,petr@example.cz,,,cs,03.10.2026 10:00,6,Ano,,Brno\n"
        "104,jan@example.cz,,,cs,03.10.2026 11:00,4,Možná,,Brno\n"
        "105,not-an-email,,,cs,03.10.2026 12:00,4,Ne,,Brno\n",
        encoding="utf-8",
    )
    mapping = service.load_mapping(mapping_file)
    summary = service.import_responses(session, path, mapping=mapping, actor="t")
    assert (summary.imported, summary.rejected, summary.ignored_columns) == (2, 3, ["Pobočka"])
    stored = by_external_id(session)
    assert service.stored_answers(session, stored["101"].id) == {"csat": 5, "found": "yes", "comment": "Super, díky!"}
    assert service.stored_answers(session, stored["102"].id)["found"] == "partly"
    assert stored["101"].completed_at == datetime(2026, 10, 1, 12, 30, tzinfo=UTC)
    assert stored["101"].channel == "email"
    eva = customers_service.find_by_identity(session, "email:eva@example.cz")
    assert stored["101"].customer_id == eva.id and eva.name == "Eva Malá"
    assert stored["102"].customer_id == customers_service.find_by_identity(session, "phone:+420601123456").id
    reasons = {int(row["row"]): row["reason"] for row in rejected_rows(path.with_name("odpovedi.csv.rejected.csv"))}
    assert "between 1 and 5" in reasons[3] and "'Možná' is not one of the options" in reasons[4]
    assert reasons[5].startswith("email:")
    again = service.import_responses(session, path, mapping=mapping, actor="t")
    assert (again.imported, again.duplicates) == (0, 2)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfeQ\x00\x01garbage\xff", "not UTF-8"),
        (b"", "Qualtrics export"),
        (b"ResponseId,Q1\nR_1,5\nR_2,6\n", "Qualtrics export"),
    ],
)
def test_unreadable_files_are_refused_before_anything_is_stored(
    session: Session, surveys: None, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "broken.csv"
    path.write_bytes(content)
    with pytest.raises(InvalidInput, match=message):
        service.import_responses(session, path, survey="relationship-nps", file_format="qualtrics", actor="t")
    assert session.scalar(select(func.count()).select_from(Response)) == 0


def test_csv_without_a_mapping_or_survey_is_refused(session: Session, surveys: None, tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("nps\n9\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="--mapping"):
        service.import_responses(session, path, survey="relationship-nps", actor="t")
    with pytest.raises(InvalidInput, match="--survey"):
        service.import_responses(session, EXPORT, actor="t")


def cxm(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the installed `cxm` command."""
    return subprocess.run([CXM, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def prepared_database(tmp_path: Path) -> str:
    """A SQLite database with the built-in surveys."""
    from cxm.hub import Hub

    url = f"sqlite:///{tmp_path / 'x.db'}"
    hub = Hub(url)
    with hub.session() as session:
        service.install_templates(session)
    hub.close()
    return url


def response_count(url: str) -> int:
    """Responses stored in a SQLite database."""
    from sqlalchemy import create_engine

    engine: Engine = create_engine(url)
    with engine.connect() as connection:
        count = int(connection.scalar(text("SELECT count(*) FROM responses")) or 0)
    engine.dispose()
    return count


def test_cli_imports_a_qualtrics_export_and_reports(tmp_path: Path) -> None:
    url = prepared_database(tmp_path)
    rejected = tmp_path / "bad.csv"
    args = ["--database-url", url, "import", "responses", str(EXPORT), "--format", "qualtrics"]
    done = cxm(*args, "--survey", "relationship-nps", "--rejected", str(rejected), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "6 responses imported into relationship-nps (1 partial), 0 duplicates skipped, 3 rejected" in done.stdout
    assert len(rejected_rows(rejected)) == 3
    again = cxm(*args, "--survey", "relationship-nps", "--rejected", str(rejected), cwd=tmp_path)
    assert "0 responses imported" in again.stdout and "6 duplicates skipped" in again.stdout
    assert response_count(url) == 6


def test_cli_broken_file_is_one_line_error_and_stores_nothing(tmp_path: Path) -> None:
    url = prepared_database(tmp_path)
    good = EXPORT.read_bytes().splitlines(keepends=True)
    body = good[3].replace(b"R_1aB2cD3eF4gH5iJ", b"R_%06d")
    path = tmp_path / "big.csv"
    # 1,500 good rows (more than one stored batch), then bytes that are not UTF-8
    path.write_bytes(
        b"".join(good[:3]) + b"".join(body.replace(b"%06d", b"%06d" % i) for i in range(1500)) + b"\xff\xfe\n"
    )
    done = cxm("--database-url", url, "import", "responses", str(path), "--survey", "relationship-nps", cwd=tmp_path)
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: cannot read {path.name}: it is not UTF-8 text"] == done.stderr.strip().splitlines()[-1:]
    assert response_count(url) == 0


def test_cli_refuses_response_options_for_other_kinds(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text("email,channel,type,occurred_at\n", encoding="utf-8")
    done = cxm(
        "--database-url",
        f"sqlite:///{tmp_path / 'y.db'}",
        "import",
        "interactions",
        str(path),
        "--survey",
        "x",
        cwd=tmp_path,
    )
    assert done.returncode == 1 and "--survey and --mapping are for responses" in done.stderr


def hub_import(url: str, **options: Any) -> Any:
    """Import the export through the library."""
    from cxm.hub import Hub

    hub = Hub(url)
    try:
        return hub.import_responses(EXPORT, **options)
    finally:
        hub.close()


def test_library_imports_responses(tmp_path: Path) -> None:
    url = prepared_database(tmp_path)
    summary = hub_import(url, survey="relationship-nps", rejected_path=tmp_path / "r.csv")
    assert (summary.imported, summary.rejected) == (6, 3)
    assert response_count(url) == 6
