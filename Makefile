# The README's quickstart: `make sandbox` (try it locally) and `make test`; `make run` for Slack.
# Installs come from the lock files (exact versions, checked by their hashes): `make lock`
# writes them from pyproject.toml. `sandbox` and `run` install what the bot needs to run;
# `test` adds the development tools.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# `make lock LOCK_FLAGS=--upgrade` moves every pin to the newest release allowed.
LOCK_FLAGS ?=
COMPILE = $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 \
	--generate-hashes --quiet --custom-compile-command "make lock" $(LOCK_FLAGS)

.PHONY: sandbox run test lint install install-dev browser lock dockerfile-lint

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The runtime, then Engage itself on top (its dependencies are all in the lock already).
$(VENV)/.runtime: requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.dev: requirements-dev.lock $(VENV)/.runtime
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	touch $@

install: $(VENV)/.runtime

install-dev: $(VENV)/.dev

sandbox: install
	$(BIN)/engage sandbox

run: install
	$(BIN)/engage run

# Both locks from pyproject.toml; the dev lock keeps the runtime lock's versions. Pins already
# in a lock stay where they are unless pyproject.toml needs otherwise (or LOCK_FLAGS=--upgrade).
lock: install-dev
	$(COMPILE) -o requirements.lock
	$(COMPILE) --extra dev -c requirements.lock -o requirements-dev.lock

# The browser tests drive Debian's Chromium, and the screenshots need a font with emoji;
# install them when we may (root, as in CI), without the recommended extras.
EMOJI_FONT := /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf
browser:
	@if command -v chromium >/dev/null 2>&1 && [ -e $(EMOJI_FONT) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends chromium fonts-liberation fonts-noto-color-emoji) \
	  || echo "chromium or the emoji font not installed: browser tests may be skipped"; \
	else \
	  command -v chromium >/dev/null 2>&1 \
	  || echo "chromium not installed: the browser tests will be skipped"; \
	fi

dockerfile-lint: install-dev
	$(BIN)/hadolint Dockerfile

test: install-dev browser dockerfile-lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest

lint: install-dev dockerfile-lint
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
