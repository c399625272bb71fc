FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATABASE_URL=sqlite:////data/engage.db PORT=3000 MPLCONFIGDIR=/tmp/matplotlib

# The user first: the database lives in the volume, which this user owns.
RUN groupadd --gid 10001 engage \
    && useradd --create-home --uid 10001 --gid engage engage \
    && mkdir -p /data \
    && chown engage:engage /data

WORKDIR /app
# The dependencies, from the lock (exact versions, checked by hash), in a layer of their own:
# a change of code does not reinstall them; a change of the lock does.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
RUN pip install --no-cache-dir --no-deps .
COPY --chmod=0755 docker/entrypoint.sh /usr/local/bin/engage-entrypoint

USER 10001:10001
VOLUME ["/data"]
# Relative paths (a `sqlite:///engage.db` or `ENGAGE_CONFIG=engage.yml` in .env) land in the
# volume, not in /app, which this user cannot write.
WORKDIR /data
EXPOSE 3000
# Liveness only (/livez): Slack or the database being away is /healthz's (readiness), and a
# restart would not bring them back.
HEALTHCHECK --interval=30s --timeout=5s \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/livez', timeout=4)"]
# Migrations (idempotent), then `engage run`; other arguments are engage commands.
ENTRYPOINT ["engage-entrypoint"]
CMD ["run"]
