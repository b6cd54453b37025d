#!/usr/bin/env python3
"""Chooses the Python an app builds with, as Heroku's Python buildpack does (stdlib only).

Usage: runtime.py APP_DIR

Where the version comes from, first match wins:
  1. .python-version: the first line that is not blank and not a `#` comment, `3.X` or
     `3.X.Y` (more than one version line is an error);
  2. runtime.txt: `python-3.X.Y` (or `python-3.X`);
  3. Pipfile.lock: `_meta.requires.python_full_version` or `python_version` (as Heroku);
  4. pyproject.toml: `[project] requires-python`, a PEP 440 specifier set: the stack's
     default Python when it satisfies it, else the newest of the stack's that does;
  5. otherwise the stack's default Python.

Environment (set by the buildpack from the stack and the build request):
  STACK                  this build's stack (debian-testing)
  STACK_PYTHONS          the stack's Pythons, full versions: "3.13.15 3.14.8 3.15.0"
  STACK_DEFAULT_PYTHON   the stack's python3, full version: "3.14.8"
  DOPPEL_STACK_PYTHONS   every stack's minors: "debian-12=3.11 debian-13=3.13 ..."
  DOPPEL_PYTHON_MIRROR   set when Pythons the stacks lack may be downloaded

Prints shell assignments on success (exit 0):
  version=3.14        the minor to use
  full=3.14.8         the stack's full version, or the requested one when downloading
  source=.python-version (or runtime.txt, pyproject.toml, default)
  origin=stack        (or mirror: download it)
  note=...            one line to show (may be empty)
On a bad request prints ` !     ` lines (saying which file and what to change) and exits 1.
"""

import os
import re
import sys

# The newest CPython minor that exists (3.15 was released in October 2026). A request for
# a later minor, or for Python 2 or 4, names a Python that does not exist.
NEWEST_MINOR = 15
VERSION_RE = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?$")


class Refusal(Exception):
    """A request the build cannot honour; the lines say why and what to change."""

    def __init__(self, *lines):
        super().__init__(lines[0])
        self.lines = lines


def parse(text):
    """'3.14' -> (3, 14, None); '3.14.2' -> (3, 14, 2); anything else -> None."""
    m = VERSION_RE.match(text)
    if not m:
        return None
    return int(m.group(1)), int(m.group(2)), (int(m.group(3)) if m.group(3) else None)


def stack_index():
    """{stack: [minor, ...]} from DOPPEL_STACK_PYTHONS."""
    index = {}
    for item in os.environ.get("DOPPEL_STACK_PYTHONS", "").split():
        name, _, minors = item.partition("=")
        index[name] = [m for m in minors.split(",") if m]
    return index


def read_python_version(app):
    """The version line of .python-version, or None when the file is absent."""
    path = os.path.join(app, ".python-version")
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8", errors="replace") as fh:
        lines = [line.strip() for line in fh]
    versions = [line for line in lines if line and not line.startswith("#")]
    if not versions:
        raise Refusal(
            "The .python-version file has no version in it (only blank lines or comments).",
            "Put the Python version on its own line, for example: 3.14",
        )
    if len(versions) > 1:
        raise Refusal(
            "The .python-version file names more than one version: " + ", ".join(versions) + ".",
            "Keep exactly one line with the version, for example: 3.14",
        )
    return versions[0]


def read_runtime_txt(app):
    path = os.path.join(app, "runtime.txt")
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8", errors="replace") as fh:
        return fh.read().strip()


def read_pipfile_lock(app):
    """Pipfile.lock's _meta.requires python_full_version or python_version, or None."""
    path = os.path.join(app, "Pipfile.lock")
    if not os.path.isfile(path):
        return None
    import json

    try:
        with open(path, encoding="utf-8") as fh:
            requires = json.load(fh).get("_meta", {}).get("requires", {})
    except (ValueError, AttributeError) as e:
        raise Refusal(
            f"Pipfile.lock is not valid JSON: {e}.",
            "Run `pipenv lock` and commit Pipfile.lock.",
        )
    if not isinstance(requires, dict):
        return None
    value = requires.get("python_full_version") or requires.get("python_version")
    return value if isinstance(value, str) else None


