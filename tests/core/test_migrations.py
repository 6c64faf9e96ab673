"""The Alembic history is linear and builds exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from cxm.core.db import Base
from cxm.core.migrate import alembic_config


def test_one_linear_history(engine: Engine) -> None:
    scripts = ScriptDirectory.from_config(alembic_config(engine))
    assert len(scripts.get_heads()) == 1
    assert all(len(script.nextrev) <= 1 for script in scripts.walk_revisions())


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
