#!/usr/bin/env bash
# Checks, offline and from scratch on a Debian 12 machine, what deploys doppel onto a VM:
#  (a) Terraform: every .tf under deploy/terraform parses (python-hcl2) and `checkov -d
#      deploy/terraform` passes, every skipped check carrying its reason inline
#      (#checkov:skip=ID:reason); deploy/cloud-init.yaml takes exactly the variables
#      deploy/terraform/cloud-init passes, renders to YAML, and its bootstrap script parses
#      (bash -n); where terraform is installed, it evaluates that module too;
#  (b) systemd: `systemd-analyze verify` finds nothing to say about the package's units, checked
#      in an offline root (no running systemd needed, so it works in a container);
#  (c) the Debian package (deploy/package.sh --profile debug) installs with
#      `apt install ./doppel_*.deb` into a clean container of the stack's run image, where
#      `doppel --version`, `doppel server --help` and `--print-config` run, a bad config key is
#      refused, and reinstall, remove and purge behave; cloud-init's own schema check accepts
#      the rendered cloud-init in another such container;
#  (d) the config file's unit tests (flags > environment > file > defaults);
#  (e) only with --with-systemd (what deploy/test.sh runs; about 30 s, plus 80 s for the
#      upgrade below and a minute once to make the systemd image; the container needs CAP_SYS_ADMIN): the
#      package under a running systemd in a container, sharing the host's Docker engine and
#      the debian-12 stack's images: postinst enables and starts doppel.service, which answers on 443 with
#      all its hardening; it is restarted after a crash, a reinstall leaves a disabled service
#      disabled, and removing the package stops it. Then deploy/check-upgrade.sh: an upgrade to the next package while wrk requests an app through the
#      router loses no request, the downgrade back is refused, and a store a newer doppel
#      migrated stops the server with a clear message in the journal.
#
# Usage: deploy/check-deploy.sh [--with-systemd]
# Python tools go in venvs under /var/tmp/doppel-deploy-check, made once and then reused; the
# stack images are built if missing (about 5 minutes). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib.sh
with_systemd=no
case "${1:-}" in
  "") ;;
  --with-systemd) with_systemd=yes ;;
  *) log "usage: deploy/check-deploy.sh [--with-systemd]"; exit 2 ;;
esac
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/doppel-target}"

CHECKOV_VERSION=3.3.30
HCL2_VERSION=8.1.4
TOOLS=/var/tmp/doppel-deploy-check
# The run image of the debian-12 stack (named heroku-24 for history): the VMs' Debian.
IMAGE=doppel/heroku-24:latest
# The variables deploy/cloud-init.yaml takes (and deploy/terraform/cloud-init must pass).
TEMPLATE_VARS="data_device deb_sha256 deb_url domain git_ref git_url"

scratch=$(mktemp -d)
container="doppel-check-deploy-$$"
cleanup() {
  docker rm -f "$container" "$container-cloud-init" "$container-prep" "$container-systemd" >/dev/null 2>&1 || true
  rm -rf "$scratch"
}
trap cleanup EXIT

started=$SECONDS
step() { step_started=$SECONDS; log "check-deploy: $*"; }
done_step() { log "check-deploy: ok ($((SECONDS - step_started)) s)"; }

# pip and checkov trust the host's CA bundle (a TLS-intercepting proxy may sit in between).
if [ -s /etc/ssl/certs/ca-certificates.crt ]; then
  export PIP_CERT="${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}"
  export REQUESTS_CA_BUNDLE="${REQUESTS_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
fi
command -v python3 >/dev/null 2>&1 || apt_install python3
python3 -c 'import ensurepip' 2>/dev/null || apt_install python3-venv
command -v systemd-analyze >/dev/null 2>&1 || apt_install systemd
command -v dpkg-shlibdeps >/dev/null 2>&1 || apt_install dpkg-dev
ensure_rust

# venv NAME REQUIREMENT...: $TOOLS/NAME holding exactly these requirements. python-hcl2 and
# checkov get one each: both install a Python module named hcl2 (checkov's is a fork).
venv() {
  local dir="$TOOLS/$1"
  shift
  if [ "$(cat "$dir/.requirements" 2>/dev/null)" != "$*" ]; then
    log "installing $* into $dir"
    rm -rf "$dir"
    mkdir -p "$TOOLS"
    python3 -m venv "$dir"
    "$dir/bin/pip" install -q --disable-pip-version-check "$@"
    echo "$*" >"$dir/.requirements"
  fi
}

