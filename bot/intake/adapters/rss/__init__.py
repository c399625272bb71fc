"""The rss adapter: ``adapter`` talks to the platform and reads its payloads."""
