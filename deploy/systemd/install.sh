#!/usr/bin/env bash
# Installs (or updates) Fanout as a systemd service from this checkout, and starts it:
#
#   sudo bash deploy/systemd/install.sh
#
# Safe to run again (after a `git pull`, say): it installs what is missing, rebuilds, rewrites the
# unit and restarts the service. It runs Fanout as the system user `fanout` (FANOUT_SERVICE_USER
# to choose another), which must be able to read this checkout (/opt/fanout is a good place).
# At the first install it writes /etc/fanout/fanout.env (root only) with a new admin token, shown
# here once; Fanout stores only its hash. Without root:
#
#   bash deploy/systemd/install.sh --render DIR    writes the unit, placeholders filled in, to DIR
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
user="${FANOUT_SERVICE_USER:-fanout}"
node_bin="$(command -v node || true)"

render() {
  [ -n "$node_bin" ] || { echo "fanout: node is not installed (Node.js 20 or newer)" >&2; exit 1; }
  sed -e "s|@ROOT@|$root|g" -e "s|@USER@|$user|g" -e "s|@NODEDIR@|$(dirname "$node_bin")|g" \
    "$root/deploy/systemd/fanout.service" > "$1/fanout.service"
}

if [ "${1:-}" = "--render" ]; then
  [ -d "${2:-}" ] || { echo "usage: $0 --render DIR" >&2; exit 2; }
  render "$2"
  exit 0
fi
[ "$(id -u)" = 0 ] || { echo "fanout: run it as root: sudo bash $0" >&2; exit 1; }
command -v systemctl >/dev/null || { echo "fanout: systemctl not found: this machine does not run systemd" >&2; exit 1; }

# System packages and npm dependencies (what `npm start` installs), then the bundles it runs.
bash "$root/shared/runtimes/local/setup.sh"
(cd "$root" && node --import tsx shared/runtimes/local/build.ts && node services/cli/build.mjs)

if ! id "$user" >/dev/null 2>&1; then
  useradd --system --home-dir /var/lib/fanout --no-create-home --shell /usr/sbin/nologin "$user"
  echo "fanout: created the system user $user"
fi
if ! runuser -u "$user" -- test -r "$root/.build/local/main.mjs"; then
  echo "fanout: the user $user cannot read $root (a checkout under /root or a private home?)." >&2
  echo "        Clone Fanout to /opt/fanout, or set FANOUT_SERVICE_USER to a user who can read it." >&2
  exit 1
fi

install -d -m 0755 /etc/fanout
if [ ! -e /etc/fanout/fanout.env ]; then
  token="fo_$(node -e 'process.stdout.write(require("node:crypto").randomBytes(32).toString("base64url"))')"
  (
    umask 077
    cat > /etc/fanout/fanout.env <<ENV
# Fanout's settings (README "Configuration"); read by systemd as root: keep it mode 0600.
# After a change: sudo systemctl restart fanout

# The API, dashboards and HLS listen on loopback only: the TLS proxy in front (docs/operations.md) is the way in.
FANOUT_HOST=127.0.0.1
FANOUT_PORT=8080
# The encoder's SRT feed (UDP): open this port to the encoder.
FANOUT_SRT_HOST=0.0.0.0
FANOUT_SRT_PORT=9998
# FANOUT_SRT_PASSPHRASE=  (unset: generated at first start in /var/lib/fanout/secrets/srt-passphrase)
# FANOUT_X264_PRESET=veryfast
# FANOUT_LOG_LEVEL=INFO

# The admin token, made at install time (Fanout keeps only its hash). Replace it to change it.
FANOUT_ADMIN_TOKEN=$token
ENV
  )
  echo
  echo "  Admin token (shown only this once; it is also in /etc/fanout/fanout.env, root only):"
  echo
  echo "    $token"
  echo
fi

render /etc/systemd/system
systemctl daemon-reload
systemctl enable fanout >/dev/null 2>&1
systemctl restart fanout

port="$(sed -n 's/^FANOUT_PORT=//p' /etc/fanout/fanout.env | tail -1)"
url="http://127.0.0.1:${port:-8080}"
for _ in $(seq 60); do
  if node -e "fetch('$url/api/health').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"; then
    echo "fanout: running at $url (behind your TLS proxy: docs/operations.md)."
    echo "        logs: journalctl -u fanout -f    status: systemctl status fanout    CLI: fanout status"
    exit 0
  fi
  sleep 1
done
echo "fanout: did not answer on $url within 60 s; see journalctl -u fanout -n 50" >&2
exit 1
