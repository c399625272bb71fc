"""What a summary reads: a period's mentions, their totals computed in the database, and the
office times it keeps on each mention.

:mod:`~storage.summaries.reads` reads mentions row by row (the export, the backlog, nudges);
:mod:`~storage.summaries.totals` computes a period's figures in SQL, so a city-wide month is a
few aggregate queries rather than tens of thousands of rows in Python;
:mod:`~storage.summaries.office` finds and stores office times that were never measured.
The reads are re-exported here, as callers used them before this was a package.
"""

from storage.summaries.reads import MentionRow, backlog, events_in, mentions_in, nudge_counts

__all__ = ["MentionRow", "backlog", "events_in", "mentions_in", "nudge_counts"]
