#!/usr/bin/env bash
# `npm start`: installs what is missing, then runs Fanout in the foreground (Ctrl+C stops it).
set -euo pipefail
cd "$(dirname "$0")/../../.."
bash shared/runtimes/local/setup.sh
# Compile to one ES module (about a second), as Lambda runs it: plain node, no TypeScript loader.
node --import tsx shared/runtimes/local/build.ts
exec bash shared/runtimes/local/run-bundle.sh .build/local/main.mjs
