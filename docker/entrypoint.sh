#!/bin/sh
# The image's entrypoint. `run` (the default): migrate the database, then exec the bot, so
# SIGTERM reaches it for a clean stop. Anything else is an engage command, run as it is
# (`docker run IMAGE adapters status`); for a shell, use `docker run --entrypoint sh IMAGE`.
set -eu

if [ "$#" -eq 0 ]; then
    set -- run
fi

if [ "$1" = run ]; then
    # A SQLite file must be in a folder this user can write, and one that outlives the
    # container: the volume (/data). Say so, rather than fail in SQLite's words.
    case "${DATABASE_URL:-}" in
        sqlite:///*)
            db_file="${DATABASE_URL#sqlite:///}"
            db_dir="$(dirname "$db_file")"
            if [ ! -d "$db_dir" ] || [ ! -w "$db_dir" ]; then
                echo "engage: cannot write the database in $db_dir (DATABASE_URL=$DATABASE_URL);" \
                    "keep it in the volume: DATABASE_URL=sqlite:////data/engage.db" >&2
                exit 2
            fi
            ;;
    esac
    # Idempotent; replicas starting together take turns (PostgreSQL advisory lock).
    engage db upgrade
fi

exec engage "$@"
