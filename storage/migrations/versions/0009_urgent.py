"""urgent mentions and on-call paging (issue 16)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "urgent_mention",
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("department", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("detected_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("next_stage", sa.Integer(), nullable=False),
        sa.Column("next_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("acknowledged_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("acknowledged_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("downgraded_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("downgraded_at", storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["mention_id"], ["mention.id"]),
        sa.PrimaryKeyConstraint("mention_id"),
    )
    with op.batch_alter_table("urgent_mention", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_urgent_mention_next_at"), ["next_at"], unique=False)

    op.create_table(
        "urgent_page",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("stage", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("sent_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["mention_id"], ["mention.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("mention_id", "stage", name="uq_urgent_page_stage"),
    )
    with op.batch_alter_table("urgent_page", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_urgent_page_mention_id"), ["mention_id"], unique=False)

    op.create_table(
        "oncall_swap",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("starts", storage.types.UTCDateTime(), nullable=False),
        sa.Column("until", storage.types.UTCDateTime(), nullable=False),
        sa.Column("by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("oncall_swap", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oncall_swap_department"), ["department"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("oncall_swap", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oncall_swap_department"))
    op.drop_table("oncall_swap")
    with op.batch_alter_table("urgent_page", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_urgent_page_mention_id"))
    op.drop_table("urgent_page")
    with op.batch_alter_table("urgent_mention", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_urgent_mention_next_at"))
    op.drop_table("urgent_mention")
