#!/usr/bin/env bash
# Installs Debian's Chromium for the web app's browser tests (Playwright drives it through
# executable_path; Playwright's own browser download is not reachable here). Idempotent: does
# nothing when /usr/bin/chromium is already there. Needs root (or sudo) for apt-get.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "setup-browser: /usr/bin/chromium is missing and this is not root; install chromium" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core fonts-liberation >/dev/null
if [ ! -x /usr/bin/chromium ]; then
    echo "setup-browser: chromium installed but /usr/bin/chromium is not there" >&2
    exit 1
fi
echo "setup-browser: installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
