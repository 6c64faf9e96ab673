"""The `cxm` command as a user runs it: a real process on a throw-away SQLite file."""

from __future__ import annotations

import re
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cxm import demo
from cxm.hub import Hub
from cxm.text import service as text_service

CXM = str(Path(sys.executable).parent / "cxm")
KEY = re.compile(r"cxm_[A-Za-z0-9_-]{20,}")


def cxm(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `cxm` on the test's database, from a folder with no .env of its own."""
    url = f"sqlite:///{tmp_path / 'cxm.db'}"
    command = [CXM, "--database-url", url, *args]
    return subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)


def key_in(output: str) -> str:
    """The one API key printed in `output`."""
    found = set(KEY.findall(output))
    assert len(found) == 1, output
    return found.pop()


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """`cxm serve` running on a free port; yields its base URL."""
    port = free_port()
    url = f"sqlite:///{tmp_path / 'cxm.db'}"
    command = [CXM, "--database-url", url, "serve", "--port", str(port)]
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            process.kill()
            pytest.fail(f"cxm serve did not come up: {process.communicate()[0]}")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_demo_prints_a_key_and_keeps_an_existing_company(tmp_path: Path) -> None:
    first = cxm(tmp_path, "demo", "--no-serve", "--customers", "60", "--interactions", "600")
    assert first.returncode == 0, first.stderr
    key = key_in(first.stdout)
    assert "600 interactions" in first.stdout and "/docs" in first.stdout
    assert f'curl -H "Authorization: Bearer {key}"' in first.stdout

    again = cxm(tmp_path, "demo", "--no-serve", "--customers", "60", "--interactions", "600")
    assert again.returncode == 0, again.stderr
    assert "already has data" in again.stdout and key_in(again.stdout) != key
    with sqlite3.connect(tmp_path / "cxm.db") as db:
        assert db.execute("SELECT count(*) FROM interactions").fetchone() == (600,)
        assert db.execute("SELECT count(*) FROM api_keys WHERE name = 'demo'").fetchone() == (2,)


def test_demo_asks_20_interactions_of_each_customer_when_not_told(tmp_path: Path) -> None:
    done = cxm(tmp_path, "demo", "--no-serve", "--customers", "30")
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(tmp_path / "cxm.db") as db:
        assert db.execute("SELECT count(*) FROM interactions").fetchone() == (600,)


def company(path: Path) -> list[tuple[str, str | None]]:
    """Event ids with their customer's name, the fingerprint of a demo company."""
    with sqlite3.connect(path) as db:
        query = "SELECT i.event_id, c.name FROM interactions i JOIN customers c ON c.id = i.customer_id ORDER BY 1"
        return list(db.execute(query))


def test_demo_is_the_same_in_another_process(tmp_path: Path) -> None:
    # Another process has another hash seed: the company must not depend on set or dict order.
    done = cxm(tmp_path, "demo", "--no-serve", "--customers", "40", "--interactions", "300", "--seed", "5")
    assert done.returncode == 0, done.stderr
    hub = Hub(f"sqlite:///{tmp_path / 'here.db'}")
    try:
        with hub.session() as session:
            demo.generate(session, customers=40, interactions=300, seed=5)
    finally:
        hub.close()
    assert company(tmp_path / "cxm.db") == company(tmp_path / "here.db")


def demo_themes(path: Path) -> list[tuple[str, int]]:
    """The demo company's theme names with the comments about each."""
    with sqlite3.connect(path) as db:
        query = (
            "SELECT t.name, count(DISTINCT s.source_id) FROM text_themes t"
            " LEFT JOIN text_signals s ON s.theme_id = t.id AND s.source = 'response' GROUP BY t.id ORDER BY t.name"
        )
        return list(db.execute(query))


def test_the_demo_ends_with_the_same_themes_for_the_same_seed(tmp_path: Path) -> None:
    from cxm.core.db import make_sessionmaker
    from cxm.feedback import service as feedback_service
    from cxm.web.filters import FilterBar, comments_said, theme_menu

    for place in ("one", "two"):
        (tmp_path / place).mkdir()
        done = cxm(tmp_path / place, "demo", "--no-serve", "--customers", "80", "--interactions", "1500", "--seed", "3")
        assert done.returncode == 0, done.stderr
    themes = demo_themes(tmp_path / "one" / "cxm.db")
    assert len(themes) >= 2 and sum(n for _, n in themes) > 0 and themes == demo_themes(tmp_path / "two" / "cxm.db")
    hub = Hub(f"sqlite:///{tmp_path / 'one' / 'cxm.db'}", migrate=False)
    try:
        with make_sessionmaker(hub.engine)() as session:
            menu = theme_menu(session)
            assert sorted(name for _, name in menu[:-1]) == sorted(name for name, _ in themes)
            theme_id, name = next((i, n) for i, n in menu[:-1] if dict(themes)[n] > 0)
            chosen = feedback_service.VerbatimFilter(said=comments_said(FilterBar(theme=theme_id)))
            shown, total = feedback_service.verbatims(session, chosen, limit=1000, offset=0)
            assert total == dict(themes)[name] > 0
            tagged = text_service.comment_signals(session, [(v.response_id, v.question_id) for v in shown])
            assert all(name in tagged[v.response_id, v.question_id].themes for v in shown)
    finally:
        hub.close()


