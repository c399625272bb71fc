"""The reddit adapter: ``client`` talks to the platform through praw, ``adapter`` reads the
streams and replies, ``parse`` reads its payloads."""
