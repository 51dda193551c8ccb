#!/usr/bin/env bash
# `npm start`: installs what is missing, then runs Fanout in the foreground (Ctrl+C stops it).
set -euo pipefail
cd "$(dirname "$0")/../../.."
bash shared/runtime/local/setup.sh
# Compile to one ES module (about a second), as Lambda runs it: plain node, no TypeScript loader.
node --import tsx shared/runtime/local/build.ts
# The AWS SDK warns that its 2027 releases will need Node 22; Fanout runs on 20 and 22 alike.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
# V8 flags for the media path: shared/runtime/local/node-flags (ADR 0011).
# shellcheck disable=SC2046
exec node $(grep -v '^#' shared/runtime/local/node-flags) .build/local/main.mjs