def test_apikey_create_prints_a_working_key(tmp_path: Path, server: str) -> None:
    created = cxm(tmp_path, "apikey", "create", "--name", "x", "--role", "viewer")
    assert created.returncode == 0, created.stderr
    headers = {"Authorization": f"Bearer {key_in(created.stdout)}"}
    assert httpx.get(f"{server}/api/v1/customers", headers=headers).status_code == 200
    body = {
        "identities": {"email": "a@example.com"},
        "channel": "web",
        "type": "visit",
        "occurred_at": "2026-01-01T00:00:00Z",
    }
    assert httpx.post(f"{server}/api/v1/interactions", json=body, headers=headers).status_code == 403
    assert httpx.get(f"{server}/api/v1/customers", headers={"Authorization": "Bearer cxm_wrong"}).status_code == 401


def test_unknown_role_is_one_line_error(tmp_path: Path) -> None:
    refused = cxm(tmp_path, "apikey", "create", "--name", "x", "--role", "wizard")
    assert refused.returncode == 1
    assert refused.stderr.strip() == "error: unknown role 'wizard'"
    assert "Traceback" not in refused.stdout + refused.stderr


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    upgraded = cxm(tmp_path, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    with sqlite3.connect(tmp_path / "cxm.db") as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"customers", "identities", "interactions", "orders", "api_keys"} <= tables


def test_serve_answers_pages_and_api(tmp_path: Path, server: str) -> None:
    created = cxm(tmp_path, "apikey", "create", "--name", "ops", "--role", "admin")
    headers = {"Authorization": f"Bearer {key_in(created.stdout)}"}
    body = {
        "identities": {"email": "ann@example.com"},
        "channel": "store",
        "type": "purchase",
        "occurred_at": "2026-01-01T00:00:00Z",
    }
    assert httpx.post(f"{server}/api/v1/interactions", json=body, headers=headers).status_code == 201
    landing = httpx.get(server, follow_redirects=True)  # the dashboard asks a stranger to sign in
    assert landing.status_code == 200 and 'action="/login"' in landing.text
    found = httpx.get(f"{server}/api/v1/customers", params={"q": "ann@"}, headers=headers)
    assert found.status_code == 200 and found.json()["total"] == 1
    assert httpx.get(f"{server}/docs").status_code == 200


def test_customer_show_export_and_erase(tmp_path: Path) -> None:
    hub = Hub(f"sqlite:///{tmp_path / 'cxm.db'}")
    hub.upsert_customers([{"identities": {"email": "mirela.pop@example.ro"}, "name": "Mirela Pop", "language": "ro"}])
    hub.close()
    shown = cxm(tmp_path, "customer", "show", "email:mirela.pop@example.ro")
    assert shown.returncode == 0 and '"name": "Mirela Pop"' in shown.stdout
    exported = cxm(tmp_path, "customer", "export", "1", "--output", str(tmp_path / "held.json"))
    assert exported.returncode == 0 and "Mirela Pop" in (tmp_path / "held.json").read_text(encoding="utf-8")
    refused = cxm(tmp_path, "customer", "erase", "1")
    assert refused.returncode == 1
    assert refused.stderr.strip() == "error: erasure cannot be undone: repeat with --yes to confirm"
    assert cxm(tmp_path, "customer", "erase", "1", "--yes").returncode == 0
    gone = cxm(tmp_path, "customer", "show", "email:mirela.pop@example.ro")
    assert (
        gone.returncode == 1 and gone.stderr.strip() == "error: no customer with identity email:mirela.pop@example.ro"
    )
    with sqlite3.connect(tmp_path / "cxm.db") as connection:
        assert connection.execute("SELECT name FROM customers").fetchall() == [(None,)]


def test_a_report_row_of_one_answer_shows_no_interval() -> None:
    import math

    import pandas as pd
    from rich.console import Console

    from cxm.analytics import stats
    from cxm.cli.reports import _table

    one, many = stats.ces({7: 1}), stats.ces({7: 5, 6: 4, 1: 1})
    rows = [{"agent": name, "value": e.value, "n": e.n, "ci_low": e.ci_low, "ci_high": e.ci_high, "change": math.nan,
             "p_value": math.nan, "small_sample": e.small} for name, e in (("Ann", one), ("Bob", many))]  # fmt: skip
    console = Console(width=120, record=True)
    console.print(_table(pd.DataFrame(rows), "ces", "mean (1-7)"))
    lines = {line.split("│")[1].strip(): line for line in console.export_text().splitlines() if line.count("│") > 2}
    assert " to " not in lines["Ann"] and "4.69 to 7.00" in lines["Bob"]


def test_a_report_by_channel_explains_answers_tied_to_no_interaction() -> None:
    import pandas as pd
    from rich.console import Console

    from cxm.cli.reports import _table

    def printed(channels: list[str]) -> str:
        rows = [{"channel": name, "value": 30.0, "n": 40, "ci_low": 10.0, "ci_high": 50.0, "change": 1.0,
                 "p_value": 0.5, "small_sample": False} for name in channels]  # fmt: skip
        console = Console(width=140, record=True)
        console.print(_table(pd.DataFrame(rows), "nps", "points"))
        return " ".join(console.export_text().split())  # the caption wraps at the table's width

    assert "tied to no interaction; --by collected_via" in printed(["(none)", "web"])
    assert "tied to no interaction" not in printed(["store", "web"])
