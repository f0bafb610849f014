# Sourced by bin/sharedipc-operator and bin/sharedipc-agent (POSIX sh): builds a launcher's jar
# when it is missing or incomplete, saying what it does and how long it takes, with a line per
# Maven module built instead of minutes of silence. Paths are printed relative to the repository.
#   ensure_jar COMMAND MODULE JAR   (JAR relative to the repository root, $repo)

# A jar (a zip) whose last 22 bytes are not an end-of-central-directory record was cut short: an
# interrupted build or copy. Maven writes no archive comment, so the record is at the very end.
jar_complete() {
  [ "$(tail -c 22 "$1" | head -c 4 | od -An -tx1 | tr -d ' \n')" = 504b0506 ]
}

ensure_jar() {
  _cmd=$1 _module=$2 _rel=$3
  if [ -f "$repo/$_rel" ] && ! jar_complete "$repo/$_rel"; then
    echo "$_cmd: $_rel is incomplete (an interrupted build?); removing it and building it again" >&2
    rm -f "$repo/$_rel"
  fi
  [ -f "$repo/$_rel" ] && return 0
  echo "$_cmd: $_rel is missing; building it: ./mvnw -pl $_module -am package -DskipTests" >&2
  echo "$_cmd: the first build downloads Maven's dependencies: about a minute (measured on 2 cores, 2026-12-08, with an empty Maven repository: 51 s for the operator, 66 s for the agent)" >&2
  _log="$repo/target/$_module-build.log"
  mkdir -p "$repo/target"
  _started=$(date +%s)
  # Maven's own log goes to a file; the terminal gets one line per module as Maven starts it.
  { (cd "$repo" && ./mvnw -B -ntp -pl "$_module" -am package -DskipTests) >"$_log" 2>&1; echo "rc=$?" >>"$_log"; } &
  _pid=$!
  _seen=0
  while kill -0 "$_pid" 2>/dev/null; do
    _seen=$(progress "$_cmd" "$_log" "$_seen" "$_started")
    sleep 1
  done
  wait "$_pid" || true
  progress "$_cmd" "$_log" "$_seen" "$_started" >/dev/null
  if [ "$(tail -n 1 "$_log")" != rc=0 ] || [ ! -f "$repo/$_rel" ] || ! jar_complete "$repo/$_rel"; then
    rm -f "$repo/$_rel"
    echo "$_cmd: the build failed; the last lines of ${_log#"$repo/"}:" >&2
    grep -E '^\[(ERROR|FATAL)\]' "$_log" | head -n 15 >&2 || true
    exit 1
  fi
  echo "$_cmd: built $_rel in $(($(date +%s) - _started)) s" >&2
}

# Prints to stderr each "Building <module> [i/n]" line of the log after the first $3, and echoes
# how many there are now.
progress() {
  _n=0
  grep -E '^\[INFO\] Building sharedipc .*\[[0-9]+/[0-9]+\]$' "$2" 2>/dev/null | while IFS= read -r _line; do
    _n=$((_n + 1))
    if [ "$_n" -gt "$3" ]; then
      _step=$(echo "$_line" | sed -E 's/^\[INFO\] Building (.+) [0-9]+\.[0-9][^ ]* +\[([0-9]+\/[0-9]+)\]$/\2 \1/')
      echo "$1: building $_step ($(($(date +%s) - $4)) s)" >&2
    fi
  done
  grep -cE '^\[INFO\] Building sharedipc .*\[[0-9]+/[0-9]+\]$' "$2" 2>/dev/null || true
}
