#!/usr/bin/env bash
# Upgrades doppel in place under a running systemd while an app is under load, and refuses
# the downgrade after it. Run by deploy/check-deploy.sh --with-systemd (step e); by hand:
#
#   deploy/check-upgrade.sh SYSTEMD_IMAGE PACKAGE.deb
#
# SYSTEMD_IMAGE: the stack's run image with systemd, wrk and sqlite3 (check-deploy.sh makes
# it). PACKAGE.deb: package N (deploy/package.sh --profile debug); package N+1 is the same
# binary packaged again as <version>+upgrade1 (DOPPEL_PACKAGE_VERSION).
#
# The container shares the host's network (the router reaches the dynos on the host engine's
# bridge networks) and its Docker engine; the data directory is a host directory mounted at the
# same path, so the paths the server hands the engine (build caches) exist there. Steps:
#  1. install N: postinst starts doppel-router.service and doppel.service;
#  2. from the host: create an app through the API, git push the env-echo fixture, wait until
#     it serves through the router;
#  3. wrk requests the app over HTTPS (keep-alive, 8 connections) while N+1 is installed:
#     postinst reloads the router (the new binary takes over its sockets) and restarts the
#     control plane, which runs the migrations (one is taken back from N's store first, as N+1
#     is the same build) and names the new package when it serves;
#     wrk must see no socket error and no non-2xx response;
#  4. installing N again is refused by N+1's prerm; N+1 stays installed and running;
#  5. a store holding a migration this build lacks (as a newer doppel leaves it): the server
#     refuses to start, saying so in the journal, with exit status 78, which doppel.service
#     does not restart on; without it, it serves again.
# Everything this installation made on the engine (dynos, networks, images) is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib.sh

[ $# -eq 2 ] || { log "usage: deploy/check-upgrade.sh SYSTEMD_IMAGE PACKAGE.deb"; exit 2; }
image=$1
deb_n=$(realpath "$2")
version_n=$(dpkg-deb -f "$deb_n" Version)
version_n1="$version_n+upgrade1"
deb_n1=$(DOPPEL_PACKAGE_VERSION="$version_n1" deploy/package.sh --profile debug --no-build)
[ "$(dirname "$deb_n1")" = "$(dirname "$deb_n")" ] || { log "N and N+1 should sit side by side"; exit 1; }
# How long wrk runs: the upgrade must be done well within it.
WRK_SECONDS=${DOPPEL_UPGRADE_WRK_SECONDS:-45}
APP=upgr
ENV="$APP-staging"

container="doppel-check-upgrade-$$"
scratch=$(mktemp -d)
# Not under /tmp or /var/tmp: doppel-router.service has a private /tmp and /var/tmp.
data=$(mktemp -d /var/lib/doppel-check-upgrade.XXXXXX)
chmod 0711 "$data"
read -r https_port http_port rendezvous_port < <(python3 - <<'PY'
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))
PY
)
cleanup() {
  docker rm -f "$container" >/dev/null 2>&1 || true
  if [ -s "$data/instance-id" ]; then
    local id label
    id=$(cat "$data/instance-id")
    label="label=doppel.instance=$id"
    docker ps -aq --filter "$label" | xargs -r docker rm -f >/dev/null 2>&1 || true
    docker network ls -q --filter "$label" | xargs -r docker network rm >/dev/null 2>&1 || true
    docker images -q --filter "reference=doppel/app-$id-*" | xargs -r docker rmi -f >/dev/null 2>&1 || true
    docker volume ls -q --filter "$label" | xargs -r docker volume rm >/dev/null 2>&1 || true
  fi
  rm -rf "$data" "$scratch" "$deb_n1"
}
trap cleanup EXIT

in_box() { docker exec -i "$container" "$@"; }
journal() { in_box journalctl --no-pager -o cat -u "$1" 2>/dev/null || true; }
fail() {
  log "check-upgrade: $*"
  journal doppel-router | tail -n 20 >&2
  journal doppel | tail -n 40 >&2
  exit 1
}

docker run -d --name "$container" --network host --cap-add SYS_ADMIN \
  --add-host "$ENV.localhost:127.0.0.1" \
  --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
  --tmpfs /run --tmpfs /run/lock -v /sys/fs/cgroup:/sys/fs/cgroup:ro \
  -v /var/run/docker.sock:/var/run/docker.sock -v "$data:$data" \
  -v "$(dirname "$deb_n"):/pkg:ro" --entrypoint /lib/systemd/systemd "$image" >/dev/null
booted=no
for _ in $(seq 1 30); do
  case "$(in_box systemctl is-system-running 2>/dev/null || true)" in
    running | degraded) booted=yes; break ;;
  esac
  sleep 1
done
[ "$booted" = yes ] || { docker logs "$container" 2>&1 | tail -n 20 >&2; fail "systemd did not boot"; }

