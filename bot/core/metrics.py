"""Prometheus metrics, on a registry of Engage's own (``GET /metrics``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)

MENTIONS_RECEIVED = Counter(
    "engage_mentions_received", "Mentions stored, by source", ["source"], registry=REGISTRY
)
CARDS_POSTED = Counter("engage_cards_posted", "Cards posted to Slack", registry=REGISTRY)
SLACK_ERRORS = Counter(
    "engage_slack_errors", "Failed Slack Web API calls", ["method", "error"], registry=REGISTRY
)
WEBHOOK_REQUESTS = Counter(
    "engage_webhook_requests", "Webhook requests by HTTP status", ["status"], registry=REGISTRY
)
ADAPTER_RUNS = Counter(
    "engage_adapter_runs", "Adapter fetches by outcome", ["adapter", "outcome"], registry=REGISTRY
)
OUTBOX_DEPTH = Gauge("engage_outbox_depth", "Pending outbox rows", registry=REGISTRY)
OUTBOX_AGE = Gauge(
    "engage_outbox_oldest_age_seconds", "Age of the oldest pending outbox row", registry=REGISTRY
)
CLAIM_LATENCY = Histogram(
    "engage_claim_latency_seconds",
    "Time from a mention's arrival to its claim",
    buckets=(60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 259200),
    registry=REGISTRY,
)


def render() -> bytes:
    return generate_latest(REGISTRY)
