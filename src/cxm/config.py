"""Settings read from the environment (prefix CXM_) or passed explicitly."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///cxm.db"


@lru_cache(maxsize=1)
def default_phone_region() -> str | None:
    """The region for national phone numbers, read once from `CXM_DEFAULT_PHONE_REGION`."""
    return Settings().default_phone_region


class Settings(BaseSettings):
    """Everything cxm can be configured with."""

    model_config = SettingsConfigDict(env_prefix="CXM_", env_file=".env", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    # Region used to read phone numbers written without an international prefix (ISO 3166 alpha-2).
    default_phone_region: str | None = None
    # Where metrics run: duckdb:///file (default beside SQLite), postgresql://... (direct), spark://local[2]?lake=DIR.
    analytics_url: str | None = None
    # Seconds a DuckDB analytics store stays open after a query (the next query skips opening it; 0: close at once).
    # Other processes (the CLI, a separate worker) can open the store only once it is closed.
    analytics_keep_open: float = Field(default=2.0, ge=0)
    # Where the sync writes the Parquet lake for Spark (none: no lake is written).
    analytics_lake: str | None = None
    # The time zone (IANA name) report periods are cut in (a day is the company's day) and times without a zone are
    # read in; a query may name another.
    timezone: str = "UTC"
    # Where people reach this installation: used in survey links sent by e-mail.
    public_url: str = "http://127.0.0.1:8000"
    # Signs personal survey links; when unset, a secret is generated once and kept in the database.
    secret_key: str | None = None
    # Outgoing e-mail (survey invitations, notifications).
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_from: str = "cxm <cxm@localhost>"
    # Websites allowed to embed the survey widget (CORS), e.g. ["https://shop.example.com"].
    widget_origins: list[str] = []
    # Run background jobs inside `cxm serve` (the embedded default); off when `cxm worker` runs apart.
    serve_worker: bool = True
    # Seconds the in-process worker waits for a quiet moment between requests before it works anyway (under
    # constant load the analytics store and text analysis then lag at most about this much behind).
    worker_max_wait: float = Field(default=15.0, ge=0)
    # Days before a reminder goes to people who have not answered an e-mail invitation (0 = never).
    reminder_days: int = 3
    # Survey page submissions allowed per client address and minute (counted in each server process).
    survey_posts_per_minute: int = 30
    # How long a dashboard sign-in lasts (hours), and failed sign-ins allowed per client address and minute.
    session_hours: float = 12.0
    sign_in_failures_per_minute: int = 5
    # Languages text analytics expects (their confusable neighbours are recognised too).
    text_languages: list[str] = ["en", "cs", "pl", "hr", "ro"]
    # `onnx`: sentiment from a model in text_model_dir (needs the `onnx` extra); `offline`: the shipped models.
    text_engine: Literal["offline", "onnx"] = "offline"
    text_model_dir: str | None = None
    # Keyphrases of the default engine: `yake` (better phrases) or `rake` (about fifty times faster).
    text_keyphrases: Literal["yake", "rake"] = "yake"


def settings_problem(error: ValidationError) -> str:
    """The first bad setting as one line: `CXM_TEXT_KEYPHRASES: Input should be 'yake' or 'rake' (got 'x')`."""
    first = error.errors()[0]
    name = "CXM_" + "_".join(str(part) for part in first["loc"]).upper()
    return f"{name}: {first['msg']} (got {first.get('input')!r})"
