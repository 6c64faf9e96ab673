"""Learning from rated comments, through the API, the CLI and the library, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cxm.cli import app as cli_app
from cxm.core import jobs
from cxm.core.db import make_sessionmaker
from cxm.core.errors import InvalidInput
from cxm.feedback import service as feedback_service
from cxm.hub import Hub
from cxm.text import service

START = datetime(2026, 1, 1, tzinfo=UTC)


def rate(session: Session, comments: list[tuple[int, str]]) -> None:
    """Store NPS responses with comments, one day apart in the given order."""
    survey = feedback_service.create_survey(session, feedback_service.load_template("relationship-nps"))
    items = [
        feedback_service.IncomingResponse(
            answers={"nps": score, "reason": text},
            external_id=f"r{i}",
            language="en",
            started_at=START + timedelta(days=i),
            completed_at=START + timedelta(days=i),
        )
        for i, (score, text) in enumerate(comments)
    ]
    result = feedback_service.store_responses(session, survey, items, actor="test")
    assert not result.problems


def company_comments(n: int = 60) -> list[tuple[int, str]]:
    """Comments whose polarity only this company's ratings reveal: which counter served the customer."""
    return [
        (10, f"Served at counter Alpha, ticket {i}.") if i % 2 else (2, f"Served at counter Omega, ticket {i}.")
        for i in range(n)
    ]


def test_rated_comments_keep_only_clear_scores_oldest_first(session: Session) -> None:
    rate(session, [(10, "great"), (7, "fine"), (3, "bad"), (9, "")])
    found = feedback_service.rated_comments(session)
    assert [(c.text, c.label) for c in found] == [("great", "positive"), ("bad", "negative")]


def test_training_needs_enough_rated_comments(session: Session) -> None:
    rate(session, company_comments(10))
    with pytest.raises(InvalidInput, match="at least 40"):
        service.train(session)


def test_a_better_model_is_adopted_and_an_equal_one_is_not(session: Session) -> None:
    rate(session, company_comments())
    first = service.train(session)
    assert first.active and first.data
    assert (first.train_size, first.test_size) == (48, 12)
    assert first.macro_f1 == 1.0 > first.baseline_macro_f1
    assert first.trained_until == START + timedelta(days=47)
    second = service.train(session)
    assert not second.active and second.data is None and second.baseline_macro_f1 == 1.0
    assert [m.id for m in service.list_models(session)] == [second.id, first.id]
    (alpha, omega) = service.engine_for(session).analyze(["Served at counter Alpha.", "Served at counter Omega."])
    assert alpha.sentiment.score > omega.sentiment.score


def test_api_analyzes_texts_and_trains(client: TestClient, admin_headers: dict[str, str], db: Engine) -> None:
    body = {"texts": ["Skvělá obsluha, děkuji!", "Paket nikad nije stigao i nitko se ne javlja."]}
    answer = client.post("/api/v1/text/analyze", json=body, headers=admin_headers)
    assert answer.status_code == 200
    first, second = answer.json()
    assert (first["language"], first["sentiment"]["label"]) == ("cs", "positive")
    assert (second["language"], second["sentiment"]["label"]) == ("hr", "negative")
    assert first["keyphrases"] and -1 <= second["sentiment"]["score"] < 0
    with make_sessionmaker(db)() as session, session.begin():
        rate(session, company_comments())
    trained = client.post("/api/v1/text/models", headers=admin_headers)
    assert trained.status_code == 201 and trained.json()["active"] is True
    listed = client.get("/api/v1/text/models", headers=admin_headers).json()
    assert [m["id"] for m in listed] == [trained.json()["id"]] and "data" not in listed[0]


def test_api_refuses_bad_requests(client: TestClient, admin_headers: dict[str, str]) -> None:
    assert client.post("/api/v1/text/analyze", json={"texts": []}, headers=admin_headers).status_code == 422
    assert client.post("/api/v1/text/analyze", json={"texts": ["x"], "language": "<b>"}, headers=admin_headers).json()[
        "error"
    ]["code"]
    assert client.post("/api/v1/text/analyze", json={"texts": ["x"]}).status_code == 401
    refused = client.post("/api/v1/text/models", headers=admin_headers)
    assert refused.status_code == 422 and "rated comments" in refused.json()["error"]["message"]


def test_library_analyzes_into_a_frame(database_url: str, db: Engine) -> None:
    hub = Hub(database_url)
    try:
        frame = hub.text.analyze(["The staff were wonderful.", "Obsługa była okropna i niemiła."])
    finally:
        hub.close()
    assert list(frame.columns) == ["text", "language", "sentiment", "label", "keyphrases"]
    assert frame["language"].tolist() == ["en", "pl"]
    assert frame["label"].tolist() == ["positive", "negative"]


def test_cli_analyzes_evaluates_and_trains(database_url: str, db: Engine, tmp_path: Path) -> None:
    runner, base = CliRunner(), ["--database-url", database_url, "text"]
    texts = tmp_path / "texts.txt"
    texts.write_text("Great service!\n\nTerrible, slow and rude.\n", encoding="utf-8")
    analysed = runner.invoke(cli_app, [*base, "analyze", str(texts)])
    assert analysed.exit_code == 0 and analysed.stdout.count("\n") == 2 and '"label": "negative"' in analysed.stdout
    rated = tmp_path / "rated.csv"
    rated.write_text(
        "stars,text\n5,Wonderful staff and fast delivery.\n1,Awful service and rude staff.\n3,ok\n", encoding="utf-8"
    )
    evaluated = runner.invoke(
        cli_app, [*base, "evaluate", str(rated), "--label-column", "stars", "--positive", "4,5", "--negative", "0,1,2"]
    )
    assert evaluated.exit_code == 0 and "texts 2  accuracy 1.000  macro-F1 1.000" in evaluated.stdout
    missing = runner.invoke(cli_app, [*base, "evaluate", str(rated), "--label-column", "rating"])
    assert missing.exit_code != 0
    with make_sessionmaker(db)() as session, session.begin():
        rate(session, company_comments())
    trained = runner.invoke(cli_app, [*base, "train"])
    assert trained.exit_code == 0 and "adopted" in trained.stdout
    assert "*" in runner.invoke(cli_app, [*base, "models"]).stdout


def test_enough_new_analysed_comments_train_a_model_in_the_background(db: Engine) -> None:
    factory = make_sessionmaker(db)
    with factory.begin() as session:
        rate(session, company_comments(30))
    jobs.run_due(factory)
    with factory.begin() as session:
        assert service.list_models(session) == []  # 30 comments: too few to queue a training run
        rate_more(session, company_comments(60)[30:], start=30)
    jobs.run_due(factory)
    with factory.begin() as session:
        trained = service.list_models(session)
        assert len(trained) == 1 and trained[0].active and trained[0].train_size + trained[0].test_size == 60
    assert jobs.run_due(factory) == 0  # the same comments never queue a second run


def rate_more(session: Session, comments: list[tuple[int, str]], *, start: int) -> None:
    """More NPS responses with comments to the survey `rate` created, continuing its days."""
    survey = feedback_service.get_survey(session, "relationship-nps")
    items = [
        feedback_service.IncomingResponse(
            answers={"nps": score, "reason": text},
            external_id=f"r{start + i}",
            language="en",
            started_at=START + timedelta(days=start + i),
            completed_at=START + timedelta(days=start + i),
        )
        for i, (score, text) in enumerate(comments)
    ]
    assert not feedback_service.store_responses(session, survey, items, actor="test").problems
