"""The mastodon adapter: ``adapter`` talks to the platform, ``parse`` reads its payloads."""
