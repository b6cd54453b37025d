# shellcheck shell=bash
# Shared helpers for doppel's built-in buildpacks: Heroku-style transcript output
# ("-----> " headlines, 7-space detail, " !     " errors), config-var export from
# ENV_DIR, and small stdlib-only JSON helpers. Sourced by each buildpack's bin/* scripts.

# Prints a headline: "-----> text".
topic() {
  echo "-----> $*"
}

# Prints an indented detail line: "       text".
info() {
  echo "       $*"
}

# Prints a warning block on stdout (Heroku prints warnings in the transcript).
warn() {
  echo " !     Warning: $*"
}

# Prints an error line on stderr-free stdout so it reaches the transcript in order.
error_line() {
  echo " !     $*"
}

# Indents every line of stdin by 7 spaces as it arrives; drops blank lines and the
# carriage returns of progress output.
indent() {
  local line
  while IFS= read -r line || [[ -n "$line" ]]; do
    line=${line//$'\r'/}
    [[ -z "${line//[[:space:]]/}" ]] && continue
    printf '       %s\n' "$line"
  done
}

# Runs a command with stdout+stderr indented; returns the command's exit status.
run_indented() {
  local status=0
  "$@" 2>&1 | indent || status=${PIPESTATUS[0]}
  return "$status"
}

# Exports every config var in ENV_DIR (one file per var) into the environment, except
# variables that would break the build tools themselves (the Heroku convention).
export_env_dir() {
  local env_dir=$1 file name
  local deny='^(PATH|GIT_DIR|CPATH|CPPATH|LD_PRELOAD|LIBRARY_PATH|LD_LIBRARY_PATH|PYTHONHOME|HOME|STACK|SOURCE_VERSION|BUILDPACK_URL)$'
  [[ -d "$env_dir" ]] || return 0
  for file in "$env_dir"/*; do
    [[ -f "$file" ]] || continue
    name=$(basename "$file")
    [[ "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || continue
    [[ "$name" =~ $deny ]] && continue
    export "$name=$(cat "$file")"
  done
}

# Prints a string as a double-quoted scalar that is valid in both JSON and YAML.
yaml_quote() {
  python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1"
}
