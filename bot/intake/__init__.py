"""Where mentions enter: adapters per source, polling and streaming, the signed webhook, ingest
(dedupe, route, store in one transaction) and screening.
"""
