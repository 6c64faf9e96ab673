"""`cxm user ...` and the demo's sign-ins."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from cxm.app import create_app
from cxm.config import Settings
from tests.web.conftest import form_token

CXM = str(Path(sys.executable).parent / "cxm")


def cxm(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run the CLI against a SQLite file in tmp_path."""
    command = [CXM, "--database-url", f"sqlite:///{tmp_path / 'cxm.db'}", *args]
    return subprocess.run(command, cwd=tmp_path, input=stdin, capture_output=True, text=True, timeout=300, check=False)


def test_user_commands(tmp_path: Path) -> None:
    made = cxm(
        tmp_path, "user", "create", "ann@example.com", "--role", "admin", "--password-stdin", stdin="s3cret pass!\n"
    )
    assert made.returncode == 0, made.stderr
    again = cxm(tmp_path, "user", "create", "ann@example.com", "--password-stdin", stdin="s3cret pass!\n")
    assert again.returncode == 1 and "already exists" in again.stderr
    assert cxm(tmp_path, "user", "set-role", "ann@example.com", "analyst").returncode == 0
    listed = cxm(tmp_path, "user", "list")
    assert "ann@example.com" in listed.stdout and "analyst" in listed.stdout
    assert cxm(tmp_path, "user", "deactivate", "ann@example.com").returncode == 0
    assert " no " in cxm(tmp_path, "user", "list").stdout
    bad = cxm(tmp_path, "user", "set-role", "ann@example.com", "boss")
    assert bad.returncode == 1 and bad.stderr.startswith("error: unknown role")


def test_demo_prints_a_working_sign_in_per_role(tmp_path: Path) -> None:
    shown = cxm(tmp_path, "demo", "--no-serve", "--customers", "40", "--interactions", "300")
    assert shown.returncode == 0, shown.stderr
    accounts = re.findall(r"^\s+(admin|analyst|agent|viewer)\s+(\S+@\S+)\s+(\S+)$", shown.stdout, re.M)
    assert [role for role, _, _ in accounts] == ["admin", "analyst", "agent", "viewer"]
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'cxm.db'}", serve_worker=False)
    with TestClient(create_app(settings)) as client:
        for _, email, password in accounts:
            client.cookies.clear()
            token = form_token(client.get("/login").text)
            signed = client.post("/login", data={"email": email, "password": password, "csrf": token})
            assert signed.status_code == 200 and 'data-metric="nps"' in signed.text
    html = cxm(tmp_path, "report", "overview", "--format", "html", "--output", "overview.html", "--language", "cs")
    assert html.returncode == 0, html.stderr
    written = (tmp_path / "overview.html").read_text()
    assert '<html lang="cs">' in written and "<style>" in written and 'data-metric="nps"' in written
    pdf = cxm(tmp_path, "report", "overview", "--format", "pdf", "--output", "overview.pdf", "--where", "channel=web")
    assert pdf.returncode == 0, pdf.stderr
    assert (tmp_path / "overview.pdf").read_bytes().startswith(b"%PDF")
    wrong = cxm(tmp_path, "report", "overview", "--format", "csv")
    assert wrong.returncode == 1 and "html|pdf" in wrong.stderr
