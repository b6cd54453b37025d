#!/usr/bin/env bash
# Shared helpers of the deploy scripts: install missing Debian packages, start dockerd, find
# or install Rust.
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

# systemd_running: whether systemd is PID 1 here (not in most containers).
systemd_running() { [ -d /run/systemd/system ]; }

# ensure_dockerd: starts the Docker engine when its socket is missing or dead.
ensure_dockerd() {
  if docker version >/dev/null 2>&1; then return 0; fi
  if systemd_running; then
    systemctl start docker || true
  fi
  if ! docker version >/dev/null 2>&1; then
    log "starting dockerd (log: /var/log/dockerd.log)"
    rm -f /var/run/docker.pid
    # Its own session: a signal to the caller's process group (Ctrl-C, a timeout) leaves it.
    setsid nohup dockerd >/var/log/dockerd.log 2>&1 </dev/null &
  fi
  for _ in $(seq 1 60); do
    docker version >/dev/null 2>&1 && return 0
    sleep 1
  done
  log "dockerd did not start; see /var/log/dockerd.log"
  return 1
}

# ensure_rust: cargo must be on PATH; rustup's default location is tried, and when cargo is
# nowhere, rustup installs a stable toolchain if https://sh.rustup.rs can be reached.
ensure_rust() {
  if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
  command -v cargo >/dev/null 2>&1 && return 0
  local installer
  installer=$(mktemp)
  if ! curl --proto '=https' --tlsv1.2 -fsS --max-time 60 -o "$installer" https://sh.rustup.rs; then
    rm -f "$installer"
    log "cargo is missing and https://sh.rustup.rs cannot be reached, so Rust cannot be installed here."
    log "Install Rust yourself (https://rustup.rs), or build the package where Rust is"
    log "(deploy/package.sh) and install it here with: apt install ./doppel_<version>_<arch>.deb"
    return 1
  fi
  log "cargo is missing: installing Rust (stable, minimal profile) with rustup into $HOME/.cargo"
  if ! sh "$installer" -y --profile minimal --default-toolchain stable >&2; then
    rm -f "$installer"
    log "rustup failed (see above); install Rust yourself (https://rustup.rs) and run this again"
    return 1
  fi
  rm -f "$installer"
  export PATH="$HOME/.cargo/bin:$PATH"
}

PLATFORM_PACKAGES=(docker.io debootstrap git ca-certificates curl iproute2 procps)
