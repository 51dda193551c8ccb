#!/usr/bin/env bash
# Runs a compiled bundle of the local runtime (ADR 0010) with plain node and the V8 flags of
# shared/runtimes/local/node-flags (ADR 0011): `npm start`, `npm run fanout` and `npm run bench`.
#   bash shared/runtimes/local/run-bundle.sh .build/local/main.mjs
set -euo pipefail
cd "$(dirname "$0")/../../.."
# The AWS SDK warns that its 2027 releases will need Node 22; Fanout runs on 20 and 22 alike.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
# shellcheck disable=SC2046
exec node $(grep -v '^#' shared/runtimes/local/node-flags) "$@"
