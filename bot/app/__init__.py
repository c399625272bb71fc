"""The composition root (``compose``: builds every service and the Bolt app) and the web server
(``web``: Slack's endpoint, the webhook, health and metrics), with the gate it puts in front of
Bolt (``slack_gate``, ``slack_shape``: signature first, then a strict parse, then Bolt).
"""
