# Sourced by the repository's scripts (bash): the Debian packages a script needs on the host,
# installed on first use (as root, with apt-get; idempotent: nothing happens when all are there),
# so that a fresh machine needs no step by hand.
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
