#!/usr/bin/env bash
# Build the web app's one script (api/web/js/ -> api/web/static/dist/app.js) with esbuild from the
# project's node_modules: viem and mipd bundled, minified, no source from any CDN. The output is
# gitignored; `make setup` runs this, and the API serves the file at /static/app.js.
set -euo pipefail
cd "$(dirname "$0")/.."
node_modules/.bin/esbuild api/web/js/app.js --bundle --minify --format=esm --target=es2022 \
  --legal-comments=none --log-level=warning --outfile=api/web/static/dist/app.js
