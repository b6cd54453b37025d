#!/usr/bin/env bash
# buildpacks/test/run.sh: end-to-end check of doppel's buildpacks with the real Docker engine.
#
# Usage: buildpacks/test/run.sh [BUILD_IMAGE] [RUN_IMAGE]
#   (defaults: doppel-exp/build:latest doppel-exp/run:latest; the build image needs a
#   uid-1000 user and python3, python3-venv, node, npm; the run image python3, node, bash).
# For each fixture app in tests/fixtures/apps it does what doppel-builder does: creates a
# build container (uid 1000, network host, CA bundle mounted read-only, STACK,
# SOURCE_VERSION, HOME and the CA env vars), copies the app to /app and the buildpacks to
# /tmp/buildpacks, runs /tmp/buildpacks/bin/doppel-build, checks /tmp/doppel-result.json,
# then copies /app into a container of the run image with doppel-launch at
# /usr/local/bin, starts the web process (`doppel-launch bash -c "<cmd>"`, PORT=5000) and
# curls it from the host. It also checks the failure paths (failing compile, nothing
# detected, unknown buildpack), a second, cached build, and a `web: npm start` app served
# by the npm the nodejs buildpack vendors into the slug (rebuilt offline from the cache).
# Env: CA_BUNDLE (default /etc/ssl/certs/ca-certificates.crt), KEEP=1 keeps containers.
set -euo pipefail

BUILD_IMAGE=${1:-doppel-exp/build:latest}
RUN_IMAGE=${2:-doppel-exp/run:latest}
CA_BUNDLE=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILDPACKS=$(cd "$HERE/.." && pwd)
FIXTURES=$(cd "$HERE/../../tests/fixtures/apps" && pwd)
PREFIX="doppel-bptest-$$"
WORKDIR=$(mktemp -d "/tmp/$PREFIX.XXXXXX")
CONTAINERS=()
PASSED=()
FAILED=()

cleanup() {
  if [[ "${KEEP:-}" != "1" ]]; then
    local c
    for c in "${CONTAINERS[@]}"; do
      docker rm -f "$c" >/dev/null 2>&1 || true
    done
    rm -rf "$WORKDIR"
  else
    echo "KEEP=1: left containers ${CONTAINERS[*]} and $WORKDIR"
  fi
}
trap cleanup EXIT

say() { printf '\n=== %s\n' "$*"; }
pass() { echo "PASS: $*"; PASSED+=("$*"); }
fail() { echo "FAIL: $*"; FAILED+=("$*"); }

ca_args=()
if [[ -f "$CA_BUNDLE" ]]; then
  ca_args=(-v "$CA_BUNDLE:/etc/ssl/certs/ca-certificates.crt:ro"
    -e SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
    -e PIP_CERT=/etc/ssl/certs/ca-certificates.crt
    -e REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
    -e NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
    -e npm_config_cafile=/etc/ssl/certs/ca-certificates.crt)
fi

# new_cache NAME: a host directory, writable by uid 1000, mounted as /cache.
new_cache() {
  local dir="$WORKDIR/cache-$1"
  mkdir -p "$dir"
  chown 1000:1000 "$dir"
  echo "$dir"
}

