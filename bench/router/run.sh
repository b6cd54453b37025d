#!/usr/bin/env bash
# Benchmark of doppel's router against nginx, HAProxy and Caddy (Debian's packages) as reverse
# proxies in front of the same backend, with the same load generators (wrk; h2load for HTTP/2).
# Prints a markdown table (ratios to nginx) and the router-only figures: memory with 10,000
# routes, the time for a route change to take effect, requests lost across router upgrades.
#
#   bench/router/run.sh [--doppel PATH] [--duration SECONDS] [--rounds N] [--out FILE]
#                       [--proxies "nginx doppel"] [--rows "wrk https public,..."]
#
# `--proxies` may also name `plain` (plain-proxy/: the plainest reverse proxy on the libraries
# doppel uses, HTTPS public rows only), to tell the libraries' share from doppel's own.
#
# Besides req/s and latency, each row gives the proxy's own CPU time per request (its
# processes' user+system time during the run ÷ requests): on a shared or loaded machine,
# throughput swings with what else runs, the work a proxy does per request much less.
#
# Needs: wrk, nghttp2-client (h2load), nginx, haproxy, caddy, openssl, python3, curl
# (`apt-get install wrk nghttp2-client nginx haproxy caddy`), and a release build of doppel
# (`cargo build --release -p doppel`; the default path is $CARGO_TARGET_DIR or target/).
# Everything listens on 127.0.0.1 (ports 18000-19999) and is stopped at exit. Not a test:
# numbers depend on the machine; run it on a quiet one and quote the medians.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
doppel=$target/release/doppel
duration=10
rounds=3
out=
only_proxies=
only_rows=
while [ $# -gt 0 ]; do
    case $1 in
    --proxies) only_proxies=$2; shift 2 ;;
    --rows) only_rows=$2; shift 2 ;;
    --doppel) doppel=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
for tool in wrk h2load nginx haproxy caddy openssl python3 curl; do
    command -v "$tool" >/dev/null || { echo "missing $tool (see the header of $0)" >&2; exit 1; }
done
[ -x "$doppel" ] || { echo "no doppel binary at $doppel: cargo build --release -p doppel" >&2; exit 1; }

work=$(mktemp -d /tmp/doppel-router-bench.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    "$doppel" router --config /dev/null --data-dir "$work/doppel" --stop >/dev/null 2>&1 || true
    sleep 1
    rm -rf "$work"
}
trap cleanup EXIT

source "$here/configs.sh"

# name http-port https-port
proxies=("nginx 18080 18443" "haproxy 18180 18543" "caddy 18280 18643" "doppel 18380 18743")
plain=
case " $only_proxies " in *" plain "*)
    proxies+=("plain - 18843")
    cargo build --quiet --release --manifest-path "$here/plain-proxy/Cargo.toml" \
        --target-dir "${CARGO_TARGET_DIR:-$here/plain-proxy/target}"
    plain="${CARGO_TARGET_DIR:-$here/plain-proxy/target}/release/plain-proxy"
    ;;
esac
# plain-proxy forwards everything to the app: no private host, no redirect.
only_public_https() { [ "$1" = plain ]; }

wait_port() {
    for _ in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing listens on port $1" >&2
    return 1
}

declare -A pid_of
start() { # name, command...
    local name=$1; shift
    "$@" >"$work/$name.log" 2>&1 &
    pids+=($!)
    pid_of[$name]=$!
}

