"""delivery: failures and a time budget per outbox row, channel pacing and alerts in the database

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        # Rows pending at the upgrade have no failure on record: their budget starts afresh.
        batch_op.add_column(
            sa.Column("failures", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch_op.add_column(sa.Column("failing_since", storage.types.UTCDateTime(), nullable=True))
    op.create_table(
        "channelpace",
        sa.Column("channel_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("next_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("channel_id"),
    )
    op.create_table(
        "deliveryalert",
        sa.Column("channel_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("channel_id", "error"),
    )


def downgrade() -> None:
    op.drop_table("deliveryalert")
    op.drop_table("channelpace")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("failing_since")
        batch_op.drop_column("failures")
