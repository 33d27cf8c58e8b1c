#!/usr/bin/env bash
# System packages the tour and the browser test use, from Debian's archive:
#   dataset-fashion-mnist  real images available offline (idx files in /usr/share/datasets/fashion-mnist)
#   chromium               headless browser for the docs site test
#   npm                    fetches the KaTeX assets the docs site serves (scripts/fetch-docs-assets.sh)
# Best effort: without root or apt the tour falls back to a clear message and the
# browser test skips; nothing else depends on them.
set -u
need=()
[ -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || need+=(dataset-fashion-mnist)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v npm >/dev/null 2>&1 || need+=(npm)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "note: not root or no apt-get; please install: ${need[*]}" >&2
  exit 0
fi
echo "installing Debian packages: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null 2>&1 || true
apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 || echo "note: apt-get install ${need[*]} failed" >&2
exit 0
