#!/usr/bin/env bash
# Builds the Helm 3 CLI from its Go module (helm.sh/helm/v3/cmd/helm) at a pinned version,
# into a cache outside the repository. No release archive is downloaded: only the Go module
# proxy is used, like scripts/kube-binaries.sh. The chart in charts/sharedipc and the test
# operator/src/test/java/dev/sharedipc/operator/deploy/HelmChartIT.java use it.
#
# Usage: scripts/helm.sh [ensure|path|version|help]
#   ensure   build helm if it is missing (default action). Idempotent; when done it starts no
#            process but a shell test of two files, so it is fast.
#   path     print the helm binary's path (builds nothing; warns if it is not built yet)
#   version  print the pinned version
#
# Environment (all optional):
#   SHAREDIPC_HELM_VERSION  Helm version (helm.sh/helm/v3 tag)            (v3.22.0)
#   SHAREDIPC_CACHE         cache root                                   (~/.cache/sharedipc)
# The Go module proxy, module cache and build cache are the usual `go env` ones.
set -euo pipefail

# ---- pinned version ---------------------------------------------------------
# Newest v3 the Go module proxy served when pinned; builds with Go 1.26 (its go.mod says go 1.26.0).
SHAREDIPC_HELM_VERSION="${SHAREDIPC_HELM_VERSION:-v3.22.0}"
SHAREDIPC_CACHE="${SHAREDIPC_CACHE:-$HOME/.cache/sharedipc}"

PROG="helm.sh"
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

HELM_VERSION="v${SHAREDIPC_HELM_VERSION#v}"
[[ $HELM_VERSION =~ ^v3\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] ||
  die "SHAREDIPC_HELM_VERSION='$SHAREDIPC_HELM_VERSION' is not a v3.Y.Z Helm version (this script builds Helm 3)"

case "$(uname -s)" in
  Linux) GOOS_WANTED=linux ;;
  *) die "only Linux is supported; got $(uname -s)" ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) GOARCH_WANTED=amd64 ;;
  aarch64 | arm64) GOARCH_WANTED=arm64 ;;
  ppc64le) GOARCH_WANTED=ppc64le ;;
  *) die "unsupported machine architecture $(uname -m)" ;;
esac

BIN_DIR="$SHAREDIPC_CACHE/helm/${HELM_VERSION}-${GOOS_WANTED}-${GOARCH_WANTED}"
HELM_BIN="$BIN_DIR/helm"
STAMP="$BIN_DIR/.stamp"
LOCK_FILE="$SHAREDIPC_CACHE/helm.lock"
STAMP_KEY="helm $HELM_VERSION gomod, k8s version ldflags"

usage() {
  script_usage
  printf 'Now: Helm %s, binary %s\n' "$HELM_VERSION" "$HELM_BIN" >&2
}

# ---- checks -----------------------------------------------------------------
# Fast check, no process started: binary present, stamp present, not older than the binary, right key.
is_done() {
  local line=""
  [[ -x "$HELM_BIN" && -f "$STAMP" && ! "$HELM_BIN" -nt "$STAMP" ]] || return 1
  read -r line <"$STAMP" || true
  [[ "$line" == "$STAMP_KEY" ]]
}

# The version a binary reports (`helm version --template`), e.g. v3.22.0.
reported_version() { # binary
  "$1" version --template '{{.Version}}' 2>/dev/null || true
}

# The Kubernetes version a binary assumes without --kube-version, e.g. v1.37.0 (v1.20.0 when it
# was built without the k8s version ldflags).
default_kube_version() { # binary
  local dir out
  dir="$(mktemp -d)"
  mkdir -p "$dir/probe/templates"
  printf 'apiVersion: v2\nname: probe\nversion: 0.0.0\n' >"$dir/probe/Chart.yaml"
  printf '# {{ .Capabilities.KubeVersion.Version }}\n' >"$dir/probe/templates/v.yaml"
  out="$("$1" template probe "$dir/probe" 2>/dev/null | sed -n 's/^# \(v[0-9].*\)$/\1/p' || true)"
  rm -rf "$dir"
  printf '%s\n' "$out"
}

# True when a binary reports the pinned version and a real default Kubernetes version.
binary_ok() { # binary
  local kv
  [[ "$(reported_version "$1")" == "$HELM_VERSION" ]] || return 1
  kv="$(default_kube_version "$1")"
  [[ -n "$kv" && "$kv" != v1.20.* ]]
}

# A binary without a valid stamp (copied in by hand, stamp lost): accept it if it reports the
# pinned version, and stamp it.
adopt_existing() {
  [[ -x "$HELM_BIN" ]] || return 1
  if binary_ok "$HELM_BIN"; then
    echo "$STAMP_KEY" >"$STAMP"
    log "adopted $HELM_BIN (reports $HELM_VERSION)"
    return 0
  fi
  log "$HELM_BIN does not report $HELM_VERSION with a default Kubernetes version (helm template ...); rebuilding it"
  return 1
}

