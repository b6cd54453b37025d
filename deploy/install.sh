#!/usr/bin/env bash
# Installs doppel on this Debian 12 or 13 machine from this checkout: installs what is missing
# (Docker engine, debootstrap, git, build tools, and Rust through rustup when cargo is
# missing), builds the Debian package (deploy/package.sh) and installs it with apt. Under
# systemd the package starts doppel.service; without systemd (a container) this script starts
# `doppel server` in the background, logging to /var/log/doppel.log. Then it waits until the
# server answers and says how to log in. Running it again rebuilds and reinstalls.
#
# Usage: sudo deploy/install.sh [--profile release|debug]
# Settings go in /etc/doppel/doppel.toml (keys are the server's flags: domain = "…").
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib.sh

package_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) package_args+=(--profile "${2:-}"); shift 2 || { log "--profile needs release or debug"; exit 2; } ;;
    --profile=*) package_args+=("$1"); shift ;;
    -h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *)
      log "unknown argument $1: server settings go in /etc/doppel/doppel.toml (keys are the flags, e.g. domain = \"paas.example.com\"), not on this command line"
      exit 2
      ;;
  esac
done
[ "$(id -u)" = 0 ] || { log "run as root: sudo deploy/install.sh"; exit 1; }

apt_install "${PLATFORM_PACKAGES[@]}" build-essential pkg-config
ensure_rust
deb=$(deploy/package.sh "${package_args[@]}")

log "installing $deb"
# --reinstall: a rebuilt package of the same version still replaces the installed one;
# --force-confold keeps an edited /etc/doppel/doppel.toml.
apt_log=$(mktemp)
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --reinstall \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$deb" >"$apt_log" 2>&1; then
  cat "$apt_log" >&2
  log "apt could not install $deb (above)"
  exit 1
fi
grep '^doppel:' "$apt_log" >&2 || true
rm -f "$apt_log"
# An earlier install.sh copied the binary here; it would shadow the package's /usr/bin/doppel.
if [ -x /usr/local/bin/doppel ] && /usr/local/bin/doppel --version 2>/dev/null | grep -q '^doppel '; then
  log "removing /usr/local/bin/doppel (left by an earlier install.sh; the package installs /usr/bin/doppel)"
  rm -f /usr/local/bin/doppel
fi

# The settings in effect: the config file, with the defaults filled in.
settings=$(/usr/bin/doppel server --print-config)
setting() {
  printf '%s\n' "$settings" | sed -n -e "s/^$1 = \"\([^\"]*\)\".*/\1/p" -e "s/^$1 = \([0-9][0-9]*\) .*/\1/p" | head -n 1
}
data_dir=$(setting data-dir)
port=$(setting https-port)
domain=$(setting domain)

if systemd_running; then
  log "doppel.service: $(systemctl is-active doppel.service || true); log: journalctl -u doppel -f"
  systemctl is-enabled --quiet doppel.service || log "doppel.service is disabled; start it with: systemctl enable --now doppel"
else
  ensure_dockerd
  pidfile=/run/doppel-install.pid
  if [ -s "$pidfile" ] && grep -q 'doppel' "/proc/$(cat "$pidfile")/cmdline" 2>/dev/null; then
    log "stopping the doppel server this script started before (pid $(cat "$pidfile"))"
    kill "$(cat "$pidfile")"
    for _ in $(seq 1 30); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 1; done
  fi
  log "systemd is not running: starting doppel server in the background (log: /var/log/doppel.log)"
  nohup /usr/bin/doppel server >>/var/log/doppel.log 2>&1 &
  echo $! >"$pidfile"
fi

log "waiting for https://$domain:$port/ (the first start builds the stack images, about 5 minutes)"
ready=no
for _ in $(seq 1 900); do
  if [ -s "$data_dir/ca.pem" ] && curl -s -o /dev/null --cacert "$data_dir/ca.pem" \
    --resolve "$domain:$port:127.0.0.1" "https://$domain:$port/"; then
    ready=yes
    break
  fi
  if systemd_running && systemctl is-failed --quiet doppel.service; then break; fi
  sleep 2
done
if [ "$ready" != yes ]; then
  log "doppel did not answer on port $port; its log:"
  if systemd_running; then journalctl -u doppel -n 30 --no-pager >&2 || true; else tail -n 30 /var/log/doppel.log >&2; fi
  exit 1
fi
cat <<MSG
doppel is running. Log in with:
  export DOPPEL_HOST=https://$domain:$port DOPPEL_CA_CERT=$data_dir/ca.pem DOPPEL_API_KEY=\$(cat $data_dir/admin-token)
  doppel apps:create myapp
Settings: /etc/doppel/doppel.toml (check them with: doppel server --print-config).
MSG
