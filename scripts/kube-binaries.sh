#!/usr/bin/env bash
# Builds the Kubernetes test binaries (etcd, kube-apiserver, kubectl; on request
# kube-controller-manager, kube-scheduler, kwok, kwokctl) from Go modules with
# pinned versions, into a cache outside the repository, in the layout fabric8
# kube-api-test 7.5.x reads: $KUBE_API_TEST_DIR/k8s/<x.y.z>-linux-<arch>/.
# No release binaries are downloaded: only the Go module proxy is used.
#
# Usage: scripts/kube-binaries.sh [ensure|path|print-env|help] [component...]
#   ensure     build what is missing (default action; default components:
#              etcd kube-apiserver kubectl). Idempotent; a no-op when done.
#   path       print the binaries directory (builds nothing)
#   print-env  print `export ...` lines for kube-api-test (builds nothing)
# Components: etcd kube-apiserver kubectl kube-controller-manager
#             kube-scheduler kwok kwokctl, or "all"; kubelet (for the real
#             nodes' guests, scripts/real-node.sh; not part of "all").
#
# Environment (all optional):
#   SHAREDIPC_K8S_VERSION   Kubernetes version (k8s.io/kubernetes tag)
#   SHAREDIPC_ETCD_VERSION  etcd version (go.etcd.io/etcd/server/v3 tag)
#   SHAREDIPC_KWOK_VERSION  KWOK version (sigs.k8s.io/kwok tag)
#   SHAREDIPC_CACHE         cache root       (~/.cache/sharedipc)
#   KUBE_API_TEST_DIR       kube-api-test dir ($SHAREDIPC_CACHE/kube-api-test)
#   SHAREDIPC_KUBECTL       auto (default: link the kubectl on PATH if any,
#                           else build) | path (must link) | build (always build)
# The Go module proxy, module cache and build cache are the usual `go env` ones.
set -euo pipefail

# ---- pinned versions --------------------------------------------------------
# k8s.io/kubernetes tag; its staging modules are used at the matching v0.Y.Z. The default is the
# parent pom's kube.version: the one place that names the Kubernetes version of the tests and demo.
pom_kube_version() {
  sed -n 's:.*<kube.version>\(.*\)</kube.version>.*:\1:p' "$(dirname "${BASH_SOURCE[0]}")/../pom.xml" | head -1
}
SHAREDIPC_K8S_VERSION="${SHAREDIPC_K8S_VERSION:-v$(pom_kube_version)}"
[[ "$SHAREDIPC_K8S_VERSION" != v ]] || { echo "kube-binaries.sh: no <kube.version> in pom.xml; set SHAREDIPC_K8S_VERSION" >&2; exit 2; }
# go.etcd.io/etcd/server/v3: kubeadm pairs Kubernetes 1.34 to 1.37 with etcd 3.6.x.
SHAREDIPC_ETCD_VERSION="${SHAREDIPC_ETCD_VERSION:-v3.6.16}"
# sigs.k8s.io/kwok (its own module graph; simulates nodes/pods for any recent apiserver).
SHAREDIPC_KWOK_VERSION="${SHAREDIPC_KWOK_VERSION:-v0.8.0}"

SHAREDIPC_CACHE="${SHAREDIPC_CACHE:-$HOME/.cache/sharedipc}"
KUBE_API_TEST_DIR="${KUBE_API_TEST_DIR:-$SHAREDIPC_CACHE/kube-api-test}"
SHAREDIPC_KUBECTL="${SHAREDIPC_KUBECTL:-auto}"

DEFAULT_COMPONENTS=(etcd kube-apiserver kubectl)
ALL_COMPONENTS=(etcd kube-apiserver kubectl kube-controller-manager kube-scheduler kwok kwokctl)

PROG="kube-binaries"
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

