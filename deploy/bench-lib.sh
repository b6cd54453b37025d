#!/usr/bin/env bash
# Shared by the benchmark scripts (bench-*.sh): a throwaway `doppel server` on free ports with
# its own data directory, removed with every container, network and image it made when the
# script exits, and the small web app they deploy (python3's http.server in a Dockerfile app
# on the local doppel/heroku-24 image, answering "release <VERSION>").
#
#   source deploy/bench-lib.sh
#   bench_start_server          # sets BIN, data, https_port, server_pid; exports DOPPEL_*
#   bench_app_repo "$data/app"  # writes the app into a new git repository
#   bench_push "$data/app" bench-staging
set -euo pipefail

BIN=${DOPPEL_BIN:-${CARGO_TARGET_DIR:-target}/debug/doppel}

bench_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# bench_router_pid: the router process serving the data directory (it outlives the server).
bench_router_pid() {
  cat "$data/router/router.pid" 2>/dev/null || true
}

# bench_cleanup: stops the server and its router, and removes what its installation made
# (the EXIT trap).
bench_cleanup() {
  [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null || true
  [ -n "${server_pid:-}" ] && wait "$server_pid" 2>/dev/null || true
  [ -n "${data:-}" ] || return 0
  local router
  router=$(bench_router_pid)
  if [ -n "$router" ] && kill -TERM "$router" 2>/dev/null; then
    for _ in $(seq 1 100); do kill -0 "$router" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$router" 2>/dev/null || true
  fi
  if [ -f "$data/instance-id" ]; then
    local inst
    inst=$(cat "$data/instance-id")
    docker ps -aq --filter "label=doppel.instance=$inst" | xargs -r docker rm -f >/dev/null
    docker network ls -q --filter "label=doppel.instance=$inst" | xargs -r docker network rm >/dev/null
    docker images -q --filter "reference=doppel/app-$inst-*" | xargs -r docker rmi -f >/dev/null 2>&1 || true
  fi
  rm -rf "$data"
}

# bench_start_server: starts `doppel server` (log: $data/server.log) and waits until its API
# answers; the CLI and git then reach it through DOPPEL_HOST, DOPPEL_API_KEY, DOPPEL_CA_CERT.
bench_start_server() {
  [ -x "$BIN" ] || { echo "no doppel binary at $BIN (set DOPPEL_BIN)" >&2; exit 1; }
  data=$(mktemp -d /tmp/doppel-bench.XXXXXX)
  trap bench_cleanup EXIT
  https_port=$(bench_free_port)
  local http_port rendezvous_port
  http_port=$(bench_free_port)
  rendezvous_port=$(bench_free_port)
  "$BIN" server --config /dev/null --data-dir "$data" --bind 127.0.0.1 \
    --https-port "$https_port" --http-port "$http_port" --rendezvous-port "$rendezvous_port" \
    >"$data/server.log" 2>&1 &
  server_pid=$!
  export DOPPEL_HOST="https://localhost:$https_port" DOPPEL_CA_CERT="$data/ca.pem" HOME="$data/home"
  for _ in $(seq 1 600); do
    if [ -s "$data/admin-token" ] && curl -sf --cacert "$data/ca.pem" \
         -H "Authorization: Bearer $(cat "$data/admin-token")" "$DOPPEL_HOST/account" >/dev/null; then
      break
    fi
    kill -0 "$server_pid" 2>/dev/null || { cat "$data/server.log" >&2; exit 1; }
    sleep 0.5
  done
  DOPPEL_API_KEY=$(cat "$data/admin-token")
  export DOPPEL_API_KEY
}

# bench_app_repo DIR: a git repository holding the app, VERSION "one", committed on main.
bench_app_repo() {
  local repo=$1
  mkdir -p "$repo"
  cat >"$repo/Dockerfile" <<'EOF'
FROM doppel/heroku-24
COPY server.py VERSION /srv/
CMD ["sh", "-c", "exec python3 /srv/server.py"]
EOF
  cat >"$repo/server.py" <<'EOF'
import http.server, os
VERSION = open("/srv/VERSION").read().strip()
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"release {VERSION}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("0.0.0.0", int(os.environ["PORT"])), Handler).serve_forever()
EOF
  echo one >"$repo/VERSION"
  git -C "$repo" init -q -b main
  bench_commit "$repo" one
}

# bench_commit DIR MESSAGE: commits everything in the repository.
bench_commit() {
  git -C "$1" add -A
  git -C "$1" -c user.name=bench -c user.email=bench@doppel.test commit -q --allow-empty -m "$2"
}

# bench_push DIR ENV: pushes main to the environment; fails with git's output when it fails.
bench_push() {
  local remote="https://git:$DOPPEL_API_KEY@localhost:$https_port/$2.git"
  GIT_SSL_CAINFO="$data/ca.pem" git -C "$1" push -q "$remote" main >"$data/push.log" 2>&1 \
    || { cat "$data/push.log" >&2; return 1; }
}

bench_now() { date +%s.%N; }

# bench_median_worst X...: prints the median and the largest of the numbers.
bench_median_worst() {
  printf "%s\n" "$@" | sort -n \
    | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; print m, a[NR]}'
}
