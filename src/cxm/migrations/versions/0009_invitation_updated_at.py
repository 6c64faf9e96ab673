"""invitations: updated_at (indexed), so the analytics sync reads only the invitations that changed

Revision ID: 0009_invitation_updated_at
Revises: 0008_interaction_store
Create Date: 2026-12-07 11:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cxm.core.db

revision = "0009_invitation_updated_at"
down_revision = "0008_interaction_store"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("updated_at", cxm.core.db.UTCDateTime(timezone=True), nullable=True))
    # An existing invitation last changed when it was answered, reminded, sent or made, whichever came last.
    op.execute("UPDATE invitations SET updated_at = COALESCE(answered_at, reminded_at, sent_at, created_at)")
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.alter_column("updated_at", existing_type=cxm.core.db.UTCDateTime(timezone=True), nullable=False)
        batch_op.create_index(batch_op.f("ix_invitations_updated_at"), ["updated_at"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitations_updated_at"))
        batch_op.drop_column("updated_at")
