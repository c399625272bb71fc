"""Answering well: saved replies staff start from, and approval of sensitive answers.

- :mod:`bot.answering.placeholders`: ``{author}``, ``{department}``, ``{ref}``, ``{link}``;
- :mod:`bot.answering.fit`: which saved replies fit a card, best first (pure);
- :mod:`bot.answering.saved`: the saved replies, managed by the comms team with an audit log;
- :mod:`bot.answering.approvals`: answers to *handle with care* mentions held for the comms
  team (draft card: approve and send, edit, send back);
- :mod:`bot.answering.service`: :class:`~bot.answering.service.Answering`, what handlers call.

It sits above ``bot.claims``: an approved answer is recorded and sent by the claims service,
the one answer path, so a held answer and a direct one end the same way.
"""
