#!/usr/bin/env bash
# Make sure Debian's Chromium exists for the real-browser tests (tests/integration/
# test_webapp_browser.py drive it through Playwright with executable_path=/usr/bin/chromium; no
# browser is ever downloaded by Playwright). Installs Debian's package when we are root; otherwise
# says what to run.
set -euo pipefail
CHROMIUM="${CHAINRIGHT_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "setup: installing Chromium for the browser tests (apt-get install chromium)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null
  exit 0
fi
echo "error: Chromium not found at $CHROMIUM; run 'sudo apt-get install chromium fonts-noto-cjk'," \
     "or skip the browser tests with PYTEST_ARGS='-m \"not browser\"'" >&2
exit 1