def requires_python(app):
    """[project] requires-python of pyproject.toml, or None."""
    path = os.path.join(app, "pyproject.toml")
    if not os.path.isfile(path):
        return None
    import tomllib  # Python 3.11+, which every stack has

    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise Refusal(
            f"pyproject.toml is not valid TOML: {e}.",
            "Fix the file (check it with `python -c 'import tomllib; tomllib.load(open(\"pyproject.toml\", \"rb\"))'`).",
        )
    spec = data.get("project", {}).get("requires-python")
    if spec is not None and not isinstance(spec, str):
        raise Refusal(
            "pyproject.toml: [project] requires-python must be a string such as \">=3.13\".",
            "Fix requires-python in pyproject.toml.",
        )
    return spec


def check_exists(major, minor, file, text):
    if major != 3 or minor > NEWEST_MINOR:
        raise Refusal(
            f"{file} asks for Python {text}, which does not exist.",
            f"Python 3.{NEWEST_MINOR} is the newest release; set {file} to a version such as 3.14.",
        )


def providers(minor):
    """Stacks whose Pythons include `minor` ('3.14')."""
    return [name for name, minors in stack_index().items() if minor in minors]


def unavailable(minor, file, stack, have):
    lines = [f"{file} asks for Python {minor}, but the {stack} stack has only Python {', '.join(have)}."]
    others = providers(minor)
    if others:
        lines.append(
            f"The {' and '.join(others)} stack{'s have' if len(others) > 1 else ' has'} Python {minor}: "
            f"move the app there (`doppel stack:set {others[-1]}`), or change {file} to one of {', '.join(have)}."
        )
    else:
        lines.append(
            f"No stack has Python {minor}: change {file} to one of {', '.join(have)}"
            + " (or an admin can point doppel at a Python mirror with --python-mirror)."
        )
    return Refusal(*lines)


def spec_clauses(spec, source):
    """'>=3.12,<3.15' -> [('>=', '3.12'), ('<', '3.15')]."""
    clauses = []
    for raw in spec.split(","):
        raw = raw.strip()
        m = re.match(r"^(~=|==|!=|<=|>=|<|>|===)\s*([0-9][0-9.]*(?:\.\*)?)$", raw)
        if not m:
            raise Refusal(
                f"{source}: requires-python {spec!r} is not a version specifier doppel understands.",
                "Use comparisons of release numbers, for example: requires-python = \">=3.13\"",
            )
        clauses.append((m.group(1), m.group(2)))
    return clauses


def as_tuple(text):
    return tuple(int(p) for p in text.split("."))


def satisfies(version, clauses):
    """PEP 440 comparison of a final release `version` (tuple) against the clauses."""

    def pad(t, n):
        return t + (0,) * (n - len(t))

    for op, target in clauses:
        wildcard = target.endswith(".*")
        t = as_tuple(target[:-2] if wildcard else target)
        n = max(len(version), len(t))
        v, tp = pad(version, n), pad(t, n)
        if op in ("==", "===") and wildcard:
            ok = version[: len(t)] == t
        elif op == "!=" and wildcard:
            ok = version[: len(t)] != t
        elif op in ("==", "==="):
            ok = v == tp
        elif op == "!=":
            ok = v != tp
        elif op == ">=":
            ok = v >= tp
        elif op == "<=":
            ok = v <= tp
        elif op == ">":
            ok = v > tp
        elif op == "<":
            ok = v < tp
        elif op == "~=":
            if len(t) < 2:
                return False
            ok = v >= tp and version[: len(t) - 1] == t[:-1]
        else:
            ok = False
        if not ok:
            return False
    return True


