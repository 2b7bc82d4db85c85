#!/usr/bin/env bash
# Set up everything the test suite needs, then run it (README's test command; CI runs it too).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install -q -e '.[test,docs]'
bash scripts/setup-browser-tests.sh          # Debian chromium + axe-core for the report tests
.venv/bin/python -m pytest "$@"
