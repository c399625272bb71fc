"""The urgent lane: a mention that cannot wait for the morning reaches a person tonight.

- :mod:`bot.urgent.detect` marks a mention urgent at ingest (a rule marked ``urgent: true``,
  or a danger word in the mention's language: gas leak, fire, flood, downed power line...);
- :mod:`bot.urgent.rotation` says who is on call for a department at a moment (a weekly
  rotation or a Slack user group, with the config's overrides and ``/engage oncall swap``),
  and :mod:`bot.urgent.oncall` answers ``/engage oncall`` and records the swaps;
- :mod:`bot.urgent.pages` is what a page says (a direct message with *Acknowledge* and *Not
  urgent*);
- :mod:`bot.urgent.service` runs the ladder whatever the office hours: the on-call person at
  once, then the next person, the leads, the comms team, each after ``ack_minutes`` without an
  acknowledgement, every page through the outbox under a unique (mention, stage) row, so a
  restart or a second replica never pages twice.

Everything else (the nudges) still waits for office hours.
"""
