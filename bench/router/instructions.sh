#!/usr/bin/env bash
# Instructions per request of doppel's router and of nginx, counted by valgrind's callgrind in
# front of the same backend, with the configurations of run.sh. Unlike CPU time, the count does
# not move with whatever else runs on a shared VM, so it is the figure to compare builds with.
#
#   bench/router/instructions.sh [--doppel PATH] [--requests N]
#                                [--proxies "nginx nginx-dokku nginx-heroku plain doppel"]
#                                [--rows "h2 public,h2 private,h1 public"]
#
# Besides nginx as run.sh configures it, two references tell what doppel's figure is made of:
# `nginx-dokku` and `nginx-heroku` (configs.sh: nginx as Dokku writes it, and nginx doing the
# per-request work doppel's router does: a Heroku-format log line, request ids, Via), and
# `plain` (plain-proxy/: the plainest reverse proxy on the libraries doppel uses, public rows
# only; built here on first use).
#
# Each proxy runs under callgrind twice, serving N then 3N requests from `h2load -c50` (`-m10`
# over HTTP/2, `--h1` for HTTP/1.1 over TLS); the difference of the two totals over 2N is the
# count per request, so start-up, TLS handshakes and shutdown cancel out. User-space
# instructions only (the kernel's TCP work is about the same for both: see docs/router.md).
# doppel's log reader (`doppel router --logs`, the control plane's share) runs outside
# valgrind and is not counted. Needs valgrind, nghttp2-client, nginx, openssl, python3, curl.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
doppel=${CARGO_TARGET_DIR:-$root/target}/release/doppel
requests=10000
only_proxies="nginx doppel"
rows=("h2 public" "h2 private" "h1 public")
while [ $# -gt 0 ]; do
    case $1 in
    --doppel) doppel=$2; shift 2 ;;
    --requests) requests=$2; shift 2 ;;
    --proxies) only_proxies=$2; shift 2 ;;
    --rows) IFS=, read -r -a rows <<<"$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
for tool in valgrind callgrind_annotate h2load nginx openssl python3 curl; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install valgrind nghttp2-client nginx)" >&2; exit 1; }
done
[ -x "$doppel" ] || { echo "no doppel binary at $doppel: cargo build --release -p doppel" >&2; exit 1; }

plain=
case " $only_proxies " in *" plain "*)
    plain_dir="$here/plain-proxy"
    plain_target=${CARGO_TARGET_DIR:-$plain_dir/target}
    cargo build --quiet --release --manifest-path "$plain_dir/Cargo.toml" --target-dir "$plain_target"
    plain="$plain_target/release/plain-proxy"
    ;;
esac

work=$(mktemp -d /tmp/doppel-router-instr.XXXXXX)
# nginx's workers run as nobody and write their own profiles.
chmod 1777 "$work"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    pkill -f "valgrind.*$work" 2>/dev/null || true
    sleep 1
    rm -rf "$work"
}
trap cleanup EXIT

source "$here/configs.sh"
write_configs "$work"
nginx -c "$work/backend.conf" >"$work/backend.log" 2>&1 &
pids+=($!)

wait_answer() { # port
    for _ in $(seq 1 200); do
        curl -sk -o /dev/null -H "Host: $PUBLIC" "https://127.0.0.1:$1/" && return 0
        sleep 0.2
    done
    echo "nothing answers on port $1" >&2
    return 1
}

# Starts the proxy under callgrind; sets $under to the valgrind pid and $port.
start_proxy() { # name
    rm -f "$work"/cg.out.*
    # The allocator's options set as doppel sets them, so it does not run itself again.
    case $1 in
    nginx*)
        port=18443
        setsid valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$work/cg.out.%p" \
            nginx -c "$work/$1.conf" >"$work/nginx.log" 2>&1 &
        ;;
    plain)
        port=18543
        setsid valgrind --tool=callgrind --callgrind-out-file="$work/cg.out.%p" \
            "$plain" "$work/bench.crt" "$work/bench.key" "$port" "$BACKEND" >"$work/plain.log" 2>&1 &
        ;;
    doppel)
        port=18743
        MIMALLOC_ARENA_EAGER_COMMIT=0 MIMALLOC_PURGE_DELAY=0 setsid valgrind --tool=callgrind \
            --trace-children=yes --callgrind-out-file="$work/cg.out.%p" \
            "$doppel" router --config /dev/null --data-dir "$work/doppel" --bind 127.0.0.1 \
            --http-port 18380 --https-port 18743 >"$work/doppel.log" 2>&1 &
        ;;
    esac
    under=$!
    if [ "$1" = doppel ]; then
        for _ in $(seq 1 200); do [ -S "$work/doppel/router/control.sock" ] && break; sleep 0.2; done
        python3 "$here/table.py" publish "$work/doppel" --public "$PUBLIC" --private "$PRIVATE" \
            --backend "$BACKEND" --token "$TOKEN" >/dev/null
        MIMALLOC_ARENA_EAGER_COMMIT=0 MIMALLOC_PURGE_DELAY=0 \
            "$doppel" router --config /dev/null --data-dir "$work/doppel" --logs >/dev/null 2>&1 &
        logs=$!
    fi
    wait_answer "$port"
}

stop_proxy() { # name
    if [ "$1" = doppel ]; then
        kill "$logs" 2>/dev/null || true
        MIMALLOC_ARENA_EAGER_COMMIT=0 MIMALLOC_PURGE_DELAY=0 \
            "$doppel" router --config /dev/null --data-dir "$work/doppel" --stop >/dev/null 2>&1 || true
    else
        kill -TERM "$under" 2>/dev/null || true
    fi
    for _ in $(seq 1 100); do kill -0 "$under" 2>/dev/null || break; sleep 0.2; done
    sleep 1
}

# Total instructions of one proxy serving `n` requests of one row.
total() { # name n proto kind
    local name=$1 n=$2 proto=$3 kind=$4 host=$PUBLIC auth= sum=0 t f
    [ "$kind" = private ] && { host=$PRIVATE; auth=$AUTH; }
    start_proxy "$name"
    local mode=(-m 10)
    [ "$proto" = h1 ] && mode=(--h1 -m 1)
    h2load -c 50 "${mode[@]}" -t 1 -n "$n" -H ":authority: $host" ${auth:+-H "authorization: $auth"} \
        "https://127.0.0.1:$port/" >"$work/load.txt" 2>&1
    grep -q "succeeded, 0 failed" "$work/load.txt" || { echo "$name: failed requests" >&2; cat "$work/load.txt" >&2; exit 1; }
    stop_proxy "$name"
    for f in "$work"/cg.out.*; do
        t=$(callgrind_annotate "$f" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}')
        sum=$((sum + ${t:-0}))
    done
    echo "$sum"
}

echo "| load | proxy | instructions per request | ÷ nginx |"
echo "|---|---|---|---|"
for row in "${rows[@]}"; do
    read -r proto kind <<<"$row"
    nginx_count=
    for name in nginx nginx-dokku nginx-heroku plain doppel; do
        case " $only_proxies nginx " in *" $name "*) ;; *) continue ;; esac
        [ "$name" = plain ] && [ "$kind" != public ] && continue
        a=$(total "$name" "$requests" "$proto" "$kind")
        b=$(total "$name" $((3 * requests)) "$proto" "$kind")
        count=$(((b - a) / (2 * requests)))
        [ "$name" = nginx ] && nginx_count=$count
        ratio=$(python3 -c "print(f'{$count / $nginx_count:.2f}')")
        echo "| $proto https $kind | $name | $count | $ratio |"
    done
done
