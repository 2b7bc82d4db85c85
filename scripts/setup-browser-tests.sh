#!/usr/bin/env bash
# Set up the real-browser report tests (tests/report/test_browser.py):
#   - Debian's chromium package (apt), only if /usr/bin/chromium is missing;
#   - the Playwright Python package in the project's venv (no browser download:
#     the tests drive the system chromium; never run `playwright install`);
#   - axe-core from the npm registry into .cache/npm, only if missing.
# Run from anywhere; needs root (or sudo) for apt. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${PYTHON:-.venv/bin/python}"
if [ ! -x "$PY" ]; then
  PY="$(command -v python3)"
fi

if [ ! -x /usr/bin/chromium ]; then
  echo "installing Debian's chromium package" >&2
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

if ! "$PY" -c "import playwright.sync_api" >/dev/null 2>&1; then
  echo "installing the playwright Python package (no browser download)" >&2
  "$PY" -m pip install -q playwright
fi

AXE=".cache/npm/node_modules/axe-core/axe.min.js"
if [ ! -f "$AXE" ]; then
  echo "installing axe-core from npm into .cache/npm" >&2
  mkdir -p .cache/npm
  npm install --silent --no-audit --no-fund --prefix .cache/npm axe-core@4
fi

echo "browser tests ready: chromium=$(/usr/bin/chromium --version 2>/dev/null | head -1), axe=$AXE" >&2
