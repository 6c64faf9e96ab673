"""interactions: store (the shop, branch or site where an interaction happened), a dimension of every figure

Revision ID: 0008_interaction_store
Revises: 0007_updated_at_indexes
Create Date: 2026-12-07 03:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_interaction_store"
down_revision = "0007_updated_at_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("store", sa.String(length=200), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.drop_column("store")
