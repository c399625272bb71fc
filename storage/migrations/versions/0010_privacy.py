"""retention, citizens' data requests, public report (issue 17)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "privacyrequest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("subject_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("privacyrequest", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_privacyrequest_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_privacyrequest_subject_hash"), ["subject_hash"], unique=False
        )
    op.create_table(
        "purgerun",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("cutoffs", sa.JSON(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("purgerun", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_purgerun_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("purgerun", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_purgerun_at"))
    op.drop_table("purgerun")
    with op.batch_alter_table("privacyrequest", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_privacyrequest_subject_hash"))
        batch_op.drop_index(batch_op.f("ix_privacyrequest_at"))
    op.drop_table("privacyrequest")
