"""Everything that leaves for Slack or a platform: cards rendered from their state, delivery of
outbox rows (pacing shared by replicas, retries within a time budget, exactly one card), what
happens to a delivery that fails for good (an alert, a list, a retry), replies to citizens.
"""
