"""The facebook adapter: ``graph`` talks to the Graph API, ``adapter`` reads the streams and
replies, ``parse`` reads its payloads."""
