"""The x adapter: ``client`` talks to the platform through tweepy, ``adapter`` reads the streams
and replies, ``parse`` reads its payloads."""
