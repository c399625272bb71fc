"""saved replies and approvals for sensitive answers (issue 16)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_str = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "saved_reply",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", _str(length=75), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("department", _str(length=64), nullable=True),
        sa.Column("language", _str(length=16), nullable=True),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("saved_reply", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_saved_reply_department"), ["department"])
    op.create_table(
        "saved_reply_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reply_id", sa.Integer(), nullable=False),
        sa.Column("title", _str(length=75), nullable=False),
        sa.Column("action", _str(length=32), nullable=False),
        sa.Column("actor", _str(), nullable=True),
        sa.Column("at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("saved_reply_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_saved_reply_change_reply_id"), ["reply_id"])
        batch_op.create_index(batch_op.f("ix_saved_reply_change_at"), ["at"])
    op.create_table(
        "saved_reply_use",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reply_id", sa.Integer(), nullable=False),
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("department", _str(length=64), nullable=True),
        sa.Column("user_id", _str(length=32), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["mention_id"], ["mention.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("mention_id", "reply_id", name="uq_saved_reply_use"),
    )
    with op.batch_alter_table("saved_reply_use", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_saved_reply_use_reply_id"), ["reply_id"])
        batch_op.create_index(batch_op.f("ix_saved_reply_use_at"), ["at"])
    op.create_table(
        "approval",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("author", _str(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("saved_reply_id", sa.Integer(), nullable=True),
        sa.Column("status", _str(length=16), nullable=False),
        sa.Column("channel_id", _str(length=32), nullable=False),
        sa.Column("decided_by", _str(length=32), nullable=True),
        sa.Column("decided_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["mention_id"], ["mention.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("approval", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_approval_mention_id"), ["mention_id"])
        batch_op.create_index(batch_op.f("ix_approval_status"), ["status"])


def downgrade() -> None:
    op.drop_table("approval")
    op.drop_table("saved_reply_use")
    op.drop_table("saved_reply_change")
    op.drop_table("saved_reply")