# build SRC_DIR CACHE_DIR LOG: runs doppel-build on a copy of SRC_DIR in a fresh build
# container; sets BUILD_CTR and BUILD_STATUS; the transcript goes to LOG and stdout.
# BUILD_NETWORK (default host) is the container's network (`none` proves a build offline).
build() {
  local src=$1 cache=$2 log=$3
  BUILD_CTR="$PREFIX-build-$(basename "$src")-$RANDOM"
  CONTAINERS+=("$BUILD_CTR")
  docker run -d --name "$BUILD_CTR" -u 1000:1000 --network "${BUILD_NETWORK:-host}" "${ca_args[@]}" \
    -e STACK="${STACK:-debian-testing}" -e DOPPEL_STACK_PYTHONS="debian-12=3.11 debian-13=3.13 debian-testing=3.13,3.14,3.15" -e SOURCE_VERSION=0123456789abcdef0123456789abcdef01234567 -e HOME=/app \
    -v "$cache:/cache" --entrypoint sleep "$BUILD_IMAGE" infinity >/dev/null
  docker exec -u 0 "$BUILD_CTR" sh -c 'rm -rf /app /tmp/buildpacks && mkdir -p /app /tmp/env'
  docker cp "$src/." "$BUILD_CTR:/app"
  docker cp "$BUILDPACKS" "$BUILD_CTR:/tmp/buildpacks"
  docker exec -u 0 "$BUILD_CTR" sh -c 'printf "from the env dir" > /tmp/env/GREETING &&
    chown -R 1000:1000 /app /tmp/env && chown -R 0:0 /tmp/buildpacks && chmod -R go-w /tmp/buildpacks'
  BUILD_STATUS=0
  docker exec "$BUILD_CTR" /tmp/buildpacks/bin/doppel-build 2>&1 | tee "$log" || BUILD_STATUS=${PIPESTATUS[0]}
}

# web_command SRC_DIR: the Procfile's web command, else the result's default web.
web_command() {
  local src=$1 line
  if [[ -f "$src/Procfile" ]]; then
    while IFS= read -r line || [[ -n "$line" ]]; do
      if [[ "$line" =~ ^[[:space:]]*web[[:space:]]*:[[:space:]]*(.*)$ ]]; then
        echo "${BASH_REMATCH[1]}"
        return
      fi
    done <"$src/Procfile"
  fi
  docker exec "$BUILD_CTR" cat /tmp/doppel-result.json | jq -r '.default_process_types.web // empty'
}

# serve_and_curl APP SRC_DIR EXPECTED_BODY: runs the web process of the built app on the
# run image and checks GET / from the host.
serve_and_curl() {
  local app=$1 src=$2 expected=$3 cmd run ip body="" i
  cmd=$(web_command "$src")
  if [[ -z "$cmd" ]]; then
    fail "$app: no web command"
    return
  fi
  run="$PREFIX-run-$app"
  CONTAINERS+=("$run")
  docker create --name "$run" -u 1000:1000 -e PORT=5000 -e GREETING=from-config \
    --entrypoint /usr/local/bin/doppel-launch "$RUN_IMAGE" bash -c "$cmd" >/dev/null
  docker cp "$BUILD_CTR:/app" - | docker cp - "$run:/"
  docker cp "$BUILDPACKS/bin/doppel-launch" "$run:/usr/local/bin/doppel-launch"
  docker start "$run" >/dev/null
  ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$run")
  echo "web: doppel-launch bash -c $(printf %q "$cmd")  (container $run at $ip:5000)"
  for i in $(seq 1 60); do
    if body=$(curl -fsS --max-time 2 "http://$ip:5000/" 2>/dev/null); then
      break
    fi
    if [[ "$(docker inspect -f '{{.State.Running}}' "$run")" != "true" ]]; then
      break
    fi
    sleep 0.5
  done
  echo "GET / -> ${body:-<nothing>} (after ${i} tries)"
  if [[ "$body" == *"$expected"* ]]; then
    pass "$app: web answers \"$expected\" on the run image"
  else
    fail "$app: web did not answer \"$expected\""
    docker logs "$run" 2>&1 | tail -n 20
  fi
}

# launcher_check APP EXPECTED -- ENV_ARGS... : runs `doppel-launch bash -c <probe>` in the
# running web container of APP with extra -e config vars; the probe prints
# "$PWD|$HOME|<var values>" and the output must equal EXPECTED.
launcher_check() {
  local app=$1 expected=$2 probe=$3 out
  shift 3
  out=$(docker exec "$@" "$PREFIX-run-$app" /usr/local/bin/doppel-launch bash -c "$probe" 2>&1 || true)
  if [[ "$out" == "$expected" ]]; then
    pass "$app: doppel-launch gives $out"
  else
    fail "$app: doppel-launch gave '$out', expected '$expected'"
  fi
}

