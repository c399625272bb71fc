"""The composition root (``compose``: builds every service and the Bolt app) and the web server
(``web``: Slack's endpoint, the webhook, health and metrics).
"""