# Accept versions with or without the leading "v".
K8S_VERSION="v${SHAREDIPC_K8S_VERSION#v}"
ETCD_VERSION="v${SHAREDIPC_ETCD_VERSION#v}"
KWOK_VERSION="v${SHAREDIPC_KWOK_VERSION#v}"
[[ $K8S_VERSION =~ ^v1\.([0-9]+)\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] ||
  die "SHAREDIPC_K8S_VERSION='$SHAREDIPC_K8S_VERSION' is not a v1.Y.Z Kubernetes version"
K8S_MINOR="${BASH_REMATCH[1]}"
# Staging modules (k8s.io/api, k8s.io/client-go, ...) are published as v0.Y.Z for v1.Y.Z.
K8S_STAGING_VERSION="v0.${K8S_VERSION#v1.}"
# kube-api-test's directory name: the version WITHOUT "v" (it sorts the names with
# Integer.parseInt on the dot-separated parts), then "-<os>-<arch>".
K8S_DIR_VERSION="${K8S_VERSION#v}"

case "$(uname -s)" in
  Linux) GOOS_WANTED=linux ;;
  *) die "only Linux is supported (kube-api-test's dir name here uses '-linux-'); got $(uname -s)" ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) GOARCH_WANTED=amd64 ;;
  aarch64 | arm64) GOARCH_WANTED=arm64 ;;
  ppc64le) GOARCH_WANTED=ppc64le ;;
  *) die "unsupported machine architecture $(uname -m)" ;;
esac

BIN_DIR="$KUBE_API_TEST_DIR/k8s/${K8S_DIR_VERSION}-${GOOS_WANTED}-${GOARCH_WANTED}"
SRC_DIR="$SHAREDIPC_CACHE/src"
LOCK_FILE="$SHAREDIPC_CACHE/build.lock"

usage() {
  script_usage
  printf 'Now: Kubernetes %s, etcd %s, KWOK %s, binaries dir %s\n' \
    "$K8S_VERSION" "$ETCD_VERSION" "$KWOK_VERSION" "$BIN_DIR" >&2
}

# ---- per-component facts ----------------------------------------------------
# Which build group produces a component: k8s (one shared go build), etcd, kwok.
group_of() {
  case "$1" in
    kube-apiserver | kube-controller-manager | kube-scheduler | kubectl | kubelet) echo k8s ;;
    etcd) echo etcd ;;
    kwok | kwokctl) echo kwok ;;
    *) return 1 ;;
  esac
}

# The version line a correct binary prints (see version_output).
expected_version_line() {
  case "$1" in
    kube-apiserver | kube-controller-manager | kube-scheduler | kubelet) echo "Kubernetes $K8S_VERSION" ;;
    kubectl) echo "Client Version: $K8S_VERSION" ;;
    etcd) echo "etcd Version: ${ETCD_VERSION#v}" ;;
    kwok | kwokctl) echo "$KWOK_VERSION" ;;
  esac
}

version_output() { # component binary
  case "$1" in
    kubectl) "$2" version --client 2>&1 ;;
    # e.g. "kwok version v0.8.0 go1.26.8 (linux/amd64)": one word a line
    kwok | kwokctl) "$2" --version 2>&1 | awk '{ for (i = 1; i <= NF; i++) print $i }' ;;
    *) "$2" --version 2>&1 ;;
  esac
}

# True when the binary prints exactly the expected version line.
version_ok() { # component binary
  local want line
  want="$(expected_version_line "$1")"
  while IFS= read -r line; do
    [[ "$line" == "$want" ]] && return 0
  done < <(version_output "$1" "$2" || true)
  return 1
}

# What the stamp file of a component must contain. A stamp is written after a
# binary passed version_ok; it is valid while the binary is not newer than it.
stamp_key() { # component
  case "$1" in
    etcd) echo "etcd $ETCD_VERSION gomod" ;;
    kwok | kwokctl) echo "$1 $KWOK_VERSION gomod" ;;
    kubectl)
      if [[ -L "$BIN_DIR/kubectl" ]]; then
        echo "kubectl link"
      else
        echo "kubectl $K8S_VERSION gomod"
      fi
      ;;
    *) echo "$1 $K8S_VERSION gomod" ;;
  esac
}
stamp_file() { echo "$BIN_DIR/.stamp-$1"; }

