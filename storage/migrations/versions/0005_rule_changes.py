"""rule changes: the rules' audit log

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 01:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rulechange",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("rulechange", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rulechange_rule"), ["rule"], unique=False)
        batch_op.create_index(batch_op.f("ix_rulechange_at"), ["at"], unique=False)
    # Databases made before this revision had their rules copied from the YAML at every start:
    # those rules count as seeded, so the config no longer overwrites what Slack changes.
    op.execute(
        "INSERT INTO meta (key, value) SELECT 'rules_seeded', '1' WHERE EXISTS (SELECT 1 FROM rule)"
    )


def downgrade() -> None:
    op.execute("DELETE FROM meta WHERE key = 'rules_seeded'")
    with op.batch_alter_table("rulechange", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rulechange_at"))
        batch_op.drop_index(batch_op.f("ix_rulechange_rule"))
    op.drop_table("rulechange")
