#!/usr/bin/env bash
# Benchmark: the time from `doppel promote` to production serving the promoted release, for a
# small web app (a Dockerfile app on the local doppel/heroku-24 image: python3's http.server).
# Starts its own `doppel server` on free ports with a throwaway data directory, builds two
# staging releases, then promotes them in turn ROUNDS times (`--release v1`, `--release v2`,
# …), each time timing (a) until https://bench.localhost:<port>/ answers with the promoted
# release's text (polled every 20 ms while the command runs) and (b) until the promote command
# returns (it also waits for the old dynos to stop). Prints one line per round and the median
# and worst of (a). Target (issue 7): (a) under 3 s.
#
#   DOPPEL_BIN=… ROUNDS=10 deploy/bench-promote.sh
#
# Needs the Docker engine, git, curl, python3, and the doppel/heroku-24 image
# (`doppel stack build debian-12`). Removes every container, network and image it made.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${DOPPEL_BIN:-${CARGO_TARGET_DIR:-target}/debug/doppel}
ROUNDS=${ROUNDS:-10}
[ -x "$BIN" ] || { echo "no doppel binary at $BIN (set DOPPEL_BIN)" >&2; exit 1; }

data=$(mktemp -d /tmp/doppel-bench.XXXXXX)
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
https_port=$(free_port)
http_port=$(free_port)
"$BIN" server --config /dev/null --data-dir "$data" --bind 127.0.0.1 \
  --https-port "$https_port" --http-port "$http_port" >"$data/server.log" 2>&1 &
server_pid=$!

cleanup() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  if [ -f "$data/instance-id" ]; then
    inst=$(cat "$data/instance-id")
    docker ps -aq --filter "label=doppel.instance=$inst" | xargs -r docker rm -f >/dev/null
    docker network ls -q --filter "label=doppel.instance=$inst" | xargs -r docker network rm >/dev/null
    docker images -q --filter "reference=doppel/app-$inst-*" | xargs -r docker rmi -f >/dev/null 2>&1 || true
  fi
  rm -rf "$data"
}
trap cleanup EXIT

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
"$BIN" apps:create bench >/dev/null 2>&1

repo="$data/app"
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
git_q() { git -C "$repo" -c user.name=bench -c user.email=bench@doppel.test "$@" -q; }
remote="https://git:$DOPPEL_API_KEY@localhost:$https_port/bench-staging.git"
echo one >"$repo/VERSION"
git_q init -b main
git -C "$repo" add -A
git_q commit -m one
GIT_SSL_CAINFO="$data/ca.pem" git -C "$repo" push -q "$remote" main 2>/dev/null
echo two >"$repo/VERSION"
git -C "$repo" add -A
git_q commit -m two
GIT_SSL_CAINFO="$data/ca.pem" git -C "$repo" push -q "$remote" main 2>/dev/null
# The first promotion also makes production's network and formation.
"$BIN" promote -p bench --release v1 >/dev/null 2>&1

now() { date +%s.%N; }
url="https://bench.localhost:$https_port/"
echo "round  release  until-serving-s  promote-command-s"
serving_times=()
for round in $(seq 1 "$ROUNDS"); do
  if [ $((round % 2)) -eq 1 ]; then release=v2 text="release two"; else release=v1 text="release one"; fi
  t0=$(now)
  "$BIN" promote -p bench --release "$release" >/dev/null 2>"$data/promote.err" &
  promote_pid=$!
  until curl -s --max-time 2 --cacert "$data/ca.pem" "$url" | grep -q "$text"; do
    kill -0 "$promote_pid" 2>/dev/null || curl -s --cacert "$data/ca.pem" "$url" | grep -q "$text" \
      || { wait "$promote_pid" || cat "$data/promote.err" >&2; echo "round $round: not serving $text" >&2; exit 1; }
    sleep 0.02
  done
  t1=$(now)
  wait "$promote_pid" || { cat "$data/promote.err" >&2; exit 1; }
  t2=$(now)
  serving_s=$(echo "$t1 - $t0" | bc -l)
  command_s=$(echo "$t2 - $t0" | bc -l)
  serving_times+=("$serving_s")
  printf "%5d  %-7s  %15.2f  %17.2f\n" "$round" "$release" "$serving_s" "$command_s"
done
sorted=$(printf "%s\n" "${serving_times[@]}" | sort -n)
median=$(echo "$sorted" | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}')
worst=$(echo "$sorted" | tail -1)
printf "until serving: median %.2f s, worst %.2f s over %d promotions (target: under 3 s)\n" \
  "$median" "$worst" "$ROUNDS"