# check_result NAME EXPECTED_BUILDPACK [EXPECTED_DEFAULT_WEB]
check_result() {
  local app=$1 want=$2 web=${3:-} json
  json=$(docker exec "$BUILD_CTR" cat /tmp/doppel-result.json 2>/dev/null || true)
  echo "/tmp/doppel-result.json: $json"
  if [[ "$(jq -r .buildpack <<<"$json" 2>/dev/null)" != "$want" ]]; then
    fail "$app: result buildpack is not $want"
    return
  fi
  if ! jq -e '.default_process_types | type == "object"' <<<"$json" >/dev/null; then
    fail "$app: result has no default_process_types object"
    return
  fi
  if [[ -n "$web" && "$(jq -r '.default_process_types.web // empty' <<<"$json")" != "$web" ]]; then
    fail "$app: default web is not $web"
    return
  fi
  pass "$app: result file names $want${web:+ with default web \`$web\`}"
}

# Success paths: python, node, static.
declare -A EXPECT_BP=([python]=Python [node]=Node.js [static]="Static HTML")
declare -A EXPECT_WEB=([python]="" [node]="node server.js" [static]="")
python_cache=$(new_cache python)
for app in python node static; do
  say "$app"
  cache=$python_cache
  [[ "$app" != python ]] && cache=$(new_cache "$app")
  start=$SECONDS
  build "$FIXTURES/$app" "$cache" "$WORKDIR/$app.log"
  echo "(build took $((SECONDS - start))s, exit $BUILD_STATUS)"
  if ((BUILD_STATUS != 0)); then
    fail "$app: doppel-build exited $BUILD_STATUS"
    continue
  fi
  pass "$app: doppel-build exited 0"
  check_result "$app" "${EXPECT_BP[$app]}" "${EXPECT_WEB[$app]}"
  if ! grep -q "^-----> ${EXPECT_BP[$app]} app detected$" "$WORKDIR/$app.log"; then
    fail "$app: transcript lacks '-----> ${EXPECT_BP[$app]} app detected'"
  fi
  serve_and_curl "$app" "$FIXTURES/$app" "hello from $app"
done

say "doppel-launch: .profile.d defaults, config vars win"
# shellcheck disable=SC2016 # expanded by the dyno's bash
launcher_check python '/app|/app|1|from-config|/app/.venv/bin/gunicorn' \
  'echo "$PWD|$HOME|$PYTHONUNBUFFERED|$GREETING|$(command -v gunicorn)"'
# shellcheck disable=SC2016
launcher_check python '0|de_DE.UTF-8' 'echo "$PYTHONUNBUFFERED|$LANG"' \
  -e PYTHONUNBUFFERED=0 -e LANG=de_DE.UTF-8
# shellcheck disable=SC2016
launcher_check node 'production|yes' \
  'echo "$NODE_ENV|$(case ":$PATH:" in *:/app/node_modules/.bin:*) echo yes;; *) echo no;; esac)"'
# shellcheck disable=SC2016
launcher_check node 'staging' 'echo "$NODE_ENV"' -e NODE_ENV=staging -w /tmp

say "node-npm-start (Procfile \`web: npm start\`: npm vendored into the slug)"
npm_cache=$(new_cache node-npm-start)
start=$SECONDS
build "$FIXTURES/node-npm-start" "$npm_cache" "$WORKDIR/node-npm-start.log"
echo "(first build took $((SECONDS - start))s, exit $BUILD_STATUS)"
if ((BUILD_STATUS == 0)) && grep -Eq '^       Installing npm [0-9]+\.[0-9]+\.[0-9]+ ' "$WORKDIR/node-npm-start.log" &&
  docker exec "$BUILD_CTR" test -x /app/.heroku/npm/bin/npm; then
  pass "node-npm-start: build exits 0 and vendors npm into /app/.heroku/npm"
  check_result node-npm-start Node.js "node server.js"
  serve_and_curl node-npm-start "$FIXTURES/node-npm-start" "hello from npm start (npm_lifecycle_event=start"
  # shellcheck disable=SC2016 # expanded by the dyno's bash
  launcher_check node-npm-start "/app/.heroku/npm/bin/npm|$(grep -Eo '^       Installing npm [0-9.]+ ' "$WORKDIR/node-npm-start.log" | grep -Eo '[0-9.]+')|/tmp/npm-cache|before" \
    'echo "$(command -v npm)|$(npm --version)|$npm_config_cache|$(case "$PATH" in *node_modules/.bin*.heroku/npm/bin*) echo before;; *) echo after;; esac)"'
  # shellcheck disable=SC2016
  launcher_check node-npm-start '/data/npm' 'echo "$npm_config_cache"' -e npm_config_cache=/data/npm
  # The dyno's npm, as uid 1000 with HOME=/app, reads the app and writes its logs.
  # shellcheck disable=SC2016
  launcher_check node-npm-start "uid=1000|ms@2.1.3|logs" \
    'echo "uid=$(id -u)|$(npm ls --offline 2>&1 | grep -o "ms@[0-9.]*")|$(ls /tmp/npm-cache | grep -o logs)"'
