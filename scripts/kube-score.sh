#!/usr/bin/env bash
# Builds kube-score (github.com/zegl/kube-score), the manifest linter, from its Go module at a pinned
# version into a cache outside the repository; no release archive is downloaded. The test
# operator/src/test/java/dev/sharedipc/operator/deploy/ManifestLintIT.java runs it on deploy/ and on
# the rendered chart (docs/security.md, "What kube-score says").
#
# Usage: scripts/kube-score.sh [ensure|path|version|help]
#   ensure   build kube-score if it is missing (default action). Idempotent; when done it starts no
#            process but a shell test of two files, so it is fast.
#   path     print the binary's path (builds nothing; warns if it is not built yet)
#   version  print the pinned version
#
# Environment (all optional):
#   SHAREDIPC_KUBE_SCORE_VERSION  kube-score version (Go module tag)   (v1.20.0)
#   SHAREDIPC_CACHE               cache root                           (~/.cache/sharedipc)
# The Go module proxy, module cache and build cache are the usual `go env` ones.
set -euo pipefail

# ---- pinned version ---------------------------------------------------------
# The one version the Go module proxy served when pinned; its go.mod says go 1.23.0.
SHAREDIPC_KUBE_SCORE_VERSION="${SHAREDIPC_KUBE_SCORE_VERSION:-v1.20.0}"
SHAREDIPC_CACHE="${SHAREDIPC_CACHE:-$HOME/.cache/sharedipc}"

PROG="kube-score.sh"
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

VERSION="v${SHAREDIPC_KUBE_SCORE_VERSION#v}"
[[ $VERSION =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
  die "SHAREDIPC_KUBE_SCORE_VERSION='$SHAREDIPC_KUBE_SCORE_VERSION' is not a vX.Y.Z version"
MODULE="github.com/zegl/kube-score"
BIN_DIR="$SHAREDIPC_CACHE/kube-score/$VERSION"
BIN="$BIN_DIR/kube-score"
STAMP="$BIN_DIR/.stamp"
LOCK_FILE="$SHAREDIPC_CACHE/kube-score.lock"
STAMP_KEY="kube-score $VERSION gomod"

usage() {
  script_usage
  printf 'Now: kube-score %s, binary %s\n' "$VERSION" "$BIN" >&2
}

# Fast check, no process started: binary present, stamp present, not older than the binary, right key.
is_done() {
  local line=""
  [[ -x "$BIN" && -f "$STAMP" && ! "$BIN" -nt "$STAMP" ]] || return 1
  read -r line <"$STAMP" || true
  [[ "$line" == "$STAMP_KEY" ]]
}

# `kube-score version` of a binary built here says "kube-score version: v1.20.0, ...".
binary_ok() { # binary
  [[ "$("$1" version 2>/dev/null)" == "kube-score version: $VERSION,"* ]]
}

TMP_OUT=""
cleanup() { if [[ -n "$TMP_OUT" ]]; then rm -rf "$TMP_OUT"; fi; }
trap cleanup EXIT

build() {
  local t0=$SECONDS
  command -v go >/dev/null 2>&1 ||
    die "'go' not found on PATH. Install Go (1.23 or later: $MODULE@$VERSION's go.mod) and rerun."
  log "building kube-score $VERSION from the Go module $MODULE into $BIN_DIR; a first build takes ~2-4 min on 2 cores"
  TMP_OUT="$(mktemp -d "$BIN_DIR/.build.XXXXXX")"
  # exec: a TERM to this script reaches go itself; the lock (fd 9) is not handed to it.
  (exec env GOWORK=off GOFLAGS=-buildvcs=false CGO_ENABLED=0 GO111MODULE=on GOBIN="$TMP_OUT" \
    go -C "$TMP_OUT" install -trimpath -ldflags "-s -w -X main.version=$VERSION" \
    "$MODULE/cmd/kube-score@$VERSION" 9>&-) ||
    die "building kube-score $VERSION failed (see the go output above). Check the Go module proxy ('go env GOPROXY'), the version ('go list -m -versions $MODULE'), and disk space for 'go env GOMODCACHE GOCACHE'."
  binary_ok "$TMP_OUT/kube-score" ||
    die "kube-score built but reports '$("$TMP_OUT/kube-score" version 2>&1 || true)' (want $VERSION)"
  # Rename on the same file system: a reader never sees a half-written binary.
  rm -f "$STAMP"
  mv -fT "$TMP_OUT/kube-score" "$BIN"
  echo "$STAMP_KEY" >"$STAMP"
  log "built $BIN in $((SECONDS - t0)) s"
}

ensure() {
  is_done && return 0 # fast path: no lock, no go
  mkdir -p "$BIN_DIR"
  command -v flock >/dev/null 2>&1 || die "'flock' (util-linux) is needed to serialize builds"
  exec 9>"$LOCK_FILE"
  if ! flock -n 9; then
    log "another kube-score.sh is building (lock $LOCK_FILE); waiting for it"
    flock 9
  fi
  is_done && return 0 # the other one built it
  # A binary without a valid stamp (copied in by hand): kept if it reports the pinned version.
  if [[ -x "$BIN" ]] && binary_ok "$BIN"; then
    echo "$STAMP_KEY" >"$STAMP"
    log "adopted $BIN (reports $VERSION)"
    return 0
  fi
  rm -rf "$BIN_DIR"/.build.* # left by a killed earlier build; we hold the lock
  build
}

main() {
  local action="${1:-ensure}"
  (($# <= 1)) || { usage; die "too many arguments: $*"; }
  case "$action" in
    -h | --help | help) usage ;;
    ensure) ensure ;;
    path)
      is_done || log "note: $BIN is not built yet; run: $0 ensure"
      printf '%s\n' "$BIN"
      ;;
    version) printf '%s\n' "$VERSION" ;;
    *) usage_error kube-score.sh action "$action" ensure path version ;;
  esac
}

main "$@"
