#!/usr/bin/env bash
# Restarts the Docker engine, as an upgrade or a crash of the engine would: every container
# on it stops (doppel's supervisor must bring its dynos back). Under systemd it is
# `systemctl restart docker`; without systemd (containers, this project's test machines) the
# running dockerd gets SIGTERM, the script waits for it to exit, and starts it again the way
# deploy/test.sh does (`ensure_dockerd`). Returns once the engine answers again.
#
# It stops EVERY container on the engine, whoever made it: not for a shared machine while
# others are using the engine.
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib.sh

if systemd_running && systemctl is-active --quiet docker; then
  log "restarting the Docker engine (systemctl restart docker)"
  systemctl restart docker
else
  pid=$(cat /var/run/docker.pid 2>/dev/null || pgrep -xo dockerd || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    log "stopping dockerd (pid $pid) with SIGTERM"
    kill -TERM "$pid"
    for _ in $(seq 1 120); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "dockerd (pid $pid) did not exit within 60 s"
      exit 1
    fi
  fi
fi
ensure_dockerd
log "the Docker engine is up again"