# ---- (a) Terraform and cloud-init --------------------------------------------------------
step "(a) every .tf parses with python-hcl2 $HCL2_VERSION"
venv hcl2 "python-hcl2==$HCL2_VERSION"
"$TOOLS/hcl2/bin/python" - deploy/terraform <<'PY'
import pathlib, sys
import hcl2
files = sorted(pathlib.Path(sys.argv[1]).rglob("*.tf"))
if not files:
    sys.exit(f"no .tf files under {sys.argv[1]}")
for path in files:
    with path.open() as f:
        try:
            hcl2.load(f)
        except Exception as e:  # the parser raises several kinds
            sys.exit(f"{path}: {e}")
print(f"{len(files)} .tf files parsed")
PY
done_step

step "(a) checkov $CHECKOV_VERSION -d deploy/terraform"
venv checkov "checkov==$CHECKOV_VERSION"
if grep -rn 'checkov:skip=' deploy/terraform --include='*.tf' | grep -vE 'checkov:skip=[A-Z0-9_]+:[^ ].{9,}'; then
  log "the checkov skips above carry no reason: write #checkov:skip=ID:why it does not apply"
  exit 1
fi
"$TOOLS/checkov/bin/checkov" -d deploy/terraform --framework terraform --compact --quiet \
  --skip-download >"$scratch/checkov.txt" 2>&1 || {
  cat "$scratch/checkov.txt" >&2
  log "checkov failed (above): fix the module, or skip the check inline with its reason"
  exit 1
}
grep -E 'Passed checks' "$scratch/checkov.txt" >&2
done_step

step "(a) cloud-init: variables, rendering, bootstrap script"
"$TOOLS/checkov/bin/python" - deploy/cloud-init.yaml "$scratch" "$TEMPLATE_VARS" deploy/terraform/cloud-init/main.tf <<'PY'
import pathlib, re, sys
import yaml  # checkov's venv has PyYAML
template, out, names, modules = sys.argv[1], pathlib.Path(sys.argv[2]), set(sys.argv[3].split()), sys.argv[4:]
src = pathlib.Path(template).read_text()
found = set(re.findall(r"\$\{([^}]*)\}", src))
if found != names:
    sys.exit(f"{template}: placeholders {sorted(found)}, expected {sorted(names)}; shell in it must "
             "write $VAR, not the dollar-brace form, which Terraform's templatefile() takes as a placeholder")
if "%{" in src:
    sys.exit(f"{template}: '%{{' starts a Terraform template directive")
for module in modules:
    text = pathlib.Path(module).read_text()
    call = re.search(r'cloud-init\.yaml", \{(.*?)\}\)', text, re.S)
    if not call:
        sys.exit(f"{module}: no templatefile() of cloud-init.yaml")
    passed = set(re.findall(r"^\s*(\w+)\s*=", call.group(1), re.M))
    if passed != names:
        sys.exit(f"{module}: passes {sorted(passed)} to cloud-init.yaml, which takes {sorted(names)}")
values = {"deb_url": "https://example.com/doppel_0.1.0_amd64.deb", "deb_sha256": "",
          "git_url": "", "git_ref": "", "domain": "paas.example.com", "data_device": "/dev/sdc /dev/sdd"}
rendered = re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], src)
if not rendered.startswith("#cloud-config\n"):
    sys.exit(f"{template}: the first line must be #cloud-config")
doc = yaml.safe_load(rendered)
(out / "user-data.yaml").write_text(rendered)
scripts = [f for f in doc.get("write_files", []) if f.get("content", "").startswith("#!/bin/bash")]
if not scripts:
    sys.exit(f"{template}: no bootstrap script in write_files")
for f in scripts:
    (out / pathlib.Path(f["path"]).name).write_text(f["content"])
