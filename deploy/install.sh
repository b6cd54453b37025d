#!/usr/bin/env bash
# Installs what doppel needs on a fresh Debian 12 machine (Docker engine, debootstrap, git…),
# builds the doppel binary, and starts `doppel server` with its defaults
# (data in /var/lib/doppel, domain localhost, ports 80 and 443).
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib.sh

apt_install "${PLATFORM_PACKAGES[@]}" build-essential pkg-config
ensure_dockerd
ensure_rust
log "building doppel (release)"
cargo build --release -p doppel
install -m 0755 target/release/doppel /usr/local/bin/doppel
log "starting doppel server (log: /var/log/doppel.log); the first start builds the stack images"
nohup /usr/local/bin/doppel server "$@" >/var/log/doppel.log 2>&1 &
data_dir=${DOPPEL_DATA_DIR:-/var/lib/doppel}
port=${DOPPEL_HTTPS_PORT:-443}
for _ in $(seq 1 900); do
  if [ -s "$data_dir/ca.pem" ] && curl -s -o /dev/null --cacert "$data_dir/ca.pem" "https://localhost:$port/"; then break; fi
  sleep 2
done
tail -n 5 /var/log/doppel.log
cat <<MSG
doppel is running. Log in with:
  export DOPPEL_HOST=https://localhost:$port DOPPEL_CA_CERT=$data_dir/ca.pem DOPPEL_API_KEY=\$(cat $data_dir/admin-token)
  doppel apps:create myapp
MSG
