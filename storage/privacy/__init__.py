"""What privacy keeps: the audit log of citizens' data requests, the purge log, and the queries
that find, anonymise and erase one author's data or everything past its retention time."""

# The key in ``Mention.extra`` of a mention whose content was removed: ``{"reason": "retention"
# | "erasure", "at": ISO time}``. The card shows the notice instead of the content.
REMOVED_KEY = "removed"
# The anonymised author (an HMAC of the author's comparable form with the install's secret):
# the same person's mentions stay countable together, and nobody can read who it was.
AUTHOR_HASH_KEY = "author_hash"