# apt_in_box DEB: apt-get install of a package file in the container; its output in /tmp/apt.log.
apt_in_box() {
  in_box env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    --allow-downgrades -o Dpkg::Options::=--force-confold "/pkg/$(basename "$1")" >"$scratch/apt.log" 2>&1
}
api() {
  curl -sS --fail-with-body --max-time 30 --cacert "$data/ca.pem" \
    -H 'Accept: application/vnd.heroku+json; version=3' \
    -H "Authorization: Bearer $(cat "$data/admin-token")" "$@"
}
platform="https://localhost:$https_port"
app_url="https://$ENV.localhost:$https_port/"
app_get() {
  curl -sS --max-time 10 --cacert "$data/ca.pem" --resolve "$ENV.localhost:$https_port:127.0.0.1" \
    -u "user:$(cat "$data/admin-token")" "$app_url"
}
# wait_for SECONDS COMMAND...: polls COMMAND once a second until it succeeds.
wait_for() {
  local secs=$1
  shift
  for _ in $(seq 1 "$secs"); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 1
  done
  return 1
}
serving_as() { journal doppel | grep -qF "(package $1) is serving"; }
app_serves() { app_get | grep -q GREETING=; }
refusal_logged() { journal doppel | grep -q 'newer than this doppel'; }

# ---- 1. package N ----
mkdir -p "$data"
in_box mkdir -p /etc/doppel
in_box tee /etc/doppel/doppel.toml >/dev/null <<TOML
data-dir = "$data"
bind = "127.0.0.1"
https-port = $https_port
http-port = $http_port
rendezvous-port = $rendezvous_port
default-stack = "debian-12"
TOML
apt_in_box "$deb_n" || { cat "$scratch/apt.log" >&2; fail "installing $version_n failed"; }
wait_for 90 serving_as "$version_n" || fail "doppel $version_n did not start serving"
wait_for 30 api "$platform/account" || fail "the API does not answer at $platform"
log "check-upgrade: doppel $version_n runs under systemd (router and control plane)"

# ---- 2. an app ----
api -X POST -H 'Content-Type: application/json' -d "{\"name\":\"$APP\"}" "$platform/apps" >/dev/null \
  || fail "creating the app failed"
src="$scratch/app"
mkdir "$src"
cp -a tests/fixtures/apps/env-echo/. "$src"
(
  cd "$src"
  git init -q -b main
  git add -A
  git -c user.name=check -c user.email=check@localhost commit -qm "env-echo"
  GIT_SSL_CAINFO="$data/ca.pem" GIT_TERMINAL_PROMPT=0 git push -q "https://git:$(cat "$data/admin-token")@localhost:$https_port/$ENV.git" main
) >"$scratch/push.log" 2>&1 || { cat "$scratch/push.log" >&2; fail "git push failed"; }
wait_for 180 app_serves || fail "the app does not serve at $app_url"
log "check-upgrade: $ENV serves through the router"

# ---- 3. upgrade to N+1 under load ----
# N+1 is N's binary, so its store needs nothing new: take one migration back (the one that
# only adds the schema_writers table) as if N predated it, so the upgrade has one to run.
MIGRATION=20261209400001
in_box sqlite3 "$data/doppel.db" "DROP TABLE schema_writers; DELETE FROM _sqlx_migrations WHERE version = $MIGRATION"
router_pid=$(in_box systemctl show doppel-router -p MainPID --value)
server_pid=$(in_box systemctl show doppel -p MainPID --value)
auth=$(printf 'user:%s' "$(cat "$data/admin-token")" | base64 -w0)
# Counts the answers by status, and keeps the first failure's, so a loss says what it was.
in_box tee /tmp/statuses.lua >/dev/null <<'LUA'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {}; first_bad = "" end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status >= 300 and first_bad == "" then first_bad = status .. " " .. tostring(body):sub(1, 300) end
end
function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("statuses")) do io.write(string.format("status %d: %d\n", status, n)) end
    local bad = t:get("first_bad")
    if bad ~= "" then io.write("first failure: " .. bad .. "\n") end
  end
end
LUA
docker exec -d "$container" sh -c "wrk -t2 -c8 -d${WRK_SECONDS}s -s /tmp/statuses.lua -H 'Authorization: Basic $auth' '$app_url' >/tmp/wrk.txt 2>&1; echo done >>/tmp/wrk.txt"
sleep 5
upgrade_started=$SECONDS
apt_in_box "$deb_n1" || { cat "$scratch/apt.log" >&2; fail "upgrading to $version_n1 failed"; }
if grep -q 'could not' "$scratch/apt.log"; then cat "$scratch/apt.log" >&2; fail "postinst could not restart a unit"; fi
wait_for 60 serving_as "$version_n1" || fail "doppel $version_n1 did not come back"
wait_for 30 api "$platform/account" || fail "the API does not answer after the upgrade"
upgrade_took=$((SECONDS - upgrade_started))
[ "$(in_box dpkg-query -W -f='${Version}' doppel)" = "$version_n1" ] || fail "doppel $version_n1 is not the installed package"
[ "$(in_box sqlite3 "$data/doppel.db" "SELECT COUNT(*) FROM _sqlx_migrations WHERE version = $MIGRATION AND success")" = 1 ] \
  || fail "the upgrade did not apply migration $MIGRATION"