# ---- build ------------------------------------------------------------------
GO_PID=""
HEARTBEAT_PID=""
TMP_OUT=""
cleanup() {
  if [[ -n "$GO_PID" ]]; then
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

start_heartbeat() {
  local start=$SECONDS
  (
    # Must not keep the lock (fd 9) or a stray sleep alive after it is stopped.
    exec 9>&-
    n=0 sleeper=""
    trap 'if [[ -n "$sleeper" ]]; then kill "$sleeper" 2>/dev/null; fi; exit 0' TERM
    while kill -0 $$ 2>/dev/null; do
      sleep 10 &
      sleeper=$!
      wait "$sleeper" || true
      n=$((n + 1))
      if ((n % 6 == 0)); then log "still building helm $HELM_VERSION ($(((SECONDS - start) / 60)) min elapsed)"; fi
    done
  ) &
  HEARTBEAT_PID=$!
}

build_helm() {
  local t0=$SECONDS rc=0 got
  command -v go >/dev/null 2>&1 ||
    die "'go' not found on PATH. Install Go (>= the 'go' line of helm.sh/helm/v3@$HELM_VERSION's go.mod: 1.26 for v3.22) and rerun."
  log "building helm $HELM_VERSION from the Go module helm.sh/helm/v3 into $BIN_DIR; a first build takes ~5-10 min on 2 cores (later ones reuse the Go build cache)"
  log "go: $(go version); GOPROXY=$(go env GOPROXY); module cache $(go env GOMODCACHE)"
  TMP_OUT="$(mktemp -d "$BIN_DIR/.build.XXXXXX")"
  # The ldflags of Helm's Makefile: the version (else `helm version` says only "v3.22"), and the
  # Kubernetes version that `helm template`/`lint` assume without --kube-version, taken from the
  # k8s.io/client-go it is built with (v0.37.x -> 1.37; else Helm assumes 1.20 and refuses
  # charts with a newer kubeVersion).
  local json gomod cg k8s_minor ldflags
  json="$(cd "$TMP_OUT" && env GOWORK=off GOFLAGS=-mod=mod go mod download -json "helm.sh/helm/v3@$HELM_VERSION")" ||
    die "cannot download helm.sh/helm/v3@$HELM_VERSION from the Go module proxy ($(go env GOPROXY)); check the version exists: go list -m -versions helm.sh/helm/v3"
  gomod="$(sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")"
  [[ -n "$gomod" && -f "$gomod" ]] || die "no go.mod for helm.sh/helm/v3@$HELM_VERSION in: $json"
  cg="$(awk '$1 == "k8s.io/client-go" { print $2; exit }' "$gomod")"
  [[ $cg =~ ^v0\.([0-9]+)\. ]] || die "cannot find the k8s.io/client-go version in $gomod (found '$cg')"
  k8s_minor="${BASH_REMATCH[1]}"
  ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  local pkg
  for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
  done
  log "client-go $cg: default Kubernetes version 1.$k8s_minor"
  local cmd=(env GOWORK=off GOFLAGS=-buildvcs=false CGO_ENABLED=0 GO111MODULE=on
    GOOS="$GOOS_WANTED" GOARCH="$GOARCH_WANTED" GOBIN="$TMP_OUT"
    go -C "$TMP_OUT" install -trimpath -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION")
  start_heartbeat
  # In its own process group (setsid) so that a TERM to this script stops go and its compilers.
  if command -v setsid >/dev/null 2>&1; then
    setsid -w "${cmd[@]}" 9>&- &
  else
    "${cmd[@]}" 9>&- &
  fi
  GO_PID=$!
  wait "$GO_PID" || rc=$?
  GO_PID=""
  kill "$HEARTBEAT_PID" 2>/dev/null || true
  wait "$HEARTBEAT_PID" 2>/dev/null || true
  HEARTBEAT_PID=""
  if ((rc != 0)); then
    die "building helm $HELM_VERSION failed (go exit $rc; see the go output above). Check that the Go module proxy is reachable ('go env GOPROXY'), that the version exists ('go list -m -versions helm.sh/helm/v3'), that 'go version' is new enough (or set GOTOOLCHAIN=auto), and that there is disk space for 'go env GOMODCACHE GOCACHE'. SHAREDIPC_HELM_VERSION changes the version."
  fi
  [[ -x "$TMP_OUT/helm" ]] || die "go install produced no $TMP_OUT/helm"
  binary_ok "$TMP_OUT/helm" ||
    die "helm built but reports version '$(reported_version "$TMP_OUT/helm")' (want $HELM_VERSION) and default Kubernetes '$(default_kube_version "$TMP_OUT/helm")' (want 1.$k8s_minor)"
  # Rename on the same file system: a reader never sees a half-written binary.
  rm -f "$STAMP"
  mv -fT "$TMP_OUT/helm" "$HELM_BIN"
  echo "$STAMP_KEY" >"$STAMP"
  rm -rf "$TMP_OUT"
  TMP_OUT=""
  log "built and installed $HELM_BIN ($HELM_VERSION) in $(((SECONDS - t0) / 60))m$(((SECONDS - t0) % 60))s"
}

ensure() {
  is_done && return 0 # fast path: no lock, no go
  mkdir -p "$BIN_DIR"
  command -v flock >/dev/null 2>&1 || die "'flock' (util-linux) is needed to serialize builds"
  exec 9>"$LOCK_FILE"
  if ! flock -n 9; then
    log "another helm.sh is building (lock $LOCK_FILE); waiting for it"
    flock 9
  fi
  # Re-check under the lock: the other process may have built it.
  is_done && return 0
  adopt_existing && return 0
  # Under the lock, temp dirs left by a killed (SIGKILL) earlier build are stale.
  rm -rf "$BIN_DIR"/.build.*
  build_helm
}

main() {
  local action="${1:-ensure}"
  (($# <= 1)) || { usage; die "too many arguments: $*"; }
  case "$action" in
    -h | --help | help) usage ;;
    ensure) ensure ;;
    path)
      is_done || log "note: $HELM_BIN is not built yet; run: $0 ensure"
      printf '%s\n' "$HELM_BIN"
      ;;
    version) printf '%s\n' "$HELM_VERSION" ;;
    *) usage_error helm.sh action "$action" ensure path version ;;
  esac
}

main "$@"