print(f"{template}: renders; deploy/terraform/cloud-init passes its {len(names)} variables")
PY
bash -n "$scratch/doppel-bootstrap"
for module in deploy/terraform/aws deploy/terraform/azure; do
  grep -q 'source *= *"../cloud-init"' "$module/main.tf" || { log "$module does not use deploy/terraform/cloud-init"; exit 1; }
done
# Terraform itself is not in Debian's archive; where it is installed, it evaluates the
# cloud-init module (no provider needed): variable checks, the deb_url/git_url choice, rendering.
if command -v terraform >/dev/null 2>&1; then
  probe="$scratch/tree/deploy/terraform/probe"
  mkdir -p "$probe"
  cp -r deploy/terraform deploy/cloud-init.yaml "$scratch/tree/deploy/"
  printf '%s\n' 'variable "deb_url" {}' 'variable "git_url" {}' \
    'module "c" {' '  source = "../cloud-init"' '  deb_url = var.deb_url' '  git_url = var.git_url' '}' \
    'output "u" { value = module.c.user_data }' >"$probe/main.tf"
  tf() { terraform -chdir="$probe" "$@" -no-color >"$scratch/terraform.txt" 2>&1; }
  tf init -input=false || { cat "$scratch/terraform.txt" >&2; exit 1; }
  tf apply -auto-approve -input=false -var deb_url=https://example.com/d.deb -var git_url= \
    || { cat "$scratch/terraform.txt" >&2; log "terraform could not render the cloud-init module"; exit 1; }
  for bad in "-var deb_url= -var git_url=" "-var deb_url=https://x -var git_url=https://y" "-var deb_url=a'b -var git_url="; do
    # shellcheck disable=SC2086
    if tf apply -auto-approve -input=false $bad; then log "terraform accepted $bad"; exit 1; fi
  done
  log "terraform $(terraform version 2>/dev/null | head -n 1 | cut -d' ' -f2): the cloud-init module renders and refuses bad input"
else
  log "terraform is not installed: the cloud-init module is checked by python-hcl2 and checkov only"
fi
done_step

# ---- (b) systemd -------------------------------------------------------------------------
step "(b) the package (debug profile) and systemd-analyze verify on its units"
deb=$(deploy/package.sh --profile debug)
version=$(dpkg-deb -f "$deb" Version)
root="$scratch/root"
mkdir -p "$root/usr/lib/systemd/system"
# The targets and sockets every service depends on, from the host's systemd, then the package.
cp -a /lib/systemd/system/. "$root/usr/lib/systemd/system/"
dpkg-deb -x "$deb" "$root"
units=$(dpkg-deb -c "$deb" | sed -n 's#.*/usr/lib/systemd/system/\([^/]*\)$#\1#p')
[ -n "$units" ] || { log "$deb ships no systemd unit"; exit 1; }
for unit in $units; do
  # verify exits 0 on many problems (unknown keys, bad values), so any output fails too.
  if ! complaints=$(systemd-analyze verify --man=no --root="$root" "$unit" 2>&1) || [ -n "$complaints" ]; then
    printf '%s\n' "$complaints" >&2
    log "systemd-analyze verify $unit: fix the unit in deploy/debian/"
    exit 1
  fi
  exposure=$(systemd-analyze security --offline=true --root="$root" "$unit" 2>/dev/null | tail -n 1 || true)
  log "$unit verified; ${exposure#→ }"
done
done_step

# ---- (c) the package in a clean container -------------------------------------------------
command -v docker >/dev/null 2>&1 || apt_install docker.io
ensure_dockerd
if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  step "$IMAGE is missing: building the stack images (about 5 minutes)"
  cargo build -p doppel >&2
  "$CARGO_TARGET_DIR/debug/doppel" stack build debian-12
  done_step
fi

step "(c) apt install ./$(basename "$deb") in a clean container of $IMAGE, and cloud-init's schema check"
# Two containers at once (both mostly wait for Debian's archive): cloud-init's own schema
# check on the rendered cloud-init, in the background...
docker run --rm -i --name "$container-cloud-init" --user root -e DEBIAN_FRONTEND=noninteractive \
  -v "$scratch/user-data.yaml:/user-data.yaml:ro" "$IMAGE" bash -euo pipefail -s >"$scratch/cloud-init.txt" 2>&1 <<'SH' &