in_box sqlite3 "$data/doppel.db" "SELECT doppel_version FROM schema_writers" | grep -q . || fail "the migrated store recorded no doppel version"
[ "$(in_box systemctl show doppel-router -p MainPID --value)" != "$router_pid" ] || fail "the router was not handed over to the new binary"
[ "$(in_box systemctl show doppel -p MainPID --value)" != "$server_pid" ] || fail "the control plane was not restarted"
in_box systemctl is-active --quiet doppel-router || fail "doppel-router.service is not active after the upgrade"
journal doppel-router | grep -q 'router upgraded: pid' || fail "the router's journal says nothing of the hand-over"
log "check-upgrade: upgraded to $version_n1 in $upgrade_took s (router handed over, control plane restarted, migration $MIGRATION applied)"
(( upgrade_took + 10 < WRK_SECONDS )) || fail "the upgrade took $upgrade_took s, too close to wrk's $WRK_SECONDS s: raise DOPPEL_UPGRADE_WRK_SECONDS"
wait_for $((WRK_SECONDS + 30)) in_box grep -q '^done$' /tmp/wrk.txt || fail "wrk did not finish"
wrk_out=$(in_box cat /tmp/wrk.txt)
printf '%s\n' "$wrk_out" >&2
requests=$(printf '%s\n' "$wrk_out" | sed -n 's/^ *\([0-9][0-9]*\) requests in .*/\1/p')
[ "${requests:-0}" -gt 0 ] || fail "wrk made no request"
if printf '%s\n' "$wrk_out" | grep -E 'Socket errors|Non-2xx or 3xx responses'; then
  fail "requests were lost during the upgrade (above)"
fi
log "check-upgrade: $requests requests during the upgrade, none lost"

# ---- 4. the downgrade is refused ----
if apt_in_box "$deb_n"; then cat "$scratch/apt.log" >&2; fail "installing $version_n over $version_n1 was accepted"; fi
grep -q "refusing to downgrade from $version_n1 to $version_n" "$scratch/apt.log" \
  || { cat "$scratch/apt.log" >&2; fail "the downgrade failed without saying why"; }
[ "$(in_box dpkg-query -W -f='${Version}' doppel)" = "$version_n1" ] || fail "the refused downgrade changed the installed package"
in_box systemctl is-active --quiet doppel || fail "the refused downgrade left doppel stopped"
app_serves || fail "the app stopped serving after the refused downgrade"
log "check-upgrade: installing $version_n over $version_n1 is refused; $version_n1 keeps running"

# ---- 5. a store a newer doppel migrated ----
in_box systemctl stop doppel
future=99999999999999
in_box sqlite3 "$data/doppel.db" \
  "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES ($future, 'from a newer doppel', 1, x'00', 0);
   INSERT INTO schema_writers (schema_version, doppel_version, first_opened_at) VALUES ($future, '9.9.9', '2030-01-01T00:00:00Z')"
in_box systemctl start doppel || true
wait_for 30 refusal_logged || fail "the server did not refuse a store with a migration it does not know"
refusal=$(journal doppel | grep -m1 'newer than this doppel')
for needle in "migrated by doppel 9.9.9 to schema $future" "newer than this doppel $(in_box doppel --version | cut -d' ' -f2) knows" \
  "Install doppel 9.9.9 or later" "admin:restore"; do
  printf '%s' "$refusal" | grep -qF "$needle" || fail "the refusal does not name $needle: $refusal"
done
# Exit status 78, which doppel.service does not restart on: one refusal, not one every 5 s.
sleep 7
[ "$(in_box systemctl show doppel -p ExecMainStatus --value)" = 78 ] || fail "the refusing server did not exit with status 78"
[ "$(in_box systemctl show doppel -p ActiveState --value)" = failed ] || fail "doppel.service is not failed after the refusal"
[ "$(journal doppel | grep -c 'newer than this doppel')" = 1 ] || fail "systemd restarted the refusing server"
in_box systemctl stop doppel
in_box sqlite3 "$data/doppel.db" "DELETE FROM _sqlx_migrations WHERE version = $future; DELETE FROM schema_writers WHERE schema_version = $future"
in_box systemctl reset-failed doppel 2>/dev/null || true
in_box systemctl start doppel
wait_for 60 api "$platform/account" || fail "doppel did not start again on its own store"
log "check-upgrade: a store migrated by a newer doppel is refused: ${refusal#doppel: }"
log "check-upgrade: passed"