# CPU time (clock ticks, user+system) of a proxy's processes: the one started and its
# children (nginx's and HAProxy's workers), plus doppel's log reader (the control plane's
# share of every router log line).
cpu_ticks() { # name
    local name=$1 total=0 pid
    local list=("${pid_of[$name]}")
    mapfile -t -O 1 list < <(pgrep -P "${pid_of[$name]}" || true)
    [ "$name" = doppel ] && list+=("${pid_of[doppel-logs]}")
    for pid in "${list[@]}"; do
        [ -r "/proc/$pid/stat" ] || continue
        # Fields after the command's closing parenthesis: utime is the 12th, stime the 13th.
        total=$((total + $(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')))
    done
    echo "$total"
}

write_configs "$work"

start backend nginx -c "$work/backend.conf"
start nginx nginx -c "$work/nginx.conf"
start haproxy haproxy -f "$work/haproxy.cfg"
start caddy env HOME="$work" XDG_DATA_HOME="$work/caddy-data" XDG_CONFIG_HOME="$work/caddy-config" caddy run --config "$work/Caddyfile" --adapter caddyfile
start doppel "$doppel" router --config /dev/null --data-dir "$work/doppel" --bind 127.0.0.1 --http-port 18380 --https-port 18743
[ -z "$plain" ] || start plain "$plain" "$work/bench.crt" "$work/bench.key" 18843 "$BACKEND"
for p in 19001 18443 18543 18643 18743 ${plain:+18843}; do wait_port "$p"; done
python3 "$here/table.py" publish "$work/doppel" --public "$PUBLIC" --private "$PRIVATE" --backend "$BACKEND" --token "$TOKEN"
# The control plane reads the router's log lines; so does the benchmark (the cost is the router's).
start doppel-logs "$doppel" router --config /dev/null --data-dir "$work/doppel" --logs

check() { # proxy port scheme host [auth]
    local code
    code=$(curl -sk -o /dev/null -w '%{http_code}' -H "Host: $4" ${5:+-H "Authorization: $5"} "$3://127.0.0.1:$2/")
    echo "$code"
}
for spec in "${proxies[@]}"; do
    read -r name http https <<<"$spec"
    [ "$(check "$name" "$https" https "$PUBLIC")" = 200 ] || { echo "$name: public route does not answer 200" >&2; cat "$work/$name.log" >&2; exit 1; }
    only_public_https "$name" && continue
    [ "$(check "$name" "$https" https "$PRIVATE")" = 401 ] || { echo "$name: private route without credentials is not 401" >&2; exit 1; }
    [ "$(check "$name" "$https" https "$PRIVATE" "$AUTH")" = 200 ] || { echo "$name: private route with credentials is not 200" >&2; exit 1; }
    [ "$(check "$name" "$http" http "$PUBLIC")" = 301 ] || [ "$(check "$name" "$http" http "$PUBLIC")" = 308 ] || { echo "$name: plain HTTP does not redirect" >&2; exit 1; }
done

# One measurement: prints "rps p50_ms p99_ms errors cpu_us_per_request".
measure() { # proxy tool scheme port host auth
    local proxy=$1; shift
    local before after line seconds=$duration
    # h2load's warm-up second is served (and costs CPU) but not counted in its rate.
    [ "$1" = h2load ] && seconds=$((duration + 1))
    before=$(cpu_ticks "$proxy")
    line=$(measure_load "$@")
    after=$(cpu_ticks "$proxy")
    python3 "$here/parse.py" cpu "$line" "$((after - before))" "$(getconf CLK_TCK)" "$seconds"
}

measure_load() { # tool scheme port host auth
    local tool=$1 scheme=$2 port=$3 host=$4 auth=$5
    if [ "$tool" = wrk ]; then
        wrk -t1 -c50 -d"${duration}s" --latency -H "Host: $host" ${auth:+-H "Authorization: $auth"} \
            "$scheme://127.0.0.1:$port/" >"$work/last.txt" 2>&1
        python3 "$here/parse.py" wrk "$work/last.txt"
    else
        rm -f "$work/h2.log"
        h2load -c 50 -m 10 -t 1 --warm-up-time=1 -D "$duration" --log-file="$work/h2.log" \
            -H ":authority: $host" ${auth:+-H "authorization: $auth"} \
            "https://127.0.0.1:$port/" >"$work/last.txt" 2>&1
        python3 "$here/parse.py" h2load "$work/last.txt" "$work/h2.log"
    fi
}

rows=("wrk http public" "wrk http private" "wrk https public" "wrk https private" "h2load https public" "h2load https private")
if [ -n "$only_rows" ]; then IFS=, read -r -a rows <<<"$only_rows"; fi
if [ -n "$only_proxies" ]; then
    kept=()
    for spec in "${proxies[@]}"; do
        read -r name _ <<<"$spec"
        case " $only_proxies nginx " in *" $name "*) kept+=("$spec") ;; esac
    done
    proxies=("${kept[@]}")
fi
declare -A result
for round in $(seq 1 "$rounds"); do
    for row in "${rows[@]}"; do
        read -r tool scheme kind <<<"$row"
        for spec in "${proxies[@]}"; do
            read -r name http https <<<"$spec"
            only_public_https "$name" && [ "$scheme $kind" != "https public" ] && continue
            port=$https; [ "$scheme" = http ] && port=$http
            host=$PUBLIC; auth=
            if [ "$kind" = private ]; then host=$PRIVATE; auth=$AUTH; fi
            result["$row|$name|$round"]=$(measure "$name" "$tool" "$scheme" "$port" "$host" "$auth")
            echo "round $round: $row $name: ${result["$row|$name|$round"]}" >&2
        done
    done
done

{
    echo "| load | proxy | req/s (median) | p50 ms | p99 ms | req/s ÷ nginx | p99 ÷ nginx | CPU µs/req | CPU ÷ nginx |"
    echo "|---|---|---|---|---|---|---|---|---|"
    for row in "${rows[@]}"; do
        for spec in "${proxies[@]}"; do
            read -r name _ _ <<<"$spec"
            only_public_https "$name" && [[ "$row" != *"https public" ]] && continue
            samples=()
            for round in $(seq 1 "$rounds"); do samples+=("${result["$row|$name|$round"]}"); done
            nginx_samples=()
            for round in $(seq 1 "$rounds"); do nginx_samples+=("${result["$row|nginx|$round"]}"); done
            python3 "$here/parse.py" row "$row" "$name" "${samples[*]}" "${nginx_samples[*]}"
        done
    done
} | tee "$work/table.md"

echo
echo "Router figures:"
python3 "$here/table.py" memory "$work/doppel" --backend "$BACKEND" --routes 10000 --token "$TOKEN"
python3 "$here/table.py" change-latency "$work/doppel" --port 18743 --backend "$BACKEND" --routes 1
python3 "$here/table.py" change-latency "$work/doppel" --port 18743 --backend "$BACKEND" --routes 10000
python3 "$here/table.py" publish "$work/doppel" --public "$PUBLIC" --private "$PRIVATE" --backend "$BACKEND" --token "$TOKEN"

# Requests lost while the router is upgraded three times under load (target: none), and the
# same for nginx's graceful reload, for comparison.
restart_under_load() { # name port command...
    local name=$1 port=$2; shift 2
    wrk -t1 -c50 -d12s -H "Host: $PUBLIC" "https://127.0.0.1:$port/" >"$work/restart-$name.txt" 2>&1 &
    local load=$!
    for _ in 1 2 3; do sleep 3; "$@" >/dev/null; done
    wait $load
    python3 "$here/parse.py" errors "$name" "$work/restart-$name.txt"
}
restart_under_load doppel 18743 "$doppel" router --config /dev/null --data-dir "$work/doppel" --upgrade
restart_under_load nginx 18443 nginx -c "$work/nginx.conf" -s reload

if [ -n "$out" ]; then cp "$work/table.md" "$out"; fi
