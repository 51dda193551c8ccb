#!/usr/bin/env bash
# Installs what Fanout needs and is missing: the system packages (Debian/Ubuntu, apt-get, as root)
# and the npm dependencies. Safe to run again: it only installs what is not there.
set -euo pipefail
cd "$(dirname "$0")/../../.."

# binary:package pairs the local media engine and the tests use.
PACKAGES=(ffmpeg:ffmpeg ffprobe:ffmpeg srt-live-transmit:srt-tools nginx:nginx-light)
missing=()
for pair in "${PACKAGES[@]}"; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair##*:}")
done
# The RTMP module that turns nginx into the loopback stand-in for YouTube/Twitch in tests.
[ -e /usr/lib/nginx/modules/ngx_rtmp_module.so ] || missing+=(libnginx-mod-rtmp)
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