apt-get update -qq
apt-get install -y -qq --no-install-recommends cloud-init >/tmp/install.log 2>&1 \
  || { cat /tmp/install.log >&2; exit 1; }
cloud-init schema --config-file /user-data.yaml
SH
cloud_init=$!
# ...and the package's installation, use, reinstallation, removal and purge.
docker run --rm -i --name "$container" --user root -e DEBIAN_FRONTEND=noninteractive \
  -e DEB="/pkg/$(basename "$deb")" -e VERSION="$version" \
  -v "$(dirname "$deb"):/pkg:ro" "$IMAGE" bash -euo pipefail -s <<'SH'
fail() { echo "in the container: $*" >&2; exit 1; }
apt-get update -qq
apt-get install -y -qq "$DEB" >/tmp/install.log 2>&1 || { cat /tmp/install.log >&2; fail "apt install failed"; }
grep -q 'systemd is not running here, so nothing was started' /tmp/install.log \
  || { cat /tmp/install.log >&2; fail "postinst did not say it left the service alone"; }
[ "$(doppel --version)" = "doppel $VERSION" ] || fail "doppel --version: $(doppel --version)"
doppel server --help | grep -q -- '--config <FILE>' || fail "doppel server --help has no --config"
doppel server --print-config >/tmp/settings || fail "--print-config refused the shipped config file"
grep -q '> /etc/doppel/doppel.toml >' /tmp/settings || fail "--print-config did not read /etc/doppel/doppel.toml"
grep -Eq '^domain = "localhost" +# default$' /tmp/settings || fail "unexpected settings: $(cat /tmp/settings)"
[ "$(stat -c '%a %U' /var/lib/doppel)" = "711 root" ] || fail "/var/lib/doppel: $(stat -c '%a %U' /var/lib/doppel)"
[ "$(stat -c '%a' /etc/doppel/doppel.toml)" = 640 ] || fail "/etc/doppel/doppel.toml is not 0640"
dpkg-query -W -f='${Conffiles}\n' doppel | grep -q ' /etc/doppel/doppel.toml ' || fail "doppel.toml is no conffile"
[ -f /usr/lib/systemd/system/doppel.service ] || fail "no doppel.service"
# A bad key stops the server before it does anything, naming the key and its line.
echo 'data_dir = "/srv/doppel"' >>/etc/doppel/doppel.toml
if doppel server 2>/tmp/err; then fail "doppel server started with a bad config key"; fi
grep -q 'line [0-9]*: unknown key `data_dir` (did you mean `data-dir`?' /tmp/err || fail "unclear error: $(cat /tmp/err)"
# Reinstalling (install.sh, cloud-init) keeps the edited config file; remove keeps it too.
apt-get install -y -qq --reinstall -o Dpkg::Options::=--force-confold "$DEB" >/dev/null 2>&1 || fail "reinstall failed"
grep -q '^data_dir' /etc/doppel/doppel.toml || fail "reinstall replaced the edited config file"
apt-get remove -y -qq doppel >/dev/null 2>&1 || fail "apt remove failed"
[ ! -e /usr/bin/doppel ] && [ -e /etc/doppel/doppel.toml ] || fail "remove: binary kept or config lost"
apt-get purge -y -qq doppel >/tmp/purge.log 2>&1 || { cat /tmp/purge.log >&2; fail "apt purge failed"; }
[ ! -e /etc/doppel/doppel.toml ] || fail "purge kept /etc/doppel/doppel.toml"
[ -d /var/lib/doppel ] || fail "purge deleted the data directory"
echo "installed, ran, refused a bad key, reinstalled, removed and purged"
SH
if ! wait "$cloud_init"; then
  cat "$scratch/cloud-init.txt" >&2
  log "cloud-init schema refused deploy/cloud-init.yaml (rendered: see above)"
  exit 1
fi
tail -n 1 "$scratch/cloud-init.txt" >&2
done_step

# ---- (d) config file unit tests ----------------------------------------------------------
step "(d) config file unit tests: cargo test -p doppel --bin doppel"
if ! cargo test -p doppel --bin doppel >"$scratch/test.txt" 2>&1; then
  cat "$scratch/test.txt" >&2
  exit 1
