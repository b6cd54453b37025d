#!/usr/bin/env bash
# Shared helpers for install.sh and test.sh: install missing Debian packages, start dockerd.
set -euo pipefail

log() { printf '==> %s\n' "$*" >&2; }

# apt_install PKG...: installs only the packages that are missing.
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# ensure_dockerd: starts the Docker engine when its socket is missing or dead.
ensure_dockerd() {
  if docker version >/dev/null 2>&1; then return 0; fi
  if command -v systemctl >/dev/null 2>&1 && systemctl is-system-running >/dev/null 2>&1; then
    systemctl start docker || true
  fi
  if ! docker version >/dev/null 2>&1; then
    log "starting dockerd (log: /var/log/dockerd.log)"
    rm -f /var/run/docker.pid
    nohup dockerd >/var/log/dockerd.log 2>&1 &
  fi
  for _ in $(seq 1 60); do
    docker version >/dev/null 2>&1 && return 0
    sleep 1
  done
  log "dockerd did not start; see /var/log/dockerd.log"
  return 1
}

# ensure_rust: cargo must be on PATH (rustup's default location is tried too).
ensure_rust() {
  if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
  command -v cargo >/dev/null 2>&1 || { log "cargo not found: install Rust (rustup) first"; return 1; }
}

PLATFORM_PACKAGES=(docker.io debootstrap git ca-certificates curl iproute2 procps)
