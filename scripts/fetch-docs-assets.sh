#!/usr/bin/env bash
# Fetch the math typesetting assets the docs site serves itself (no CDN):
# KaTeX (script, stylesheet, fonts, auto-render) from the npm registry into
# docs/assets/vendor/katex/. Idempotent: does nothing when the pinned version
# is already in place. Needs npm (Debian: apt-get install npm).
set -euo pipefail
KATEX_VERSION=0.16.22
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/docs/assets/vendor/katex"
stamp="$dest/.version"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$KATEX_VERSION" ] && [ -f "$dest/katex.min.js" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "fetch-docs-assets: npm not found; install Node.js/npm (Debian: apt-get install npm) to build the docs" >&2
  exit 1
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
npm install --silent --no-audit --no-fund --no-save --prefix "$tmp" "katex@$KATEX_VERSION" >/dev/null
src="$tmp/node_modules/katex/dist"
rm -rf "$dest.partial"
mkdir -p "$dest.partial/contrib"
cp "$src/katex.min.js" "$src/katex.min.css" "$dest.partial/"
cp "$src/contrib/auto-render.min.js" "$dest.partial/contrib/"
cp -r "$src/fonts" "$dest.partial/fonts"
cp "$tmp/node_modules/katex/LICENSE" "$dest.partial/LICENSE"
echo "$KATEX_VERSION" > "$dest.partial/.version"
rm -rf "$dest"
mv "$dest.partial" "$dest"
echo "fetch-docs-assets: KaTeX $KATEX_VERSION -> docs/assets/vendor/katex" >&2
