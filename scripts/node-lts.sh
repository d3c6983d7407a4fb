#!/usr/bin/env bash
# Prints a bin directory holding the pinned Node LTS, installing it first when needed.
# Node 20 reached end of life on 2026-04-30; CI and the docs target the active LTS line.
# The npm registry's `node` package ships the official binaries, so no other download is needed.
# Usage: export PATH="$(scripts/node-lts.sh):$PATH"
set -euo pipefail
PINNED="${CPGW_NODE_VERSION:-26.10.0}"
DIR="${CPGW_NODE_DIR:-$HOME/.cache/checkpoint-gateway/node-$PINNED}"
BIN="$DIR/node_modules/.bin"
if [ ! -x "$BIN/node" ] || [ "$("$BIN/node" --version)" != "v$PINNED" ]; then
  mkdir -p "$DIR"
  npm install --prefix "$DIR" --no-audit --no-fund --no-save --loglevel=error "node@$PINNED" >&2
fi
echo "$BIN"
