"""Citizens' data, kept only as long as needed: the retention purge (:mod:`.retention`), a
person's export and erasure (:mod:`.requests`), and the service that does both for the CLI, the
scheduler and the comms team in Slack (:mod:`.service`). Keyed hashes: :mod:`.identity`."""
