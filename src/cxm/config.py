"""Settings read from the environment (prefix CXM_) or passed explicitly."""

from __future__ import annotations

from functools import lru_cache

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
