#!/usr/bin/env bash
# Benchmark of process groups (issue 8), three parts, on a small web app (a Dockerfile app on
# the local doppel/heroku-24 image: python3's http.server), with its own `doppel server` on
# free ports and a throwaway data directory (deploy/bench-lib.sh):
#
# 1. No dropped request: wrk (deploy/bench-processes.lua) keeps requesting the app's staging
#    environment through the router while it is deployed (git push), rolled back
#    (`rollback`), reconfigured (`config:set`), scaled down (web=2 → 1) and restarted
#    (`ps:restart`). Prints the requests, the failed or reset ones (target: 0) and the
#    latency percentiles.
# 2. Push to serving: ROUNDS pushes of a one-file change (a cached rebuild: only the last
#    COPY layer is new), each timing (a) until the environment answers with the new text
#    (polled every 20 ms) and (b) until `git push` returns. Target: (a) under 2 s, and (b)
#    right after (a) (the push returns once the new release serves; old dynos drain behind).
# 3. Memory: nine more apps pushed (ten apps with a web dyno each), then after IDLE seconds
#    idle, the resident memory (VmRSS in /proc) of `doppel server` and of its router process
#    (`doppel router`, pid in <data-dir>/router/router.pid). Target: under 40 MB together.
#
#   DOPPEL_BIN=… ROUNDS=5 IDLE=15 deploy/bench-processes.sh
#
# Needs the Docker engine, git, curl, python3, wrk (installed from Debian's archive when
# missing), and the doppel/heroku-24 image (`doppel stack build debian-12`). Removes every
# container, network and image it made. Use a release build for part 3 (`cargo build
# --release -p doppel`, DOPPEL_BIN=target/release/doppel): a debug build holds more.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-5}
IDLE=${IDLE:-15}
CONNECTIONS=${CONNECTIONS:-4}
PAUSE_MS=${PAUSE_MS:-10}
if ! command -v wrk >/dev/null 2>&1; then
  source deploy/lib.sh
  apt_install wrk
fi
source deploy/bench-lib.sh
bench_start_server
echo "doppel: $BIN ($("$BIN" --version 2>/dev/null || echo unknown version))"
env=bench-staging
"$BIN" apps:create bench >/dev/null 2>&1
repo="$data/app"
bench_app_repo "$repo"
bench_push "$repo" "$env"

# step LABEL COMMAND...: runs a command, prints how long it took; fails the benchmark if it fails.
step() {
  local label=$1 t0 t1
  shift
  t0=$(bench_now)
  "$@" >"$data/step.log" 2>&1 || { echo "$label failed:" >&2; cat "$data/step.log" >&2; exit 1; }
  t1=$(bench_now)
  printf "  %-36s %6.2f s\n" "$label" "$(echo "$t1 - $t0" | bc -l)"
}

echo "== 1. requests while the app changes (wrk: $CONNECTIONS connections, ${PAUSE_MS} ms pause)"
step "ps:scale web=2" "$BIN" ps:scale web=2 -a "$env"
echo two >"$repo/VERSION"
bench_commit "$repo" two
BENCH_HOST="$env.localhost:$https_port" BENCH_AUTH=$(printf ':%s' "$DOPPEL_API_KEY" | base64 -w0) \
  BENCH_PAUSE_MS=$PAUSE_MS wrk -t2 -c"$CONNECTIONS" -d1h --timeout 10s \
  -s deploy/bench-processes.lua "https://127.0.0.1:$https_port/" >"$data/wrk.out" 2>&1 &
wrk_pid=$!
sleep 3
step "deploy v2 (git push)" bench_push "$repo" "$env"
step "rollback (v3 = v1's image)" "$BIN" rollback -a "$env"
step "config:set BENCH=1 (v4)" "$BIN" config:set BENCH=1 -a "$env"
step "ps:scale web=1" "$BIN" ps:scale web=1 -a "$env"
step "ps:restart" "$BIN" ps:restart -a "$env"
sleep 5
kill -INT "$wrk_pid"
wait "$wrk_pid" || true
sed -n '/^requests:/,$p' "$data/wrk.out" | sed 's/^/  /'
grep -q '^failed: ' "$data/wrk.out" || { cat "$data/wrk.out" >&2; exit 1; }

