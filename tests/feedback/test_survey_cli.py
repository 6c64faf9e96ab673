"""`cxm survey ...` as a user runs it: a real process on a throw-away SQLite file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from cxm.feedback import service
from cxm.feedback.schemas import ResponseIn
from cxm.hub import Hub
from tests.feedback.test_surveys import definition
from tests.test_cli import cxm


def test_create_from_file_template_list_status_export(tmp_path: Path) -> None:
    survey_file = tmp_path / "after-visit.yaml"
    survey_file.write_text(yaml.safe_dump(definition(status="active"), allow_unicode=True), encoding="utf-8")
    created = cxm(tmp_path, "survey", "create", str(survey_file))
    assert created.returncode == 0, created.stderr
    assert "'after-visit' created" in created.stderr
    assert cxm(tmp_path, "survey", "template", "support-ces").returncode == 0
    listed = cxm(tmp_path, "survey", "list")
    assert "after-visit" in listed.stdout and "support-ces" in listed.stdout
    _answer(tmp_path, [3, 9])
    exported = cxm(tmp_path, "survey", "export", "after-visit", str(tmp_path / "out.csv"))
    assert exported.returncode == 0, exported.stderr
    assert sorted(pd.read_csv(tmp_path / "out.csv")["nps"]) == [3, 9]
    closed = cxm(tmp_path, "survey", "status", "after-visit", "closed")
    assert closed.returncode == 0 and "closed" in closed.stderr


def _answer(tmp_path: Path, scores: list[int]) -> None:
    hub = Hub(f"sqlite:///{tmp_path / 'cxm.db'}")
    with hub.session() as session:
        survey = service.get_survey(session, "after-visit")
        for score in scores:
            body = ResponseIn(survey="after-visit", answers={"nps": score})
            service.record_response(session, survey, body.answers, service.Respondent(channel="api"))
    hub.close()


def test_bad_survey_file_is_one_line_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("key: x\nname: [unclosed", encoding="utf-8")
    failed = cxm(tmp_path, "survey", "create", str(broken))
    assert failed.returncode == 1 and failed.stderr.startswith("error: ") and len(failed.stderr.splitlines()) == 1
    incomplete = tmp_path / "incomplete.yaml"
    incomplete.write_text(yaml.safe_dump(definition(languages=["en", "cs", "ro"])), encoding="utf-8")
    refused = cxm(tmp_path, "survey", "create", str(incomplete))
    assert refused.returncode == 1 and "has no text in ro" in refused.stderr
    missing = cxm(tmp_path, "survey", "create", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 1 and "cannot read" in missing.stderr
    assert cxm(tmp_path, "survey", "template", "nope").returncode == 1
