"""The bluesky adapter: ``session`` logs in and reads errors, ``adapter`` reads the streams and
replies, ``parse`` reads its payloads."""