# Fast check, no process started: binary present and stamp matches.
is_done() { # component
  local bin stamp line=""
  bin="$BIN_DIR/$1"
  stamp="$(stamp_file "$1")"
  [[ -x "$bin" && -f "$stamp" && ! "$bin" -nt "$stamp" ]] || return 1
  [[ "$1" == kubectl && -L "$bin" && "$SHAREDIPC_KUBECTL" == build ]] && return 1
  read -r line <"$stamp" || true
  [[ "$line" == "$(stamp_key "$1")" ]]
}

write_stamp() { stamp_key "$1" >"$(stamp_file "$1")"; }

# Slower check for a binary without a valid stamp (e.g. copied in by hand):
# accept it if it reports the pinned version, and stamp it.
adopt_existing() { # component
  local bin="$BIN_DIR/$1"
  [[ -x "$bin" ]] || return 1
  if [[ "$1" == kubectl && -L "$bin" ]]; then
    [[ "$SHAREDIPC_KUBECTL" != build ]] || return 1
    write_stamp kubectl
    return 0
  fi
  if version_ok "$1" "$bin"; then
    write_stamp "$1"
    return 0
  fi
  log "$bin does not report '$(expected_version_line "$1")'; rebuilding it"
  return 1
}

# ---- kubectl from PATH ------------------------------------------------------
# kube-api-test runs kubectl only for a readiness check (`kubectl get ns default`),
# so a kubectl from PATH is good enough when the binaries dir has none.
link_kubectl_from_path() {
  local candidate
  [[ "$SHAREDIPC_KUBECTL" != build ]] || return 1
  candidate="$(command -v kubectl || true)"
  # Skip a kubectl that is not a file path, or is the (broken) one in BIN_DIR itself.
  if [[ "$candidate" == /* && ! "${candidate%/*}" -ef "$BIN_DIR" ]]; then
    if "$candidate" version --client >/dev/null 2>&1; then
      ln -sfn "$candidate" "$BIN_DIR/.kubectl.tmp.$$"
      mv -fT "$BIN_DIR/.kubectl.tmp.$$" "$BIN_DIR/kubectl"
      write_stamp kubectl
      log "linked kubectl -> $candidate ($("$candidate" version --client 2>/dev/null | head -n1)); set SHAREDIPC_KUBECTL=build to build kubectl $K8S_VERSION instead"
      return 0
    fi
  fi
  [[ "$SHAREDIPC_KUBECTL" != path ]] || die "SHAREDIPC_KUBECTL=path but no usable kubectl on PATH"
  return 1
}

# ---- Go module helpers ------------------------------------------------------
require_go() {
  command -v go >/dev/null 2>&1 ||
    die "'go' not found on PATH. Install Go (>= the 'go' line of the modules built: 1.24 for Kubernetes 1.34, 1.26 for etcd 3.6.16/KWOK 0.8.0) and rerun."
}

# go with a predictable environment: module mode, no workspace, static binaries.
go_env() {
  GO_ENV=(env GOWORK=off GOFLAGS=-buildvcs=false CGO_ENABLED=0 GO111MODULE=on
    GOOS="$GOOS_WANTED" GOARCH="$GOARCH_WANTED" ${GOBIN_OVERRIDE:+GOBIN="$GOBIN_OVERRIDE"})
}
gocmd() {
  local GO_ENV
  go_env
  "${GO_ENV[@]}" go "$@"
}

# Prints "<GoMod file>" of module@version (downloads it through the proxy if needed).
module_gomod() { # module@version
  local json gomod
  if ! json="$(cd "$SRC_DIR" && gocmd mod download -json "$1")"; then
    die "cannot download $1 from the Go module proxy ($(go env GOPROXY)); check the version exists: go list -m -versions ${1%@*}"
  fi
  gomod="$(sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")"
  [[ -n "$gomod" && -f "$gomod" ]] || die "no go.mod for $1 in: $json"
  echo "$gomod"
}

# Modules that a go.mod both requires and replaces with a local directory
# (k8s: the ./staging/src/k8s.io/* modules; etcd: ../api, ../client/... ).
# Output: "<module> <required version>" lines.
local_replaced_requires() { # go.mod file
  awk '
    { sub(/\/\/.*/, "") }
    /^require[ \t]*\(/ { blk = "req"; next }
    /^replace[ \t]*\(/ { blk = "rep"; next }
    blk != "" && /^[ \t]*\)/ { blk = ""; next }
    /^require[ \t]+[^( \t]/ { $1 = ""; $0 = $0; if (NF >= 2) req[$1] = $2; next }
    /^replace[ \t]+[^( \t]/ { $1 = ""; $0 = $0; rep_line(); next }
    blk == "req" && NF >= 2 { req[$1] = $2; next }
    blk == "rep" { rep_line() }
    function rep_line(   i) {
      for (i = 1; i <= NF; i++) if ($i == "=>") break
      if (i < NF && ($(i + 1) ~ /^\.\.?\// || $(i + 1) ~ /^\//) && (NF == i + 1)) local[$1] = 1
    }
    END { for (m in local) if (m in req) print m, req[m] }
  ' "$1" | LC_ALL=C sort
}

# The `go` line and the godebug directives of a go.mod, to copy into a wrapper.
go_and_godebug_lines() { # go.mod file
  awk '
    /^go[ \t]+[0-9]/ { print; next }
    /^godebug[ \t]*\(/ { inblk = 1; print; next }
    inblk { print; if ($0 ~ /^[ \t]*\)/) inblk = 0; next }
    /^godebug[ \t]/ { print }
  ' "$1"
}

# Writes a wrapper module's go.mod; keeps the previous go.sum when nothing changed.
write_wrapper_gomod() { # dir content
  local dir="$1" content="$2"
  mkdir -p "$dir"
  if [[ ! -f "$dir/go.mod.want" ]] || [[ "$(<"$dir/go.mod.want")" != "$content" ]] || [[ ! -f "$dir/go.mod" ]]; then
    printf '%s\n' "$content" >"$dir/go.mod.want"
    printf '%s\n' "$content" >"$dir/go.mod"
    rm -f "$dir/go.sum"
  fi
}

# ---- builds -----------------------------------------------------------------
HEARTBEAT_PID=""
GO_PID=""
TMP_OUT=""
cleanup() {
  if [[ -n "$GO_PID" ]]; then
    # Interrupted mid-build: stop go and its compiler/linker children (own process group).
    log "interrupted; stopping the go build (pid $GO_PID)"
    kill -TERM -- "-$GO_PID" 2>/dev/null || kill -TERM "$GO_PID" 2>/dev/null || true
    wait "$GO_PID" 2>/dev/null || true
  fi
  if [[ -n "$HEARTBEAT_PID" ]]; then
    kill "$HEARTBEAT_PID" 2>/dev/null || true
    wait "$HEARTBEAT_PID" 2>/dev/null || true
  fi
  if [[ -n "$TMP_OUT" ]]; then rm -rf "$TMP_OUT"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_heartbeat() { # what
  local what="$1" start=$SECONDS
  (
    # Must not keep the build lock (fd 9) or a stray sleep alive after it is stopped.
    exec 9>&-
    n=0 sleeper=""
    trap 'if [[ -n "$sleeper" ]]; then kill "$sleeper" 2>/dev/null; fi; exit 0' TERM
    # Also stops by itself if the script dies without running its EXIT trap.
    while kill -0 $$ 2>/dev/null; do
      sleep 10 &
      sleeper=$!
      wait "$sleeper" || true
      n=$((n + 1))
      if ((n % 6 == 0)); then log "still building $what ($(((SECONDS - start) / 60)) min elapsed)"; fi
    done
  ) &
  HEARTBEAT_PID=$!
}
stop_heartbeat() {
  if [[ -n "$HEARTBEAT_PID" ]]; then
    kill "$HEARTBEAT_PID" 2>/dev/null || true
    wait "$HEARTBEAT_PID" 2>/dev/null || true
    HEARTBEAT_PID=""
  fi
}

# Runs a go build; on failure explains what to do.
run_build() { # what, then the go command's arguments
  local what="$1" t0=$SECONDS rc=0
  shift
  local GO_ENV
  go_env
  start_heartbeat "$what"
  # In the background, in its own process group (setsid), so that a TERM to this
  # script stops go and all its compilers at once (see cleanup); without the build lock fd.
  if command -v setsid >/dev/null 2>&1; then
    setsid -w "${GO_ENV[@]}" go "$@" 9>&- &
  else
    "${GO_ENV[@]}" go "$@" 9>&- &
  fi
  GO_PID=$!
  wait "$GO_PID" || rc=$?
  GO_PID=""
  stop_heartbeat
  if ((rc != 0)); then
    die "building $what failed (go exit $rc; see the go output above). Check that the Go module proxy is reachable ('go env GOPROXY'), that 'go version' is new enough for the 'requires go >=' message if any (or set GOTOOLCHAIN=auto), and that there is disk space for the module/build caches ('go env GOMODCACHE GOCACHE'). Versions can be changed with SHAREDIPC_K8S_VERSION / SHAREDIPC_ETCD_VERSION / SHAREDIPC_KWOK_VERSION."
  fi
  log "built $what in $(((SECONDS - t0) / 60))m$(((SECONDS - t0) % 60))s"
}

# Checks the freshly built binaries in TMP_OUT and moves them into BIN_DIR
# (rename on the same file system: readers never see a half-written binary).
install_built() { # component...
  local c
  for c in "$@"; do
    [[ -x "$TMP_OUT/$c" ]] || die "go build produced no $TMP_OUT/$c"
    version_ok "$c" "$TMP_OUT/$c" ||
      die "$c built but its version output does not contain '$(expected_version_line "$c")': $(version_output "$c" "$TMP_OUT/$c" | head -n3)"
  done
  for c in "$@"; do
    rm -f "$(stamp_file "$c")"
    mv -fT "$TMP_OUT/$c" "$BIN_DIR/$c"
    write_stamp "$c"
    log "installed $BIN_DIR/$c ($(expected_version_line "$c"))"
  done
}

build_k8s() { # component...
  local gomod dir wrapper ldflags="-s -w" key mod ver pkgs=() c
  log "building $* $K8S_VERSION from Go modules into $BIN_DIR; a first build takes ~10-20 min on 2 cores (later ones reuse the Go build cache)"
  gomod="$(module_gomod "k8s.io/kubernetes@$K8S_VERSION")"
  dir="$SRC_DIR/k8s-$K8S_VERSION"
  wrapper="// Generated by scripts/kube-binaries.sh: builds k8s.io/kubernetes commands
// with its staging modules taken from their published $K8S_STAGING_VERSION tags.
module sharedipc.local/kube-binaries/k8s

$(go_and_godebug_lines "$gomod")

require k8s.io/kubernetes $K8S_VERSION

replace ("
  local n=0
  while read -r mod ver; do
    [[ -n "$mod" ]] || continue
    wrapper+=$'\n'"	$mod => $mod $K8S_STAGING_VERSION"
    n=$((n + 1))
  done < <(local_replaced_requires "$gomod")
  ((n > 0)) || die "found no locally replaced staging modules in $gomod; the wrapper technique needs revisiting"
  wrapper+=$'\n'")"
  write_wrapper_gomod "$dir" "$wrapper"
  log "wrapper module $dir/go.mod: k8s.io/kubernetes $K8S_VERSION + $n staging modules at $K8S_STAGING_VERSION"

  for key in gitVersion=$K8S_VERSION gitMajor=1 gitMinor=$K8S_MINOR; do
    ldflags+=" -X k8s.io/component-base/version.$key -X k8s.io/client-go/pkg/version.$key"
  done
  for c in "$@"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  TMP_OUT="$(mktemp -d "$BIN_DIR/.build.XXXXXX")"
  run_build "$* $K8S_VERSION" -C "$dir" build -mod=mod -trimpath \
    -tags selinux,notest,grpcnotrace -ldflags "$ldflags" -o "$TMP_OUT/" "${pkgs[@]}"
  install_built "$@"
  rm -rf "$TMP_OUT"
  TMP_OUT=""
}

build_etcd() {
  local gomod dir wrapper mod ver
  log "building etcd $ETCD_VERSION from Go modules into $BIN_DIR (a few minutes on 2 cores)"
  gomod="$(module_gomod "go.etcd.io/etcd/server/v3@$ETCD_VERSION")"
  dir="$SRC_DIR/etcd-$ETCD_VERSION"
  wrapper="// Generated by scripts/kube-binaries.sh: builds the etcd server binary
// (package go.etcd.io/etcd/server/v3, a main calling etcdmain.Main) with its sibling
// modules taken from their published tags instead of the repository's ../ paths.
module sharedipc.local/kube-binaries/etcd

$(go_and_godebug_lines "$gomod")

require go.etcd.io/etcd/server/v3 $ETCD_VERSION"
  while read -r mod ver; do
    [[ -n "$mod" ]] || continue
    wrapper+=$'\n'"replace $mod => $mod $ver"
  done < <(local_replaced_requires "$gomod")
  write_wrapper_gomod "$dir" "$wrapper"
  TMP_OUT="$(mktemp -d "$BIN_DIR/.build.XXXXXX")"
  run_build "etcd $ETCD_VERSION" -C "$dir" build -mod=mod -trimpath \
    -ldflags "-s -w" -o "$TMP_OUT/etcd" go.etcd.io/etcd/server/v3
  install_built etcd
  rm -rf "$TMP_OUT"
  TMP_OUT=""
}

build_kwok() { # component...
  local c pkgs=()
  log "building $* $KWOK_VERSION from Go modules into $BIN_DIR (a few minutes on 2 cores)"
  # sigs.k8s.io/kwok has no replace directives: `go install pkg@version` works as is.
  for c in "$@"; do pkgs+=("sigs.k8s.io/kwok/cmd/$c@$KWOK_VERSION"); done
  TMP_OUT="$(mktemp -d "$BIN_DIR/.build.XXXXXX")"
  # KubeVersion is the default Kubernetes version kwokctl uses for clusters.
  GOBIN_OVERRIDE="$TMP_OUT" run_build "$* $KWOK_VERSION" -C "$TMP_OUT" install -trimpath \
    -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=$K8S_DIR_VERSION" "${pkgs[@]}"
  install_built "$@"
  rm -rf "$TMP_OUT"
  TMP_OUT=""
}

# ---- actions ----------------------------------------------------------------
missing_components() { # component...
  local c
  for c in "$@"; do
    is_done "$c" || echo "$c"
  done
}

ensure() { # component...
  local todo=() c k8s=() kwok=() etcd=0
  mapfile -t todo < <(missing_components "$@")
  ((${#todo[@]} == 0)) && return 0 # fast path: no lock, no go

  mkdir -p "$SHAREDIPC_CACHE" "$SRC_DIR" "$BIN_DIR"
  command -v flock >/dev/null 2>&1 || die "'flock' (util-linux) is needed to serialize builds"
  exec 9>"$LOCK_FILE"
  if ! flock -n 9; then
    log "another kube-binaries.sh is building (lock $LOCK_FILE); waiting for it"
    flock 9
  fi
  # Re-check under the lock: the other process may have built what we need.
  todo=()
  for c in "$@"; do
    is_done "$c" || adopt_existing "$c" || todo+=("$c")
  done
  ((${#todo[@]} == 0)) && return 0
  # Under the lock, temp dirs left by a killed (SIGKILL) earlier build are stale.
  rm -rf "$BIN_DIR"/.build.* "$BIN_DIR"/.kubectl.tmp.*

  for c in "${todo[@]}"; do
    case "$c" in
      kubectl) link_kubectl_from_path || k8s+=(kubectl) ;;
      etcd) etcd=1 ;;
      kwok | kwokctl) kwok+=("$c") ;;
      *) k8s+=("$c") ;;
    esac
  done
  if ((etcd + ${#k8s[@]} + ${#kwok[@]} > 0)); then
    require_go
    log "go: $(go version); GOPROXY=$(go env GOPROXY); module cache $(go env GOMODCACHE)"
  fi
  ((${#k8s[@]} == 0)) || build_k8s "${k8s[@]}"
  ((etcd == 0)) || build_etcd
  ((${#kwok[@]} == 0)) || build_kwok "${kwok[@]}"
  log "done: $BIN_DIR"
}

print_env() {
  printf 'export KUBE_API_TEST_DIR=%q\n' "$KUBE_API_TEST_DIR"
  printf 'export KUBE_API_TEST_API_SERVER_VERSION=%q\n' "$K8S_DIR_VERSION"
  printf 'export SHAREDIPC_KUBE_BIN_DIR=%q\n' "$BIN_DIR"
  # KUBE_API_TEST_OFFLINE_MODE (like KUBE_API_TEST_STARTUP_TIMEOUT) must NOT be set for
  # kube-api-test 7.5.2/7.6.1: KubeAPIServerConfigBuilder turns the env string into a
  # Boolean with Class.cast() and throws ClassCastException (fixed upstream after 7.6.1,
  # commit c8952db5ae). With the version above and its directory present it never
  # downloads anyway; in code use KubeAPIServerConfigBuilder.withOfflineMode(true).
  printf '# KUBE_API_TEST_OFFLINE_MODE=true is not exported: kube-api-test <= 7.6.1 throws ClassCastException on it\n'
}

warn_if_missing() {
  local c
  for c in "${DEFAULT_COMPONENTS[@]}"; do
    if ! is_done "$c"; then
      log "note: $BIN_DIR/$c is not built yet; run: $0 ensure"
      return 0
    fi
  done
}

main() {
  local action="${1:-ensure}" comps=() c
  (($# == 0)) || shift
  case "$action" in
    -h | --help | help)
      usage
      return 0
      ;;
    ensure | path | print-env) ;;
    *) usage_error kube-binaries.sh action "$action" ensure path print-env ;;
  esac
  for c in "$@"; do
    if [[ "$c" == all ]]; then
      comps+=("${ALL_COMPONENTS[@]}")
    elif group_of "$c" >/dev/null; then
      comps+=("$c")
    else
      usage_error kube-binaries.sh component "$c" "${ALL_COMPONENTS[@]}" all
    fi
  done
  ((${#comps[@]} > 0)) || comps=("${DEFAULT_COMPONENTS[@]}")
  case "$SHAREDIPC_KUBECTL" in
    auto | path | build) ;;
    *) die "SHAREDIPC_KUBECTL must be auto, path or build (got '$SHAREDIPC_KUBECTL')" ;;
  esac

  case "$action" in
    ensure) ensure "${comps[@]}" ;;
    path)
      warn_if_missing
      printf '%s\n' "$BIN_DIR"
      ;;
    print-env)
      warn_if_missing
      print_env
      ;;
  esac
}

main "$@"
