#!/usr/bin/env bash
# Builds doppel's Debian package from this checkout with dpkg-deb (no other packaging tool):
#   <target>/debian/doppel_<version>_<arch>.deb   (<target>: $CARGO_TARGET_DIR, else target/;
#                                                  the debug profile's goes in debian/debug/)
# holding /usr/bin/doppel, the systemd unit doppel.service, /etc/doppel/doppel.toml (a
# conffile) and maintainer scripts (deploy/debian/). The version is the doppel crate's, from
# Cargo.toml, unless DOPPEL_PACKAGE_VERSION names another (a Debian version, e.g.
# 0.1.0+upgrade1: the upgrade check packages the same build twice, N and N+1). Prints the
# package's path on stdout; progress goes to stderr.
#
# Usage: deploy/package.sh [--profile release|debug] [--no-build]
#   --profile release  (the default) an optimized binary, what admins install; building it
#                      from nothing takes about 15 minutes on 2 cores (fat LTO, see Cargo.toml).
#   --profile debug    the debug binary the tests build anyway (deploy/check-deploy.sh);
#                      compressed with gzip rather than xz, to be quick.
#   --no-build         package the binary already built for that profile.
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib.sh

# The systemd units the package ships, enabled and started by its maintainer scripts.
# The router first: doppel.service waits for it at start.
UNITS=(doppel-router.service doppel.service)

profile=release
build=yes
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile=${2:-}; shift 2 || { log "--profile needs release or debug"; exit 2; } ;;
    --profile=*) profile=${1#--profile=}; shift ;;
    --no-build) build=no; shift ;;
    -h | --help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) log "unknown argument $1 (see deploy/package.sh --help)"; exit 2 ;;
  esac
done
case "$profile" in
  # xz makes the smallest download; gzip is ten times quicker for the tests' throwaway package.
  release) cargo_profile=(--release); profile_dir=release; compression=(-Zxz -z6) ;;
  debug) cargo_profile=(); profile_dir=debug; compression=(-Zgzip -z6) ;;
  *) log "--profile must be release or debug, not '$profile'"; exit 2 ;;
esac
for tool in dpkg-deb cargo; do
  command -v "$tool" >/dev/null 2>&1 || { log "$tool not found (deploy/install.sh installs what is needed)"; exit 1; }
done

