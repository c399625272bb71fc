"""Engage's domain layer: one package per capability, imports flowing one way.

Where does a thing happen? One folder answers each question:

- a mention enters: ``bot/intake/`` (``adapters/<source>/`` fetch or stream and normalise,
  ``polling`` runs them, ``webhook`` takes web forms, ``ingest`` dedupes and stores, and
  ``screening/`` folds floods and near-duplicates, links one issue across platforms, labels
  abusive language);
- it is routed: ``bot/routing/`` (public surface in ``__init__``; the compiled index, regexes,
  places and areas are its ``_private`` modules), with the rules themselves, their history and
  what hand-overs teach in ``bot/rules/``;
- a click lands: ``handlers/`` (Slack in) calls ``bot/claims/`` (claim, release, answer, hand
  over, dismiss), which commits the decision before Slack gets its ack (claim and release:
  the click, decided right after by ``bot/claims/click_queue.py``);
- something talks to Slack or a platform: ``bot/outbox/`` (delivery of cards and notes through
  the outbox table, card rendering, replies to citizens) is the only code that calls a write
  API; ``bot/core/slack_directory.py`` only reads (members, presence, user groups);
- answering well: ``bot/answering/`` (saved replies staff start from, and answers to
  sensitive mentions held for the comms team's approval; it answers through ``bot/claims``);
- reminders: ``bot/nudges/`` (policy, sweep, messages, rotation); summaries and the weekly
  digest: ``bot/summaries/``; the App Home: ``bot/home/``;
- the urgent lane (danger words, on-call rotation, paging that ignores office hours):
  ``bot/urgent/``;
- citizens' data: ``bot/privacy/`` (retention purges, a person's export and erasure, the
  audit log); the public report of how the city answers: ``bot/report/``;
- settings and the YAML config: ``bot/config/``; clock, office time, text and mrkdwn escaping,
  Block Kit builders, Slack ids, metrics and logs: ``bot/core/``;
- wiring it all together: ``bot/app/`` (the composition root and the web server); the local
  Slack stand-in: ``bot/sandbox/``; the command line: ``bot/cli/``.

Layers, top to bottom (a module imports only from layers below its own; siblings on one line
do not import each other; anything may use ``storage``, which imports nothing of ``bot``)::

    cli > sandbox > app > handlers > home | report | answering > summaries | intake | claims
        > nudges | rules | outbox | urgent | privacy > config > routing > core > storage

The contracts are in ``pyproject.toml`` for import-linter, and ``tests/test_layout.py`` adds
what it cannot say: no cycles between modules, nobody imports another package's ``_private``
module, no package over about twelve modules, no module over about 400 lines unless its
docstring says why.

Where this differs from the shape first sketched, and why:

- **Priority authors and the comms team live in** ``bot/config/``, not in intake's screening:
  the card (``outbox``) shows a priority author's badge and the rules admin checks who is in
  the comms team, and both sit below intake. They are derived from the config file, so config
  is their natural home.
- **The adapter interface is** ``bot/core/adapter.py``: intake's adapters implement it and the
  outbox's replies call its ``Replier`` protocol, so it sits below both. Adapters import only
  it, their client library and their own ``parse`` module.
- **Source labels** ("311 request", "Web form") and the sources never folded are
  ``bot/core/sources.py``: cards, summaries, nudges and screening all name sources.
- **Learning from hand-overs** (terms, stopwords, significance, keyword coverage) is in
  ``bot/rules/``: its only use is suggesting rule changes.
- **The nudge policy** (``bot/nudges/policy.py``) is read by summaries too, so a service level
  means the same thing in a reminder and in a report.
"""
