#!/usr/bin/env bash
# Runs doppel's whole test suite on a fresh Debian 12 machine: installs and starts what the
# tests need (Docker engine, PostgreSQL, debootstrap, git, curl), checks formatting and lints,
# runs every crate's tests (the store suite on SQLite and PostgreSQL), builds the stack images
# once, and runs the end-to-end suite with the real Docker engine, git client and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib.sh

# python3 and npm: the buildpacks' unit tests and the e2e tests ask PyPI-free questions of the
# npm registry (which Node.js releases a range names) with the host's own tools.
apt_install "${PLATFORM_PACKAGES[@]}" postgresql build-essential pkg-config python3 python3-venv
# npm comes with a Node.js that is already there (e.g. NodeSource's, which conflicts with
# Debian's npm package); only a machine without npm gets Debian's.
command -v npm >/dev/null 2>&1 || apt_install nodejs npm
# Headless Chromium and its WebDriver: tests/e2e/tests/dashboard.rs drives the web dashboard in a real browser.
apt_install chromium chromium-driver
# Pebble and pebble-challtestsrv: tests/e2e/tests/certs.rs and platform_certs.rs get ACME
# certificates offline.
apt_install pebble
ensure_dockerd
ensure_rust
# The clients users drive doppel with: the official Heroku CLI (v10 and v11, from npm) and
# heroku3 (from PyPI), in /var/tmp/doppel-tools.
. deploy/test-tools.sh
install_test_tools
# Build artefacts are kept between runs on one machine (a fresh machine just builds from scratch).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/doppel-target}"
# A one-shot build gains nothing from incremental caches, which take gigabytes of disk.
export CARGO_INCREMENTAL=0

# PostgreSQL for the store suite: a superuser `doppel` on 127.0.0.1:5432.
if ! pg_lsclusters -h 2>/dev/null | grep -q online; then
  cluster=$(pg_lsclusters -h | awk 'NR==1{print $1" "$2}')
  log "starting PostgreSQL cluster ${cluster}"
  # shellcheck disable=SC2086
  pg_ctlcluster $cluster start
fi
for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 && break; sleep 1; done
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='doppel'\"" | grep -q 1 \
  || su postgres -c "psql -qc \"CREATE ROLE doppel LOGIN SUPERUSER PASSWORD 'doppel'\""
export DOPPEL_TEST_DATABASE_URL=postgres://doppel:doppel@127.0.0.1:5432/postgres

log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

log "building the doppel binary"
cargo build -p doppel
export DOPPEL_BIN="$CARGO_TARGET_DIR/debug/doppel"

log "stack images (built from Debian's archive once, then reused): the default stack and debian-12"
# The default stack (debian-testing) serves the e2e suite; debian-12 (the images once called
# heroku-24) the stack-move test and Dockerfile apps that say FROM doppel/heroku-24.
"$DOPPEL_BIN" stack build
"$DOPPEL_BIN" stack build debian-12

# Deployment checks (issue 13): Terraform/checkov, cloud-init, systemd unit, the .deb in a clean
# container, and under a running systemd (--with-systemd, about 2 minutes): the service, an
# upgrade under load that loses no request, the downgrade refused (deploy/check-upgrade.sh).
deploy/check-deploy.sh --with-systemd

log "unit, store (SQLite + PostgreSQL) and component tests, then the end-to-end suite"
results=$(mktemp)
set +e
cargo test --workspace --no-fail-fast -- --test-threads=4 2>&1 | tee "$results"
status=${PIPESTATUS[0]}
set -e
# One closing line for the whole run, summed over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "%d passed, %d failed\n", p, f }' "$results"
rm -f "$results"
exit "$status"
