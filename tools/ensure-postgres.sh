#!/usr/bin/env bash
# Make sure PostgreSQL server binaries exist for the test suite (tests start their own private
# server in a temporary folder; nothing is configured system-wide). Installs Debian's package
# when we are root; otherwise says what to run.
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "setup: installing PostgreSQL server binaries (apt-get install postgresql)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  exit 0
fi
echo "error: PostgreSQL server binaries not found; run 'sudo apt-get install postgresql', or test" \
     "SQLite only with CHAINRIGHT_TEST_DATABASES=sqlite" >&2
exit 1