def resolve(app):
    stack = os.environ.get("STACK", "this")
    fulls = os.environ.get("STACK_PYTHONS", "").split()
    default_full = os.environ.get("STACK_DEFAULT_PYTHON", "")
    mirror = bool(os.environ.get("DOPPEL_PYTHON_MIRROR"))
    by_minor = {".".join(f.split(".")[:2]): f for f in fulls}
    have = sorted(by_minor, key=as_tuple)
    if not have:
        raise Refusal(f"The {stack} build image has no python3.X interpreter.", "Rebuild the stack: doppel stack build " + stack)

    def choose(major, minor, patch, file, text):
        check_exists(major, minor, file, text)
        wanted = f"{major}.{minor}"
        if wanted in by_minor:
            full = by_minor[wanted]
            note = ""
            if patch is not None and f"{wanted}.{patch}" != full:
                note = (
                    f"{file} asks for Python {text}; the stack's Python {wanted} is {full} "
                    f"(doppel cannot install other patch releases of a minor the stack has)."
                )
            return dict(version=wanted, full=full, origin="stack", note=note)
        if mirror:
            full = f"{wanted}.{patch}" if patch is not None else wanted
            return dict(version=wanted, full=full, origin="mirror", note="")
        raise unavailable(wanted, file, stack, have)

    text = read_python_version(app)
    if text is not None:
        v = parse(text)
        if v is None:
            raise Refusal(
                f"The .python-version file asks for {text!r}, which is not a Python version.",
                "Write the version as major.minor (3.14) or major.minor.patch (3.14.2), on its own line.",
            )
        return dict(choose(*v, ".python-version", text), source=".python-version")

    text = read_runtime_txt(app)
    if text is not None:
        v = parse(text[len("python-"):]) if text.startswith("python-") else None
        if v is None:
            raise Refusal(
                f"runtime.txt says {text!r}, which is not a Python version.",
                "Write it as python-3.14.2 (or delete runtime.txt and write 3.14 into .python-version).",
            )
        return dict(choose(*v, "runtime.txt", text[len("python-"):]), source="runtime.txt")

    text = read_pipfile_lock(app)
    if text is not None:
        v = parse(text)
        if v is None:
            raise Refusal(
                f"Pipfile.lock asks for Python {text!r}, which is not a Python version.",
                "Set python_version in the Pipfile's [requires] (e.g. \"3.14\") and run `pipenv lock`.",
            )
        return dict(choose(*v, "Pipfile.lock", text), source="Pipfile.lock")

    spec = requires_python(app)
    if spec:
        clauses = spec_clauses(spec, "pyproject.toml")
        fits = [m for m in have if satisfies(as_tuple(by_minor[m]), clauses)]
        default_minor = ".".join(default_full.split(".")[:2])
        if fits:
            # The stack's default when it fits (the release the stack is made around), else
            # the newest that fits.
            best = default_minor if default_minor in fits else fits[-1]
            return dict(
                version=best,
                full=by_minor[best],
                origin="stack",
                note=f"requires-python {spec!r} in pyproject.toml allows {', '.join(fits)} on this stack",
                source="pyproject.toml",
            )
        elsewhere = [
            f"{name} ({m})"
            for name, minors in stack_index().items()
            for m in minors
            if satisfies(as_tuple(m), clauses)
        ]
        lines = [
            f"pyproject.toml requires-python {spec!r} matches none of the {stack} stack's Pythons ({', '.join(have)})."
        ]
        if elsewhere:
            lines.append(f"Stacks with a matching Python: {', '.join(elsewhere)}; or change requires-python.")
        else:
            lines.append("Change requires-python to allow one of " + ", ".join(have) + ".")
        raise Refusal(*lines)

    minor = ".".join(default_full.split(".")[:2])
    return dict(version=minor, full=default_full, origin="stack", note="", source="default")


def main(argv):
    if len(argv) != 2:
        print("usage: runtime.py APP_DIR", file=sys.stderr)
        return 2
    try:
        result = resolve(argv[1])
    except Refusal as r:
        for line in r.lines:
            print(" !     " + line)
        return 1
    for key in ("version", "full", "source", "origin", "note"):
        value = str(result.get(key, "")).replace("'", "'\\''")
        print(f"{key}='{value}'")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
