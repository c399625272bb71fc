"""intake and delivery under sustained load (issue 18)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A flood is counted on an index of (author_key, received_at), not by loading the author's
    # rows. Mentions stored before have no key: they simply do not count toward a flood.
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.add_column(sa.Column("author_key", sa.BigInteger(), nullable=True))
        batch_op.create_index(
            "ix_mention_author_key_received", ["author_key", "received_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.drop_index("ix_mention_author_key_received")
        batch_op.drop_column("author_key")