fi
grep '^test result' "$scratch/test.txt" >&2
done_step

# ---- (e) under a running systemd (opt-in) ------------------------------------------------
if [ "$with_systemd" = yes ]; then
  step "(e) the package under a running systemd, in a container"
  # The run image plus systemd, made once per run image and kept.
  # wrk and sqlite3 serve deploy/check-upgrade.sh; the tag changes with the package list.
  sd_packages="systemd systemd-sysv dbus init-system-helpers git debootstrap wrk sqlite3"
  sd_image="doppel-check/systemd:$(docker image inspect -f '{{.Id}}' "$IMAGE" | cut -c8-19)-$(echo "$sd_packages" | md5sum | cut -c1-6)"
  if ! docker image inspect "$sd_image" >/dev/null 2>&1; then
    docker run --name "$container-prep" --user root -e DEBIAN_FRONTEND=noninteractive "$IMAGE" \
      bash -c "apt-get update -qq && apt-get install -y -qq --no-install-recommends $sd_packages >/dev/null"
    docker commit "$container-prep" "$sd_image" >/dev/null
    docker rm "$container-prep" >/dev/null
  fi
  docker run -d --name "$container-systemd" --cap-add SYS_ADMIN \
    --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
    --tmpfs /run --tmpfs /run/lock -v /sys/fs/cgroup:/sys/fs/cgroup:ro \
    -v /var/run/docker.sock:/var/run/docker.sock -v "$(dirname "$deb"):/pkg:ro" \
    --entrypoint /lib/systemd/systemd "$sd_image" >/dev/null
  booted=no
  for _ in $(seq 1 30); do
    case "$(docker exec "$container-systemd" systemctl is-system-running 2>/dev/null || true)" in
      running | degraded) booted=yes; break ;;
    esac
    sleep 1
  done
  [ "$booted" = yes ] || { docker logs "$container-systemd" 2>&1 | tail -n 20 >&2; log "systemd did not boot in a container here (it needs CAP_SYS_ADMIN and the cgroup file system)"; exit 1; }
  docker exec -i -e DEB="/pkg/$(basename "$deb")" "$container-systemd" bash -euo pipefail -s <<'SH'
fail() { echo "under systemd: $*" >&2; journalctl -u doppel --no-pager | tail -n 30 >&2; exit 1; }
install_doppel() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends --reinstall \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$DEB" >/tmp/install.log 2>&1 \
    || { cat /tmp/install.log >&2; fail "apt install failed"; }
}
# The debian-12 stack, whose images the host has, so no debootstrap runs here.
mkdir -p /etc/doppel
printf 'default-stack = "debian-12"\n' >/etc/doppel/doppel.toml
install_doppel
grep -q 'doppel: started' /tmp/install.log || fail "postinst did not start doppel: $(cat /tmp/install.log)"
systemctl is-enabled --quiet doppel || fail "doppel.service is not enabled"
for _ in $(seq 1 60); do
  [ -s /var/lib/doppel/ca.pem ] && curl -s -o /dev/null --cacert /var/lib/doppel/ca.pem https://localhost/ && break
  sleep 1
done
curl -s -o /dev/null --cacert /var/lib/doppel/ca.pem https://localhost/ || fail "doppel does not answer on 443"
kill -9 "$(systemctl show doppel -p MainPID --value)"
sleep 8
[ "$(systemctl show doppel -p NRestarts --value)" = 1 ] && systemctl is-active --quiet doppel \
  || fail "doppel.service was not restarted after a crash"
systemctl disable --quiet doppel
install_doppel
systemctl is-enabled --quiet doppel && fail "a reinstall enabled a disabled doppel.service"
DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq doppel >/dev/null 2>&1 || fail "apt remove failed"
systemctl is-active --quiet doppel && fail "removing the package left doppel running"
echo "postinst started it, it answered on 443, came back after kill -9, stayed disabled across a reinstall, stopped on remove"
SH
  done_step
  step "(e) upgrade under load, downgrade refused (deploy/check-upgrade.sh)"
  deploy/check-upgrade.sh "$sd_image" "$deb"
  done_step
fi

log "check-deploy: all passed in $((SECONDS - started)) s"
