# shellcheck shell=bash
# Downloads a Python runtime from a python-build-standalone mirror (the admin's
# `doppel server --python-mirror URL`), for a Python no stack carries. The mirror has
# python-build-standalone's release layout:
#   URL/latest-release.json        {"tag": "20261015", ...}   (which release to use)
#   URL/<tag>/SHA256SUMS           "<sha256>  <asset>" lines
#   URL/<tag>/cpython-<X.Y.Z>+<tag>-x86_64-unknown-linux-gnu-install_only.tar.gz
# The tarball unpacks to python/ (bin/python3, lib/…); it is checked against SHA256SUMS,
# kept in CACHE/runtimes/ and unpacked into DEST.

# mirror_asset SUMS_FILE VERSION TAG: the asset name of the newest release matching VERSION
# ("3.12" picks the highest 3.12.Z; "3.12.4" exactly that), or nothing.
mirror_asset() {
  local sums=$1 version=$2 tag=$3
  python3 - "$sums" "$version" "$tag" <<'PY'
import re, sys
sums, version, tag = sys.argv[1:4]
want = tuple(int(p) for p in version.split("."))
pat = re.compile(r"^cpython-(\d+)\.(\d+)\.(\d+)\+" + re.escape(tag) + r"-x86_64-unknown-linux-gnu-install_only\.tar\.gz$")
best = None
with open(sums, encoding="utf-8") as fh:
    for line in fh:
        parts = line.split()
        if len(parts) != 2:
            continue
        m = pat.match(parts[1].lstrip("*"))
        if not m:
            continue
        v = tuple(int(g) for g in m.groups())
        if v[: len(want)] == want and (best is None or v > best[0]):
            best = (v, parts[1].lstrip("*"))
if best:
    print(best[1])
PY
}

# mirror_install MIRROR VERSION CACHE DEST: prints the installed full version on success;
# on failure prints ` !     ` lines and returns 1.
mirror_install() {
  local tmp status=0
  tmp=$(mktemp -d /tmp/python-mirror.XXXXXX)
  mirror_install_in "$tmp" "$@" || status=$?
  rm -rf "$tmp"
  return "$status"
}

mirror_install_in() {
  local tmp=$1 mirror=${2%/} version=$3 cache=$4 dest=$5 tag asset sum file got
  if ! curl -fsSL --retry 2 --connect-timeout 10 "$mirror/latest-release.json" -o "$tmp/latest.json" 2>"$tmp/err"; then
    error_line "Could not read $mirror/latest-release.json: $(tail -n1 "$tmp/err")"
    return 1
  fi
  tag=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tag"])' "$tmp/latest.json" 2>/dev/null || true)
  if [[ ! "$tag" =~ ^[A-Za-z0-9._-]+$ ]]; then
    error_line "$mirror/latest-release.json has no usable \"tag\"."
    return 1
  fi
  if ! curl -fsSL --retry 2 --connect-timeout 10 "$mirror/$tag/SHA256SUMS" -o "$tmp/SHA256SUMS" 2>"$tmp/err"; then
    error_line "Could not read $mirror/$tag/SHA256SUMS: $(tail -n1 "$tmp/err")"
    return 1
  fi
  asset=$(mirror_asset "$tmp/SHA256SUMS" "$version" "$tag")
  if [[ -z "$asset" ]]; then
    error_line "The Python mirror's release $tag has no Python $version for x86_64 Linux."
    return 1
  fi
  sum=$(awk -v a="$asset" '{ f = $2; sub(/^\*/, "", f); if (f == a) print $1 }' "$tmp/SHA256SUMS")
  mkdir -p "$cache/runtimes" 2>/dev/null || true
  file="$cache/runtimes/$asset"
  if [[ ! -f "$file" ]] || [[ "$(sha256sum "$file" | cut -d' ' -f1)" != "$sum" ]]; then
    if ! curl -fsSL --retry 2 --connect-timeout 10 "$mirror/$tag/$asset" -o "$tmp/$asset" 2>"$tmp/err"; then
      error_line "Could not download $mirror/$tag/$asset: $(tail -n1 "$tmp/err")"
      return 1
    fi
    got=$(sha256sum "$tmp/$asset" | cut -d' ' -f1)
    if [[ "$got" != "$sum" ]]; then
      error_line "$asset from the Python mirror has SHA-256 $got, but SHA256SUMS says $sum."
      return 1
    fi
    if ! mv "$tmp/$asset" "$file" 2>/dev/null; then
      file="$tmp/$asset"
    fi
  fi
  rm -rf "$dest"
  mkdir -p "$dest"
  if ! tar -xzf "$file" -C "$dest" --strip-components=1 python/; then
    error_line "$asset from the Python mirror could not be unpacked (expected a python/ directory)."
    return 1
  fi
  [[ "$asset" =~ ^cpython-([0-9]+\.[0-9]+\.[0-9]+)\+ ]] && echo "${BASH_REMATCH[1]}"
}
