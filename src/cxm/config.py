"""Settings read from the environment (prefix CXM_) or passed explicitly."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///cxm.db"


class Settings(BaseSettings):
    """Everything cxm can be configured with."""

    model_config = SettingsConfigDict(env_prefix="CXM_", env_file=".env", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8000
    # Region used to read phone numbers written without an international prefix (ISO 3166 alpha-2).
    default_phone_region: str | None = None
    batch_limit: int = 10_000
