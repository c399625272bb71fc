"""The open311 adapter: ``adapter`` talks to the platform, ``parse`` reads its payloads."""
