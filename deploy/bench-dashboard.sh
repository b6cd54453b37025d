#!/usr/bin/env bash
# The dashboard's speed with 50 apps (docs/dashboard.md): a throwaway `doppel server` (use a
# release build), 50 apps (100 environments), the first one deployed to staging with 30
# releases and its production given 200 config changes to 100 keys (a full activity page);
# then, signed in as the admin over HTTPS with keep-alive, each main page fetched N times:
# its size in bytes and its time to the last byte (p50, p99), printed beside the targets
# (under 100 KB, well under a second). Exits 1 when a page misses them.
#
#   cargo build --release -p doppel
#   DOPPEL_BIN=$CARGO_TARGET_DIR/release/doppel deploy/bench-dashboard.sh [N]   # N: 200
# BENCH_APPS sets the number of apps (50), BENCH_RELEASES staging's releases (30);
# BENCH_DUMP=DIR keeps each page measured there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=deploy/bench-lib.sh
source "$here/bench-lib.sh"

runs=${1:-200}
apps=${BENCH_APPS:-50}
bench_start_server
api() { # api METHOD PATH [JSON]
  curl -sf --cacert "$data/ca.pem" -X "$1" -H "Authorization: Bearer $DOPPEL_API_KEY" \
    -H "Accept: application/vnd.heroku+json; version=3" -H "Content-Type: application/json" \
    ${3:+-d "$3"} "$DOPPEL_HOST$2" >/dev/null
}

echo "== $apps apps ($((apps * 2)) environments)"
for i in $(seq 1 "$apps"); do
  api POST /apps "$(printf '{"name": "app-%02d"}' "$i")"
done
bench_app_repo "$data/app"
bench_push "$data/app" app-01-staging
for i in $(seq 1 200); do
  api PATCH /apps/app-01/config-vars "{\"KEY_$((i % 100))\": \"value-$i\"}"
done
# Staging's releases: each config change is one (and a rollout).
for i in $(seq 2 "${BENCH_RELEASES:-30}"); do
  api PATCH /apps/app-01-staging/config-vars "{\"STEP\": \"$i\"}"
done

echo "== $runs fetches of each page, signed in as admin@localhost"
python3 - "$https_port" "$data" "$runs" "$apps" <<'EOF'
"""Signs in to the dashboard and times each main page (time to the last byte)."""
import http.client, os, re, ssl, sys, time, urllib.parse

port, data, runs = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
host = f"dashboard.localhost:{port}"
ctx = ssl.create_default_context(cafile=f"{data}/ca.pem")
cookies = {}


class Conn(http.client.HTTPSConnection):
    """Connects to loopback whatever the name (every *.localhost is loopback)."""

    def connect(self):
        import socket
        self.sock = self._context.wrap_socket(
            socket.create_connection(("127.0.0.1", port)), server_hostname="dashboard.localhost")


conn = Conn("dashboard.localhost", port, context=ctx)


def fetch(method, path, body=None):
    headers = {"Host": host, "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Origin"] = f"https://{host}"
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    content = r.read()
    for value in r.headers.get_all("Set-Cookie") or []:
        name, _, rest = value.partition("=")
        cookies[name] = rest.split(";", 1)[0]
    return r.status, content


status, form = fetch("GET", "/login")
token = re.search(rb'name="_csrf" value="([^"]+)"', form).group(1).decode()
password = open(f"{data}/admin-password").read().strip()
body = urllib.parse.urlencode({"_csrf": token, "next": "/", "email": "admin@localhost",
                               "password": password})
status, _ = fetch("POST", "/login", body)
assert status == 303, f"sign-in answered {status}"

pages = [
    (f"apps ({sys.argv[4]} apps)", "/"),
    ("pipeline", "/apps/app-01"),
    (f"releases ({os.environ.get('BENCH_RELEASES', '30')})", "/envs/app-01-staging/releases"),
    ("config vars (100)", "/envs/app-01/config"),
    ("resources", "/envs/app-01-staging/resources"),
    ("activity (200 events)", "/apps/app-01/activity"),
    ("logs", "/envs/app-01-staging/logs"),
    ("access", "/envs/app-01/access"),
    ("users", "/users"),
    ("account", "/account"),
]
print(f"{'page':<24} {'bytes':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}   {'target: < 100 KB, well under 1000 ms':<38} title")
worst_ok = True
for name, path in pages:
    times, size = [], 0
    for i in range(runs + 5):
        start = time.perf_counter()
        status, content = fetch("GET", path)
        took = (time.perf_counter() - start) * 1000
        assert status == 200, f"{path} answered {status}"
        assert b"Sign in to doppel" not in content, f"{path}: signed out"
        if i >= 5:  # the first few warm up
            times.append(took)
        size = len(content)
    if os.environ.get("BENCH_DUMP"):  # keep each page, to see what was measured
        with open(os.path.join(os.environ["BENCH_DUMP"], f"{name.split()[0]}.html"), "wb") as f:
            f.write(content)
    times.sort()
    p50 = times[len(times) // 2]
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    ok = size < 100 * 1024 and p99 < 1000
    worst_ok &= ok
    title = re.search(rb"<title>([^<]*)</title>", content)
    title = title.group(1).decode() if title else "?"
    verdict = "ok" if ok else "MISSED"
    print(f"{name:<24} {size:>8} {p50:>8.1f} {p99:>8.1f} {times[-1]:>8.1f}   {verdict:<38} {title}")
sys.exit(0 if worst_ok else 1)
EOF
