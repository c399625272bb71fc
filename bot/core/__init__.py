"""What every layer shares: the clock, office time, text folding and mrkdwn escaping, Block Kit
builders, Slack ids, source labels, the adapter interface, read-only Slack look-ups, metrics and
logs.
"""
