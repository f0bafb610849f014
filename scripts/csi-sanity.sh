#!/usr/bin/env bash
# Runs the upstream CSI sanity suite (kubernetes-csi csi-test `csi-sanity`) against the
# sharedipc CSI node plugin (`sharedipc-agent csi`, driver shm.sharedipc.dev). csi-sanity is
# built from Go modules at a pinned version into a cache outside the repository (like
# scripts/kube-binaries.sh: under a lock, idempotent, nothing downloaded but Go modules).
# The driver runs from the agent's shaded jar with a temporary state directory and no API
# server (the membership check is shown by the agent's CsiMembershipIT instead).
#
# Usage: scripts/csi-sanity.sh [ensure|run]   (default: run; ensure only builds csi-sanity)
# Exit status: 0 when every spec that runs passes; csi-sanity's status otherwise.
#
# Environment (all optional):
#   SHAREDIPC_CSI_TEST_VERSION  csi-test version (v5.4.0)
#   SHAREDIPC_CACHE             cache root (~/.cache/sharedipc)
#   SHAREDIPC_AGENT_JAR         the agent jar (agent/target/sharedipc-agent.jar; sharedipc-agent-csi.jar beside it)
#   JAVA                        java binary (java on the PATH)
#
# Specs skipped, each because it needs CreateVolume, which a plugin of ephemeral inline
# volumes does not have (no CONTROLLER_SERVICE capability; the kubelet makes these
# volumes by NodePublishVolume alone):
#   - "NodeUnpublishVolume should remove target path": creates a volume to publish it.
#     The same behaviour (the target path is gone after unpublish) is asserted by CsiNodeIT.
#   - "ValidateVolumeCapabilities should fail when no volume capabilities are provided":
#     creates a volume first so that only the capabilities are missing (the case without
#     a volume id, and with an unknown volume, run and pass).
#   - "ValidateVolumeCapabilities should return appropriate values": validates a created volume.
# Every other Controller spec skips itself: the plugin reports no controller RPC capability.
set -euo pipefail

CSI_TEST_VERSION="${SHAREDIPC_CSI_TEST_VERSION:-v5.4.0}"
SHAREDIPC_CACHE="${SHAREDIPC_CACHE:-$HOME/.cache/sharedipc}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AGENT_JAR="${SHAREDIPC_AGENT_JAR:-$ROOT/agent/target/sharedipc-agent.jar}"
JAVA="${JAVA:-java}"
BIN_DIR="$SHAREDIPC_CACHE/csi-sanity/$CSI_TEST_VERSION"
SANITY="$BIN_DIR/csi-sanity"
LOCK_FILE="$SHAREDIPC_CACHE/csi-sanity.lock"

PROG="csi-sanity"
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

SKIPS=(
  'NodeUnpublishVolume should remove target path'
  'ValidateVolumeCapabilities should fail when no volume capabilities are provided'
  'ValidateVolumeCapabilities should return appropriate values'
)

ensure() {
  [[ -x "$SANITY" ]] && return 0
  command -v go >/dev/null 2>&1 || die "'go' is needed to build csi-sanity $CSI_TEST_VERSION from Go modules"
  command -v flock >/dev/null 2>&1 || die "'flock' (util-linux) is needed to serialize builds"
  mkdir -p "$SHAREDIPC_CACHE"
  exec 8>"$LOCK_FILE"
  if ! flock -n 8; then
    log "another build holds $LOCK_FILE; waiting"
    flock 8
  fi
  if [[ ! -x "$SANITY" ]]; then
    local tmp
    tmp="$(mktemp -d "$SHAREDIPC_CACHE/csi-sanity.XXXXXX")"
    log "building csi-sanity $CSI_TEST_VERSION into $BIN_DIR"
    if ! CGO_ENABLED=0 GOBIN="$tmp" go install -trimpath \
      "github.com/kubernetes-csi/csi-test/v5/cmd/csi-sanity@$CSI_TEST_VERSION"; then
      rm -rf "$tmp"
      die "go install github.com/kubernetes-csi/csi-test/v5/cmd/csi-sanity@$CSI_TEST_VERSION failed (see above; check 'go env GOPROXY')"
    fi
    mkdir -p "$BIN_DIR"
    mv "$tmp/csi-sanity" "$SANITY"
    rm -rf "$tmp"
  fi
  exec 8>&-
}

run() {
  ensure
  [[ -f "$AGENT_JAR" ]] || die "no agent jar at $AGENT_JAR: build it with ./mvnw -B -pl agent -am package -DskipTests"
  local work driver_pid rc=0
  work="$(mktemp -d)"
  # the driver's libraries are in sharedipc-agent-csi.jar beside the agent's jar, as agent/bin/sharedipc-agent runs it
  "$JAVA" -cp "$AGENT_JAR:${AGENT_JAR%.jar}-csi.jar" dev.sharedipc.agent.cli.Main csi --endpoint "unix://$work/csi.sock" --node-id csi-sanity-node \
    --state-dir "$work/state" >"$work/driver.log" 2>&1 &
  driver_pid=$!
  # shellcheck disable=SC2064 # expand now: the values are fixed
  trap "kill $driver_pid 2>/dev/null || true; wait $driver_pid 2>/dev/null || true; rm -rf '$work'" EXIT
  for _ in $(seq 1 300); do
    [[ -S "$work/csi.sock" ]] && break
    kill -0 "$driver_pid" 2>/dev/null || { cat "$work/driver.log" >&2; die "the driver exited before listening"; }
    sleep 0.1
  done
  [[ -S "$work/csi.sock" ]] || { cat "$work/driver.log" >&2; die "the driver did not listen on $work/csi.sock within 30s"; }
  local args=(--csi.endpoint "$work/csi.sock" --csi.mountdir "$work/mnt" --csi.stagingdir "$work/stage" --ginkgo.no-color)
  for s in "${SKIPS[@]}"; do
    args+=(--ginkgo.skip "$s")
  done
  "$SANITY" "${args[@]}" || rc=$?
  if [[ $rc -ne 0 ]]; then
    log "csi-sanity failed (exit $rc); the driver's log:"
    cat "$work/driver.log" >&2
  fi
  return $rc
}

case "${1:-run}" in
  ensure) ensure ;;
  run) run ;;
  help | -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2 ;;
  *) usage_error csi-sanity.sh action "$1" ensure run help ;;
esac