echo "== 2. git push to the new release serving ($ROUNDS cached rebuilds, web=1)"
url="https://$env.localhost:$https_port/"
printf "  %5s  %15s  %13s\n" round until-serving-s push-returns-s
serving=()
returns=()
for round in $(seq 1 "$ROUNDS"); do
  text="push $round"
  echo "$text" >"$repo/VERSION"
  bench_commit "$repo" "$text"
  t0=$(bench_now)
  bench_push "$repo" "$env" &
  push_pid=$!
  until curl -s --max-time 2 --cacert "$data/ca.pem" -u ":$DOPPEL_API_KEY" "$url" | grep -q "release $text"; do
    if ! kill -0 "$push_pid" 2>/dev/null; then
      wait "$push_pid" || { echo "round $round: the push failed" >&2; exit 1; }
    fi
    sleep 0.02
  done
  t1=$(bench_now)
  wait "$push_pid" || { echo "round $round: the push failed" >&2; exit 1; }
  t2=$(bench_now)
  serving+=("$(echo "$t1 - $t0" | bc -l)")
  returns+=("$(echo "$t2 - $t0" | bc -l)")
  printf "  %5d  %15.2f  %13.2f\n" "$round" "${serving[-1]}" "${returns[-1]}"
done
read -r s_median s_worst < <(bench_median_worst "${serving[@]}")
read -r r_median r_worst < <(bench_median_worst "${returns[@]}")
printf "  until serving: median %.2f s, worst %.2f s (target: under 2 s)\n" "$s_median" "$s_worst"
printf "  push returns: median %.2f s, worst %.2f s\n" "$r_median" "$r_worst"

echo "== 3. memory of doppel server, idle with ten apps deployed"
for i in $(seq 1 9); do
  "$BIN" apps:create "mem$i" >/dev/null 2>&1
  bench_push "$repo" "mem$i-staging"
done
dynos=$(docker ps -q --filter "label=doppel.instance=$(cat "$data/instance-id")" --filter label=doppel.role=dyno | wc -l)
sleep "$IDLE"
# mb PID FIELD: a /proc/PID/status field (VmRSS, VmHWM) in MB; pss PID: its proportional
# set size (pages shared with the other process, the same binary, count half) in MB.
mb() { awk -v f="$2:" '$1 == f {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
pss() { awk '$1 == "Pss:" {printf "%.1f", $2 / 1024}' "/proc/$1/smaps_rollup"; }
router_pid=$(bench_router_pid)
[ -n "$router_pid" ] || { echo "no router process (no $data/router/router.pid)" >&2; exit 1; }
server_mb=$(mb "$server_pid" VmRSS)
router_mb=$(mb "$router_pid" VmRSS)
server_pss=$(pss "$server_pid")
router_pss=$(pss "$router_pid")
children=$( (pgrep -P "$server_pid"; pgrep -P "$router_pid") | grep -cvx "$router_pid" || true)
printf "  %d dynos running, after %d s idle (target: under 40 MB together):\n" "$dynos" "$IDLE"
printf "  doppel server: RSS %s MB (peak %s), PSS %s MB\n" "$server_mb" "$(mb "$server_pid" VmHWM)" "$server_pss"
printf "  doppel router: RSS %s MB (peak %s), PSS %s MB\n" "$router_mb" "$(mb "$router_pid" VmHWM)" "$router_pss"
printf "  together: RSS %.1f MB, PSS %.1f MB; %d other child processes\n" \
  "$(echo "$server_mb + $router_mb" | bc -l)" "$(echo "$server_pss + $router_pss" | bc -l)" "$children"
