"""text: sentiment model versions trained on rated comments

Revision ID: 0003_text
Revises: 0002
Create Date: 2026-11-25 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cxm.core.db

revision = "0003_text"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "text_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", cxm.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("train_size", sa.Integer(), nullable=False),
        sa.Column("test_size", sa.Integer(), nullable=False),
        sa.Column("accuracy", sa.Float(), nullable=False),
        sa.Column("macro_f1", sa.Float(), nullable=False),
        sa.Column("baseline_accuracy", sa.Float(), nullable=False),
        sa.Column("baseline_macro_f1", sa.Float(), nullable=False),
        sa.Column("trained_until", cxm.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_models")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("text_models")
