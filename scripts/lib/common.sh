# Sourced by the repository's scripts (bash), after they set PROG: what every script says and
# does the same way. log and die print "PROG: ..." on stderr (die exits 1); script_usage prints the
# calling script's header comment (from its second line to `set -euo`); usage_error answers a
# misspelt command, option or name in one line with the closest valid choice and exit code 2, never
# the whole usage text; install_packages apt-gets the Debian packages a script needs on the host.

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() {
  printf '%s: error: %s\n' "$PROG" "$*" >&2
  exit 1
}

script_usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[1]}" >&2; }

# ---- usage errors -----------------------------------------------------------------------------
#   usage_error PROG WHAT BAD CHOICE...   e.g. usage_error local-cluster.sh option --nodez --nodes --real-nodes
# prints: local-cluster.sh: unknown option '--nodez' (did you mean --nodes?); see 'local-cluster.sh --help'
usage_error() {
  local prog=$1 what=$2 bad=$3 guess
  shift 3
  guess=$(closest_choice "$bad" "$@")
  printf "%s: unknown %s '%s'%s; see '%s --help'\n" "$prog" "$what" "$bad" \
    "${guess:+ (did you mean $guess?)}" "${prog%% *}" >&2
  exit 2
}

# The choice nearest to $1 by edit distance, if it is at most a third of the longer word (at least
# 2): a typo's correction, not any word.
closest_choice() {
  local bad=${1%%=*} best='' best_d=999 c d limit
  shift
  for c in "$@"; do
    d=$(edit_distance "$bad" "$c")
    if ((d < best_d)); then best=$c best_d=$d; fi
  done
  limit=$(((${#bad} > ${#best} ? ${#bad} : ${#best}) / 3))
  ((limit >= 2)) || limit=2
  ((best_d <= limit)) && printf '%s' "$best"
  return 0
}

# Levenshtein distance of two short words.
edit_distance() {
  local a=$1 b=$2 i j cost
  local -a prev cur
  for ((j = 0; j <= ${#b}; j++)); do prev[j]=$j; done
  for ((i = 1; i <= ${#a}; i++)); do
    cur=("$i")
    for ((j = 1; j <= ${#b}; j++)); do
      [[ ${a:i-1:1} == "${b:j-1:1}" ]] && cost=0 || cost=1
      cur[j]=$((prev[j - 1] + cost))
      ((prev[j] + 1 < cur[j])) && cur[j]=$((prev[j] + 1))
      ((cur[j - 1] + 1 < cur[j])) && cur[j]=$((cur[j - 1] + 1))
    done
    prev=("${cur[@]}")
  done
  printf '%s' "${prev[${#b}]}"
}

# ---- host packages ----------------------------------------------------------------------------
# Installed on first use (as root, with apt-get; nothing happens when all are there), so that a
# fresh machine needs no step by hand.
#   install_packages PROG PURPOSE PACKAGE...   the packages the caller found missing (none: no-op)
install_packages() {
  local prog=$1 purpose=$2
  shift 2
  (($#)) || return 0
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    printf '%s: installing %s (Debian packages %s)\n' "$prog" "$*" "$purpose" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"; } >&2 || {
      printf '%s: error: apt-get install %s failed\n' "$prog" "$*" >&2
      exit 1
    }
  else
    printf '%s: error: %s needs %s on the host; install them with: sudo apt-get install %s\n' \
      "$prog" "$purpose" "$*" "$*" >&2
    exit 1
  fi
}
