"""`cxm worker` and the worker inside `cxm serve`, as a user runs them: real processes, a real SMTP server."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cxm.app import create_app
from cxm.config import Settings
from cxm.core.db import utcnow
from cxm.core.traffic import Traffic
from cxm.feedback import service as feedback_service
from cxm.feedback.schemas import TriggerCreate
from cxm.hub import Hub
from cxm.worker import BackgroundWorker
from tests.feedback.mailbox import Mailbox, smtp_server, text_of
from tests.test_cli import CXM, free_port, key_in


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server on a free port."""
    with smtp_server() as box:
        yield box


def environment(mailbox: Mailbox) -> dict[str, str]:
    """The environment a user would set to send survey e-mails through the test server."""
    return {**os.environ, "CXM_SMTP_PORT": str(mailbox.port), "CXM_PUBLIC_URL": "https://cx.example.com"}


def run(tmp_path: Path, mailbox: Mailbox, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `cxm` on the test's SQLite file."""
    command = [CXM, "--database-url", f"sqlite:///{tmp_path / 'cxm.db'}", *args]
    return subprocess.run(
        command, cwd=tmp_path, env=environment(mailbox), capture_output=True, text=True, timeout=120, check=False
    )


def test_worker_once_invites_from_a_trigger_and_exits(tmp_path: Path, mailbox: Mailbox) -> None:
    hub = Hub(f"sqlite:///{tmp_path / 'cxm.db'}")
    try:
        with hub.session() as session:
            survey = feedback_service.create_survey(session, feedback_service.load_template("support-ces"))
            feedback_service.create_trigger(session, survey, TriggerCreate(interaction_type="call", channel="phone"))
        hub.upsert_customers([{"identities": {"email": "ivana@example.hr"}, "name": "Ivana Horvat", "language": "hr"}])
        calls = [
            {"identities": {"email": "ivana@example.hr"}, "channel": "phone", "type": "call", "occurred_at": at}
            for at in [utcnow().isoformat()] * 5
        ]
        hub.ingest_interactions(calls)
    finally:
        hub.close()
    first = run(tmp_path, mailbox, "worker", "--once")
    assert first.returncode == 0, first.stderr
    assert "1 invitation(s) from triggers" in first.stdout and "1 job(s) run" in first.stdout
    [message] = mailbox.wait_for(1)
    assert "Poštovani/a Ivana Horvat," in text_of(message) and "https://cx.example.com/s/support-ces/" in text_of(
        message
    )
    again = run(tmp_path, mailbox, "worker", "--once")
    assert again.returncode == 0 and "0 invitation(s) from triggers" in again.stdout and "0 job(s) run" in again.stdout
    assert len(mailbox.messages) == 1


@pytest.fixture
def served(tmp_path: Path, mailbox: Mailbox) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`cxm serve` (with its in-process worker) on a free port; its base URL and process."""
    port = free_port()
    command = [CXM, "--database-url", f"sqlite:///{tmp_path / 'cxm.db'}", "serve", "--port", str(port)]
    process = subprocess.Popen(
        command, cwd=tmp_path, env=environment(mailbox), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process)
        yield base, process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def wait_until_up(base: str, process: subprocess.Popen[str]) -> None:
    """Poll the health check until the server answers (bounded)."""
    deadline = utcnow().timestamp() + 60
    while utcnow().timestamp() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            threading.Event().wait(0.2)
    pytest.fail("cxm serve did not come up")


def test_serve_sends_a_queued_invitation_in_process(
    tmp_path: Path, mailbox: Mailbox, served: tuple[str, subprocess.Popen[str]]
) -> None:
    base, process = served
    headers = {"Authorization": f"Bearer {key_in(run(tmp_path, mailbox, 'apikey', 'create', '--name', 'ops').stdout)}"}
    assert httpx.post(f"{base}/api/v1/surveys/from-template/relationship-nps", headers=headers).status_code == 201
    activate = httpx.post(f"{base}/api/v1/surveys/relationship-nps/status", json={"status": "active"}, headers=headers)
    assert activate.status_code == 200
    customer = {"identities": {"email": "mirela@example.ro"}, "name": "Mirela Pop", "language": "ro"}
    assert httpx.post(f"{base}/api/v1/customers", json=customer, headers=headers).status_code == 200
    invited = httpx.post(
        f"{base}/api/v1/surveys/relationship-nps/invitations",
        json={"identities": {"email": "mirela@example.ro"}},
        headers=headers,
    )
    assert invited.status_code == 201, invited.text
    [message] = mailbox.wait_for(1, seconds=60)
    assert message["To"].addresses[0].addr_spec == "mirela@example.ro" and "Bună ziua, Mirela Pop," in text_of(message)
    process.terminate()
    # uvicorn shuts down gracefully (the lifespan stops the worker thread), then re-raises the signal.
    assert process.wait(timeout=30) in (0, -signal.SIGTERM)
    output = process.stdout.read() if process.stdout else ""
    assert "Traceback" not in output and "Error" not in output, output


def test_the_app_runs_its_worker_only_when_asked(database_url: str, db: object) -> None:
    def workers() -> int:
        return sum(1 for thread in threading.enumerate() if thread.name == "cxm-worker")

    before = workers()
    with TestClient(create_app(Settings(database_url=database_url, serve_worker=True))):
        assert workers() == before + 1
    assert workers() == before
    with TestClient(create_app(Settings(database_url=database_url, serve_worker=False))):
        assert workers() == before


def test_the_in_process_worker_prepares_after_its_first_sync_and_after_new_rows(
    database_url: str, db: Engine, tmp_path: Path
) -> None:
    settings = Settings(database_url=database_url, analytics_url=f"duckdb:///{tmp_path / 'store.duckdb'}")
    prepared: list[int] = []
    record = lambda: prepared.append(len(prepared))  # noqa: E731
    worker = BackgroundWorker(db, settings, interval=0.05, after_sync=record, after_sync_gap=0)
    worker.start()
    try:
        assert worker.prepared.wait(60) and prepared == [0]
        Hub(database_url, migrate=False).upsert_customers([{"identities": {"email": "ann@example.com"}, "name": "Ann"}])
        deadline = time.monotonic() + 60
        while len(prepared) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert prepared == [0, 1]  # the new customer reached the store: prepared again, once
    finally:
        worker.stop()


def test_the_in_process_worker_gives_way_to_requests_for_at_most_the_longest_wait(
    database_url: str, db: Engine, tmp_path: Path
) -> None:
    store = f"duckdb:///{tmp_path / 'store.duckdb'}"
    settings = Settings(database_url=database_url, analytics_url=store, worker_max_wait=1.5)
    traffic = Traffic(quiet_after=0.1)
    prepared: list[float] = []
    worker = BackgroundWorker(
        db,
        settings,
        interval=0.05,
        after_sync=lambda: prepared.append(time.monotonic()),
        after_sync_gap=0,
        traffic=traffic,
    )
    worker.start()
    try:
        assert worker.prepared.wait(60) and len(prepared) == 1  # the first preparation does not wait
        traffic.started()  # a long request: the worker waits, then works anyway after at most 1.5 s
        added = time.monotonic()
        Hub(database_url, migrate=False).upsert_customers([{"identities": {"email": "ann@example.com"}, "name": "Ann"}])
        deadline = time.monotonic() + 60
        while len(prepared) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(prepared) == 2 and prepared[1] - added >= 1.5
    finally:
        traffic.ended()
        worker.stop()


def test_a_separate_worker_runs_at_a_lower_cpu_priority(tmp_path: Path, mailbox: Mailbox) -> None:
    Hub(f"sqlite:///{tmp_path / 'cxm.db'}").close()
    command = [CXM, "--database-url", f"sqlite:///{tmp_path / 'cxm.db'}", "worker", "--niceness", "7"]
    process = subprocess.Popen(command, cwd=tmp_path, env=environment(mailbox), stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None and "a round every" in process.stderr.readline()
        assert os.getpriority(os.PRIO_PROCESS, process.pid) == os.getpriority(os.PRIO_PROCESS, 0) + 7
    finally:
        process.terminate()
        process.wait(30)