else
  fail "node-npm-start: expected exit 0, 'Installing npm <version>' and /app/.heroku/npm/bin/npm (exit $BUILD_STATUS)"
fi

say "node-npm-start again, cached (node and npm come from the cache; the range is still resolved)"
start=$SECONDS
build "$FIXTURES/node-npm-start" "$npm_cache" "$WORKDIR/node-npm-start2.log"
echo "(cached build took $((SECONDS - start))s, exit $BUILD_STATUS)"
if ((BUILD_STATUS == 0)) && grep -q '^       Installing npm .*, restored from the build cache$' "$WORKDIR/node-npm-start2.log" &&
  grep -q '^       Restoring node .* from the build cache' "$WORKDIR/node-npm-start2.log" &&
  docker exec "$BUILD_CTR" test -x /app/.heroku/npm/bin/npm; then
  pass "node-npm-start: second build restores node and the vendored npm from the cache"
else
  fail "node-npm-start: second build (exit $BUILD_STATUS) did not restore node and npm from the cache"
fi

say "node with an engines.npm that does not exist (the build fails naming package.json)"
badnpm="$WORKDIR/bad-npm-app"
mkdir -p "$badnpm"
cp -R "$FIXTURES/node/." "$badnpm/"
jq '.engines = {"npm": "0.0.0-doppel-does-not-exist"}' "$FIXTURES/node/package.json" >"$badnpm/package.json"
build "$badnpm" "$(new_cache bad-npm)" "$WORKDIR/bad-npm.log"
if ((BUILD_STATUS == 1)) && grep -q '^ !     Could not install npm (npm@0.0.0-doppel-does-not-exist) from the npm registry' "$WORKDIR/bad-npm.log" &&
  grep -q 'Check engines.npm / packageManager in package.json' "$WORKDIR/bad-npm.log"; then
  pass "bad-npm: the build fails naming engines.npm"
else
  fail "bad-npm: expected exit 1 and 'Could not install npm' (exit $BUILD_STATUS)"
fi

say "node without dependencies, built with no network (registry unreachable: the build fails saying so)"
offline="$WORKDIR/offline-app"
mkdir -p "$offline"
printf '{"name":"offline","version":"1.0.0","private":true,"scripts":{"start":"node index.js"}}\n' >"$offline/package.json"
echo 'console.log("offline");' >"$offline/index.js"
start=$SECONDS
BUILD_NETWORK=none build "$offline" "$(new_cache offline)" "$WORKDIR/offline.log"
echo "(offline build took $((SECONDS - start))s, exit $BUILD_STATUS)"
if ((BUILD_STATUS == 1)) && grep -q '^ !     Could not ask the npm registry' "$WORKDIR/offline.log"; then
  pass "offline: the build fails: Node.js cannot be resolved without the registry"
else
  fail "offline: expected exit 1 and 'Could not ask the npm registry' (exit $BUILD_STATUS)"
fi

