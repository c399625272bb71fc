"""What staff do with a card: claim, release, answer (also back to the citizen), hand over,
dismiss. Each decision is committed before Slack gets its ack.
"""
