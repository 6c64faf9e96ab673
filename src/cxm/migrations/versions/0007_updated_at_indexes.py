"""responses, customers: index updated_at (the sync's watermark and the worker's change check read its newest value)

Revision ID: 0007_updated_at_indexes
Revises: 0006_web
Create Date: 2026-12-06 22:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0007_updated_at_indexes"
down_revision = "0006_web"
branch_labels = None
depends_on = None
TABLES = ("responses", "customers")


def upgrade() -> None:
    """Apply this revision."""
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_updated_at"), ["updated_at"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_updated_at"))
