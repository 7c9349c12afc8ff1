#!/usr/bin/env bash
# Build the consortium client into .bin/geth: go-ethereum v1.13.15 (the last line that seals
# Clique blocks) with tools/geth/clique-shanghai-cancun.patch, from the Go module proxy.
#
# Idempotent: when .bin/geth answers as v1.13.15 and .bin/geth.stamp names this very patch, it
# builds nothing. A build takes about 2 minutes on 2 cores the first time.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VERSION="1.13.15"
MODULE="github.com/ethereum/go-ethereum"
PATCH="$ROOT/tools/geth/clique-shanghai-cancun.patch"
OUT="$ROOT/.bin/geth"
STAMP="$ROOT/.bin/geth.stamp"

want="geth v$VERSION patch $(sha256sum "$PATCH" | cut -c1-64)"

# True when the binary $1 answers as v$VERSION. The output is captured before it is searched: with
# pipefail, `geth version | grep -q` fails at random when grep exits before geth finishes writing.
reports_version() {
    local out
    out="$("$1" version 2>/dev/null)" || return 1
    grep -qx "Version: $VERSION-stable" <<<"$out"
}

if [[ -x "$OUT" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]] && reports_version "$OUT"; then
    exit 0
fi

command -v go >/dev/null || { echo "error: Go not found; install Go 1.21 or newer (1.26 tested) to build geth"; exit 1; }
command -v patch >/dev/null || { echo "error: 'patch' not found; install it (Debian: apt-get install patch)"; exit 1; }

echo "building geth v$VERSION with the Clique Shanghai/Cancun patch into .bin/geth (about 2 minutes) ..."
# Linking go-ethereum 1.13 with Go 1.23+ needs -checklinkname=0 (fjl/memsize uses a linkname the
# newer linker refuses); older linkers do not know the flag.
ldflags=""
minor="$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')"
if [[ "$minor" =~ ^[0-9]+$ ]] && (( minor >= 23 )); then
    ldflags="-checklinkname=0"
fi

src_dir="$(go mod download -json "$MODULE@v$VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[[ -d "$src_dir" ]] || { echo "error: could not download $MODULE@v$VERSION from the Go module proxy"; exit 1; }

work="$ROOT/.bin/.geth-build"
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
cp -r "$src_dir" "$work/src"
chmod -R u+w "$work/src"
patch --quiet -p2 -d "$work/src" < "$PATCH"
(cd "$work/src" && go build -mod=mod -buildvcs=false -trimpath -ldflags="$ldflags" -o "$OUT.tmp" ./cmd/geth)
reports_version "$OUT.tmp" || {
    echo "error: the built geth does not report v$VERSION; its 'version' output was:"
    "$OUT.tmp" version 2>&1 | sed 's/^/  /' || true
    exit 1
}
mv -f "$OUT.tmp" "$OUT"
printf '%s\n' "$want" > "$STAMP"
echo "geth v$VERSION (patched) installed at .bin/geth"
