"""identities: drop the index on value alone (look-ups always use the unique (kind, value) index)

Revision ID: 0004_identity_value_index
Revises: 0003_text
Create Date: 2026-11-25 04:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0004_identity_value_index"
down_revision = "0003_text"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identities_value"))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identities_value"), ["value"], unique=False)
