#!/usr/bin/env bash
# `npm start`: installs what is missing, then runs Fanout in the foreground (Ctrl+C stops it).
set -euo pipefail
cd "$(dirname "$0")/../../.."
bash shared/runtime/local/setup.sh
exec node --import tsx shared/runtime/local/main.ts