say "python again, with the cache of the first build"
start=$SECONDS
build "$FIXTURES/python" "$python_cache" "$WORKDIR/python2.log"
echo "(cached build took $((SECONDS - start))s, exit $BUILD_STATUS)"
if ((BUILD_STATUS == 0)) && grep -q "^-----> Restoring the virtualenv from the build cache" "$WORKDIR/python2.log" && grep -q "Requirement already satisfied: gunicorn" "$WORKDIR/python2.log"; then
  pass "python: second build exits 0, restores the cached virtualenv, downloads nothing"
else
  fail "python: second build (exit $BUILD_STATUS) did not restore the cached virtualenv"
fi

say "failing (a requirement that does not exist on PyPI)"
build "$FIXTURES/failing" "$(new_cache failing)" "$WORKDIR/failing.log"
if ((BUILD_STATUS != 0)) && grep -q '^ !     Push rejected, failed to compile Python app\.$' "$WORKDIR/failing.log"; then
  pass "failing: doppel-build exits $BUILD_STATUS with 'Push rejected, failed to compile Python app.'"
else
  fail "failing: expected a non-zero exit and the failed-to-compile line (exit $BUILD_STATUS)"
fi

say "no-web (Procfile-only app; doppel-build succeeds, doppel rejects the missing web)"
build "$FIXTURES/no-web" "$(new_cache no-web)" "$WORKDIR/no-web.log"
if ((BUILD_STATUS == 0)) && grep -q 'Procfile declares types -> worker$' "$WORKDIR/no-web.log"; then
  check_result no-web Procfile
else
  fail "no-web: expected exit 0 and 'Procfile declares types -> worker' (exit $BUILD_STATUS)"
fi

say "nothing to detect"
empty="$WORKDIR/empty-app"
mkdir -p "$empty"
echo "nothing here" >"$empty/README.md"
build "$empty" "$(new_cache empty)" "$WORKDIR/empty.log"
if ((BUILD_STATUS == 2)) && grep -q '^ !     No default language could be detected for this app\.$' "$WORKDIR/empty.log" &&
  grep -q '^ !     HINT: ' "$WORKDIR/empty.log"; then
  pass "empty: exit 2 with 'No default language could be detected'"
else
  fail "empty: expected exit 2 and the no-language lines (exit $BUILD_STATUS)"
fi

say "unknown buildpack in .buildpacks"
unknown="$WORKDIR/unknown-app"
cp -R "$FIXTURES/static/." "$unknown/" 2>/dev/null || { mkdir -p "$unknown" && cp -R "$FIXTURES/static/." "$unknown/"; }
echo "https://github.com/heroku/heroku-buildpack-ruby.git" >"$unknown/.buildpacks"
build "$unknown" "$(new_cache unknown)" "$WORKDIR/unknown.log"
if ((BUILD_STATUS == 3)) && grep -q 'Unknown buildpack in .buildpacks' "$WORKDIR/unknown.log"; then
  pass "unknown: exit 3 with 'Unknown buildpack'"
else
  fail "unknown: expected exit 3 and 'Unknown buildpack' (exit $BUILD_STATUS)"
fi

say "multi-buildpack: .buildpacks = heroku/nodejs + python (node deps, python web)"
multi="$WORKDIR/multi-app"
mkdir -p "$multi"
cp -R "$FIXTURES/python/." "$multi/"
cp "$FIXTURES/node/package.json" "$FIXTURES/node/package-lock.json" "$multi/"
printf 'heroku/nodejs\npython\n' >"$multi/.buildpacks"
build "$multi" "$(new_cache multi)" "$WORKDIR/multi.log"
if ((BUILD_STATUS == 0)) && grep -q '^-----> Node.js app detected$' "$WORKDIR/multi.log" &&
  grep -q '^-----> Python app detected$' "$WORKDIR/multi.log"; then
  check_result multi Python
  serve_and_curl multi "$multi" "hello from python"
else
  fail "multi: expected both buildpacks to run (exit $BUILD_STATUS)"
fi

say "summary"
printf 'PASS  %s\n' "${PASSED[@]}"
if ((${#FAILED[@]} > 0)); then
  printf 'FAIL  %s\n' "${FAILED[@]}"
  exit 1
fi
echo "all ${#PASSED[@]} checks passed"
