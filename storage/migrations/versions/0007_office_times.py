"""office times: each mention's first claim and its office time to claim and to answer

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 10:00:00

``first_claimed_at`` is backfilled here from the ``claimed`` events, in one statement: it needs
nothing but the event log. The two office times are left NULL: they need each department's
office hours (windows, time zone, public holidays, closure days), which live in the YAML config,
not in the database, and storage may not read the config. The summary measures a NULL one the
first time a period that needs it is asked for, and stores it (``storage.summaries.office``),
so each mention is measured once either way; mentions claimed or answered after the upgrade get
theirs from the claim or the answer itself.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BACKFILL_POSTGRESQL = """
UPDATE mention SET first_claimed_at = claims.first
FROM (SELECT mention_id, min(at) AS first FROM event WHERE kind = 'claimed' GROUP BY mention_id)
    AS claims
WHERE claims.mention_id = mention.id
"""
# SQLite before 3.33 has no UPDATE ... FROM; a correlated subquery uses ix_event_mention_id.
_BACKFILL_SQLITE = """
UPDATE mention SET first_claimed_at = (
    SELECT min(at) FROM event WHERE event.mention_id = mention.id AND event.kind = 'claimed'
)
WHERE EXISTS (SELECT 1 FROM event WHERE event.mention_id = mention.id AND event.kind = 'claimed')
"""


def upgrade() -> None:
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("first_claimed_at", storage.types.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("claim_office_us", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("answer_office_us", sa.BigInteger(), nullable=True))
        # A department's answers in a period: without it, a department's summary read the
        # department's whole year to find the month's answers to older mentions.
        batch_op.create_index(
            "ix_mention_department_answered", ["department", "answered_at"], unique=False
        )
    postgres = op.get_bind().dialect.name == "postgresql"
    op.execute(sa.text(_BACKFILL_POSTGRESQL if postgres else _BACKFILL_SQLITE))


def downgrade() -> None:
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.drop_index("ix_mention_department_answered")
        batch_op.drop_column("answer_office_us")
        batch_op.drop_column("claim_office_us")
        batch_op.drop_column("first_claimed_at")
