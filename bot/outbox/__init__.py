"""Everything that leaves for Slack or a platform: cards rendered from their state, delivery of
outbox rows (pacing, retries, exactly one card), replies to citizens.
"""
