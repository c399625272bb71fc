"""What staff do with a card: claim, release, answer (also back to the citizen), hand over,
dismiss. Each decision is committed before Slack gets its ack, except claim and release, the
clicks made most and all at once: the click is committed before the ack and decided right
after, in order (:mod:`bot.claims.click_queue`).
"""
