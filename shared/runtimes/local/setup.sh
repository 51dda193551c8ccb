#!/usr/bin/env bash
# Installs what Fanout needs and is missing: the system packages (Debian/Ubuntu, apt-get, as root)
# and the npm dependencies. Safe to run again: it only installs what is not there.
set -euo pipefail
cd "$(dirname "$0")/../../.."

# binary:package pairs the local media engine and the tests use (cc builds the SRT ingest;
# srt-live-transmit is what the ingest benchmark compares it with).
PACKAGES=(ffmpeg:ffmpeg ffprobe:ffmpeg srt-live-transmit:srt-tools nginx:nginx-light cc:gcc)
missing=()
for pair in "${PACKAGES[@]}"; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair##*:}")
done
# The RTMP module that turns nginx into the loopback stand-in for YouTube/Twitch in tests.
[ -e /usr/lib/nginx/modules/ngx_rtmp_module.so ] || missing+=(libnginx-mod-rtmp)
# libsrt (GnuTLS flavour) and its headers: the SRT ingest, fanout-srt, is built against them (ADR 0020).
[ -e /usr/include/srt/srt.h ] || missing+=(libsrt-gnutls-dev)
ls /usr/lib/*/libsrt-gnutls.so.1.5 >/dev/null 2>&1 || missing+=(libsrt1.5-gnutls)
if [ "${#missing[@]}" -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "fanout: installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "fanout: missing system packages: ${missing[*]} (install them with: sudo apt-get install ${missing[*]})" >&2
  fi
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "fanout: Node.js 20 or newer is required (found: $(node --version 2>/dev/null || echo none))." >&2
  exit 1
fi

# npm dependencies: installed exactly from the lockfile when missing or when the lockfile changed.
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.fanout-lock-hash 2>/dev/null)" != "$lock_hash" ]; then
  echo "fanout: installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.fanout-lock-hash
fi

# The SRT ingest (shared/engines/local/engine/ingest/fanout-srt.c): the engine rebuilds it too when
# it is missing or older than its source (ingest/binary.ts), with the same command.
src=shared/engines/local/engine/ingest/fanout-srt.c
out=.build/native/fanout-srt
if [ ! -x "$out" ] || [ "$src" -nt "$out" ]; then
  if [ -e /usr/include/srt/srt.h ] && command -v cc >/dev/null 2>&1; then
    echo "fanout: building the SRT ingest ($out)"
    mkdir -p "$(dirname "$out")"
    cc -O2 -Wall -Wextra -o "$out.tmp" "$src" -lsrt-gnutls -lpthread && mv "$out.tmp" "$out"
  else
    echo "fanout: cannot build the SRT ingest: needs cc and libsrt-gnutls-dev" >&2
  fi
fi
