# Sourced by the repository's scripts (bash): a usage error in one line, naming the problem and the
# closest valid choice, with exit code 2, never the whole usage text.
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
