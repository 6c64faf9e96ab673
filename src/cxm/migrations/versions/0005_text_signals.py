"""text: signals found in texts, theme models and themes, analysts' sentiment corrections

Revision ID: 0005_text_signals
Revises: 0004_identity_value_index
Create Date: 2026-11-25 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cxm.core.db

revision = "0005_text_signals"
down_revision = "0004_identity_value_index"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, cxm.core.db.UTCDateTime(timezone=True), nullable=nullable)


def _source() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("source_id", sa.BigInteger(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
    ]


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "text_signals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("theme_id", sa.Integer(), nullable=True),
        *_source(),
        sa.Column("model", sa.String(length=40), nullable=False),
        _when("written_at"),
        _when("created_at"),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_text_signals_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_signals")),
    )
    op.create_index("ix_text_signals_source", "text_signals", ["source", "source_id"])
    op.create_index(op.f("ix_text_signals_customer_id"), "text_signals", ["customer_id"])
    op.create_index(op.f("ix_text_signals_text_hash"), "text_signals", ["text_hash"])
    op.create_index(op.f("ix_text_signals_theme_id"), "text_signals", ["theme_id"])
    op.create_table(
        "text_theme_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _when("created_at"),
        sa.Column("texts", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_theme_models")),
    )
    op.create_table(
        "text_themes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        _when("created_at"),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["text_theme_models.id"],
            name=op.f("fk_text_themes_model_id_text_theme_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_themes")),
    )
    op.create_index(op.f("ix_text_themes_model_id"), "text_themes", ["model_id"])
    op.create_table(
        "text_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        *_source(),
        sa.Column("label", sa.String(length=10), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        _when("created_at"),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_text_corrections_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_corrections")),
    )
    op.create_index("ix_text_corrections_source", "text_corrections", ["source", "source_id"])
    op.create_index(op.f("ix_text_corrections_customer_id"), "text_corrections", ["customer_id"])


def downgrade() -> None:
    """Revert this revision."""
    for name in ("text_corrections", "text_themes", "text_theme_models", "text_signals"):
        op.drop_table(name)
