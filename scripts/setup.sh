#!/usr/bin/env bash
# Set up backlist for development and tests on a Debian machine (as root, or with sudo rights):
# PostgreSQL + pgvector and Chromium from Debian's packages (for the PostgreSQL and browser
# tests), then the package with every extra and the test tools, torch pinned to its CPU build by
# constraints.txt. Safe to run again: each step checks first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-postgres.sh
bash scripts/setup-browser.sh
pip install -c constraints.txt -e ".[dev]"
