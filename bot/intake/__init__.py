"""Where mentions enter: adapters per source, polling and streaming, the signed webhook (read
with ``strict_json``, which the Slack gate in ``bot.app`` shares), ingest (dedupe, route, store
in one transaction) and screening.
"""
