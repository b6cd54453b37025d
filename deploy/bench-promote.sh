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
# (`doppel stack build debian-12`). Removes every container, network and image it made
# (deploy/bench-lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-10}
source deploy/bench-lib.sh
bench_start_server
"$BIN" apps:create bench >/dev/null 2>&1

repo="$data/app"
bench_app_repo "$repo"
bench_push "$repo" bench-staging
echo two >"$repo/VERSION"
bench_commit "$repo" two
bench_push "$repo" bench-staging
# The first promotion also makes production's network and formation.
"$BIN" promote -p bench --release v1 >"$data/promote.log" 2>&1 || { cat "$data/promote.log" >&2; exit 1; }

url="https://bench.localhost:$https_port/"
echo "round  release  until-serving-s  promote-command-s"
serving_times=()
for round in $(seq 1 "$ROUNDS"); do
  if [ $((round % 2)) -eq 1 ]; then release=v2 text="release two"; else release=v1 text="release one"; fi
  t0=$(bench_now)
  "$BIN" promote -p bench --release "$release" >/dev/null 2>"$data/promote.err" &
  promote_pid=$!
  until curl -s --max-time 2 --cacert "$data/ca.pem" "$url" | grep -q "$text"; do
    kill -0 "$promote_pid" 2>/dev/null || curl -s --cacert "$data/ca.pem" "$url" | grep -q "$text" \
      || { wait "$promote_pid" || cat "$data/promote.err" >&2; echo "round $round: not serving $text" >&2; exit 1; }
    sleep 0.02
  done
  t1=$(bench_now)
  wait "$promote_pid" || { cat "$data/promote.err" >&2; exit 1; }
  t2=$(bench_now)
  serving_s=$(echo "$t1 - $t0" | bc -l)
  command_s=$(echo "$t2 - $t0" | bc -l)
  serving_times+=("$serving_s")
  printf "%5d  %-7s  %15.2f  %17.2f\n" "$round" "$release" "$serving_s" "$command_s"
done
read -r median worst < <(bench_median_worst "${serving_times[@]}")
printf "until serving: median %.2f s, worst %.2f s over %d promotions (target: under 3 s)\n" \
  "$median" "$worst" "$ROUNDS"
