"""The email adapter: ``adapter`` talks to the platform, ``parse`` reads its payloads."""