target_dir=$(realpath -m "${CARGO_TARGET_DIR:-target}")
# `cargo pkgid` prints path+file:///…/crates/doppel#0.1.0 (or …#doppel@0.1.0).
pkgid=$(cargo pkgid -p doppel)
crate_version=${pkgid##*[#@]}
# Debian sorts 1.0.0~rc1 before 1.0.0, as SemVer sorts 1.0.0-rc1.
version=${crate_version//-/\~}
if [ -n "${DOPPEL_PACKAGE_VERSION:-}" ]; then
  # Debian's version syntax: a digit first, then alphanumerics and . + ~ (no epoch, no revision).
  [[ "$DOPPEL_PACKAGE_VERSION" =~ ^[0-9][A-Za-z0-9.+~]*$ ]] \
    || { log "DOPPEL_PACKAGE_VERSION='$DOPPEL_PACKAGE_VERSION' is no Debian version (e.g. 0.1.0+upgrade1)"; exit 2; }
  version=$DOPPEL_PACKAGE_VERSION
fi
arch=$(dpkg --print-architecture)
# The tests' debug package goes a folder down, so it never passes for the release one.
deb_dir="$target_dir/debian"
[ "$profile" = release ] || deb_dir="$target_dir/debian/$profile"
deb="$deb_dir/doppel_${version}_${arch}.deb"

if [ "$build" = yes ]; then
  log "building doppel ($profile profile)"
  cargo build -p doppel "${cargo_profile[@]}" >&2
fi
binary="$target_dir/$profile_dir/doppel"
[ -x "$binary" ] || { log "$binary is missing: run without --no-build"; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
chmod 0755 "$stage"

install -D -m 0755 "$binary" "$stage/usr/bin/doppel"
# Debug info is most of a binary's size; the symbols stay, so backtraces keep their names.
if command -v strip >/dev/null 2>&1; then strip --strip-debug "$stage/usr/bin/doppel"; fi
# #VERSION#: the package's version, which doppel.service hands the server (it says which
# package it runs when it starts) and the maintainer scripts compare against (downgrades).
for unit in "${UNITS[@]}"; do
  mkdir -p "$stage/usr/lib/systemd/system"
  sed "s/#VERSION#/$version/" "deploy/debian/$unit" >"$stage/usr/lib/systemd/system/$unit"
  chmod 0644 "$stage/usr/lib/systemd/system/$unit"
done
# Readable by root only: it may hold a database password.
install -D -m 0640 deploy/debian/doppel.toml "$stage/etc/doppel/doppel.toml"
install -D -m 0644 README.md "$stage/usr/share/doc/doppel/README.md"
install -D -m 0644 docs/operations.md "$stage/usr/share/doc/doppel/operations.md"
cat >"$stage/usr/share/doc/doppel/copyright" <<'COPYRIGHT'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: doppel

Files: *
Copyright: the doppel developers
License: MIT
 Permission is hereby granted, free of charge, to any person obtaining a copy of this
 software and associated documentation files (the "Software"), to deal in the Software
 without restriction, including without limitation the rights to use, copy, modify, merge,
 publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons
 to whom the Software is furnished to do so, subject to the following conditions:
 .
 The above copyright notice and this permission notice shall be included in all copies or
 substantial portions of the Software.
 .
 THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED,
 INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR
 PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE
 FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR
 OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER
 DEALINGS IN THE SOFTWARE.
COPYRIGHT

mkdir -m 0755 "$stage/DEBIAN"
for script in postinst prerm postrm; do
  sed -e "s/#UNITS#/${UNITS[*]}/" -e "s/#VERSION#/$version/" "deploy/debian/$script" >"$stage/DEBIAN/$script"
  chmod 0755 "$stage/DEBIAN/$script"
done
echo /etc/doppel/doppel.toml >"$stage/DEBIAN/conffiles"

# The shared libraries the binary links (libc6, libgcc-s1…), with the versions it needs,
# as dpkg-shlibdeps (dpkg-dev, part of build-essential) works them out.
found=
if command -v dpkg-shlibdeps >/dev/null 2>&1; then
  mkdir "$stage/debian"
  printf 'Source: doppel\n\nPackage: doppel\nArchitecture: any\n' >"$stage/debian/control"
  found=$(cd "$stage" && dpkg-shlibdeps -O "usr/bin/doppel" 2>/dev/null | sed -n 's/^shlibs:Depends=//p') || found=
  rm -r "$stage/debian"
fi
shlibs=${found:-libc6}
# git serves pushes (git receive-pack); debootstrap makes the stack images. The Docker engine
# may be Debian's docker.io or Docker's docker-ce, hence only recommended. pg_dump and
# pg_restore (postgresql-client) back up and restore a PostgreSQL store (admin:backup).
cat >"$stage/DEBIAN/control" <<CONTROL
Package: doppel
Version: $version
Architecture: $arch
Maintainer: doppel developers <doppel@localhost>
Installed-Size: $(du -sk --exclude=DEBIAN "$stage" | cut -f1)
Depends: ${shlibs}, git, debootstrap
Recommends: docker.io | docker-ce
Suggests: postgresql-client
Section: admin
Priority: optional
Description: self-hostable, Heroku-compatible PaaS with twin staging and production
 doppel builds apps pushed with git (buildpacks or a Dockerfile) into Docker images, runs
 them as containers behind its own HTTPS router, and gives every app a staging and a
 production environment; production only runs images that ran in staging. It speaks the
 Heroku Platform API. One binary: "doppel server" is the platform (doppel.service), every
 other subcommand is the command-line client.
CONTROL
(cd "$stage" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) \
  >"$stage/DEBIAN/md5sums"

mkdir -p "$(dirname "$deb")"
# File dates are the commit's, so one commit always gives the same package contents.
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s)
export SOURCE_DATE_EPOCH
dpkg-deb --root-owner-group "${compression[@]}" --build "$stage" "$deb" >&2
log "built $deb ($(du -h "$deb" | cut -f1), $profile profile)"
echo "$deb"
