#!/usr/bin/env bash
# The sharedipc demo: one command, on a fresh Linux machine with Java 17 and Go.
#
# It builds what is missing (the Kubernetes binaries from Go modules, the jars with Maven),
# brings up a local control plane (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, KWOK simulated nodes; scripts/local-cluster.sh), installs everything in
# deploy/ but the operator's Deployment, runs the operator as a local process with ONLY its
# ServiceAccount's permissions (a token of sharedipc-operator, so deploy/'s RBAC is what is
# exercised), runs the node agent on this host as the agent of one simulated node (with a token
# bound to that node's agent pod), applies samples/, and shows what a user looks at. The agent's
# half: a SamePod group with orphanPolicy Delete gets a pod on that node, and a real IPC namespace
# of this host (an `unshare --ipc` process the demo starts) is mapped to that pod by a fixture proc
# root (<pid>/cgroup naming the pod, <pid>/ns/ipc linking the namespace), holding one attached
# segment and one orphan: the agent reports the segment into the group's status (usage) and removes
# the orphan, with an OrphanSegmentRemoved Event. A second group, orphanPolicy Report, gets the same
# with one orphan, which the agent keeps and reports: `kubectl sharedipc orphans` lists it, and
# `kubectl sharedipc top` (bin/kubectl-sharedipc, the kubectl plugin) closes the show. Needs root,
# unshare, nsenter and python3 for that part (skipped otherwise).
# Everything listens on 127.0.0.1.
#
# Usage: ./demo.sh [--keep] [--rebuild]
#   --keep      leave the control plane and the operator running at the end
#   --rebuild   rebuild the jars even if they exist
# Ctrl-C at any point stops what the demo started.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
# shellcheck source=scripts/lib/common.sh
. "$ROOT/scripts/lib/common.sh"
CLUSTER="$ROOT/scripts/local-cluster.sh"
DEMO_DIR="$ROOT/target/demo"
OPERATOR_JAR="$ROOT/operator/target/sharedipc-operator.jar"
AGENT_JAR="$ROOT/agent/target/sharedipc-agent.jar"
NS=sharedipc-demo
# Samples that ask for hostIPC go to a namespace of their own, labelled for it (see step 7), so
# that a policy meant for that namespace does not also govern the other samples.
NS_HOSTIPC=sharedipc-demo-hostipc
AGENT_NODE=kwok-node-0
# The SamePod group of the agent's half (see the header), and what its IPC namespace holds.
AGENT_GROUP=feed
HELD_BYTES=4096
ORPHAN_BYTES=262144
# The Report group of the agent's half: its orphan stays, and the plugin lists it.
REPORT_GROUP=archive
REPORT_ORPHAN_BYTES=131072

KEEP=0
REBUILD=0
for arg in "$@"; do
  case "$arg" in
    --keep) KEEP=1 ;;
    --rebuild) REBUILD=1 ;;
    -h | --help)
      sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
      exit 0
      ;;
    *) usage_error demo.sh option "$arg" --keep --rebuild --help ;;
  esac
done

if [[ -t 1 ]]; then
  B=$'\e[1m' DIM=$'\e[2m' G=$'\e[32m' Y=$'\e[33m' R=$'\e[31m' N=$'\e[0m'
else
  B="" DIM="" G="" Y="" R="" N=""
fi
START=$SECONDS
STEP=0
TOTAL_STEPS=10
step() {
  STEP=$((STEP + 1))
  printf '\n%s==> [%d/%d] %s%s %s(%ds)%s\n' "$B" "$STEP" "$TOTAL_STEPS" "$*" "$N" "$DIM" $((SECONDS - START)) "$N"
}
say() { printf '    %s\n' "$*"; }
note() { printf '    %s%s%s\n' "$Y" "$*" "$N"; }
# Shows a command, then runs it.
run() {
  printf '%s$ %s%s\n' "$DIM" "$*" "$N"
  "$@"
}
fail() {
  printf '%sdemo.sh: %s%s\n' "$R" "$*" "$N" >&2
  exit 1
}

# ---- teardown ------------------------------------------------------------------
OPERATOR_PID=""
AGENT_PID=""
CLUSTER_WAS_UP=0
STARTED_CLUSTER=0
SEGMENT_ID=""
IPC_NS_PID=""
HOLDER_PID=""
REPORT_NS_PID=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if ((KEEP && rc == 0)); then
    printf '\n%sLeft running (--keep).%s\n' "$B" "$N"
    say "export KUBECONFIG=$KUBECONFIG"
    say "operator: pid $OPERATOR_PID, log $DEMO_DIR/operator.log, http://127.0.0.1:$OPERATOR_PORT/metrics"
    [[ -z "$AGENT_PID" ]] || say "agent:    pid $AGENT_PID, log $DEMO_DIR/agent.log"
    [[ -z "$SEGMENT_ID" ]] || say "demo segment: shmid $SEGMENT_ID (ipcrm -m $SEGMENT_ID)"
    [[ -z "$IPC_NS_PID" ]] || say "IPC namespace of group $NS/$AGENT_GROUP: held by pids $IPC_NS_PID $HOLDER_PID"
    [[ -z "$REPORT_NS_PID" ]] || say "IPC namespace of group $NS/$REPORT_GROUP: held by pid $REPORT_NS_PID"
    say "stop it all: kill ${OPERATOR_PID}${AGENT_PID:+ $AGENT_PID}${IPC_NS_PID:+ $IPC_NS_PID $HOLDER_PID}${REPORT_NS_PID:+ $REPORT_NS_PID}; scripts/local-cluster.sh down"
    return
  fi
  printf '\n%s==> tearing down%s\n' "$B" "$N"
  stop_process agent "$AGENT_PID"
  stop_process operator "$OPERATOR_PID"
  # The namespace dies with its last process, and the kernel frees its segments with it.
  stop_process "segment holder" "$HOLDER_PID"
  stop_process "IPC namespace holder" "$IPC_NS_PID"
  stop_process "IPC namespace holder" "$REPORT_NS_PID"
  rm -rf "$DEMO_DIR/proc"
  if [[ -n "$SEGMENT_ID" ]]; then
    ipcrm -m "$SEGMENT_ID" 2>/dev/null && say "removed the demo's System V segment (shmid $SEGMENT_ID)"
    rm -f "$DEMO_DIR/segment.id"
  fi
  if ((STARTED_CLUSTER)); then
    "$CLUSTER" down || rc=1
  elif ((CLUSTER_WAS_UP)); then
    say "the local control plane was already running before the demo: left running (scripts/local-cluster.sh down stops it)"
  fi
  if ((rc == 0)); then
    printf '%sdone in %ds%s\n' "$G" $((SECONDS - START)) "$N"
  elif ((rc == 130 || rc == 143)); then
    printf '%sinterrupted after %ds; everything the demo started is stopped%s\n' "$Y" $((SECONDS - START)) "$N" >&2
  else
    printf '%sdemo.sh failed (exit %d) after %ds; logs in %s and target/local-cluster/logs%s\n' "$R" "$rc" $((SECONDS - START)) "$DEMO_DIR" "$N" >&2
  fi
  exit "$rc"
}
stop_process() { # name pid
  local i
  [[ -n "$2" ]] && kill -0 "$2" 2>/dev/null || return 0
  say "stopping the $1 (pid $2)"
  kill -TERM "$2" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$2" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$2" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A free port on 127.0.0.1 below the ephemeral range.
free_port() {
  local p i
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + RANDOM % 10000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
    [[ -z "$(ss -Htan "( sport = :$p )" 2>/dev/null)" ]] || continue
    echo "$p"
    return 0
  done
  fail "no free port found on 127.0.0.1"
}

# Waits (bounded) until a command succeeds; false when it did not in time.
wait_until() { # seconds command...
  local limit=$1 t0=$SECONDS
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS - t0 < limit)) || return 1
    sleep 0.5
  done
}

# A kubeconfig for this cluster whose only credential is a ServiceAccount token.
write_kubeconfig() { # file user token namespace
  local server ca
  server="$(kubectl config view --raw -o jsonpath='{.clusters[0].cluster.server}')"
  ca="$(kubectl config view --raw -o jsonpath='{.clusters[0].cluster.certificate-authority-data}')"
  (
    umask 077
    cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: sharedipc-local
  cluster: {server: "$server", certificate-authority-data: "$ca"}
users:
- name: $2
  user: {token: "$3"}
contexts:
- name: $2
  context: {cluster: sharedipc-local, user: $2, namespace: $4}
current-context: $2
EOF
  )
}

mkdir -p "$DEMO_DIR"
# An operator or agent that an earlier `./demo.sh --keep` left running would fight this run's.
for name in operator agent; do
  if [[ -f "$DEMO_DIR/$name.pid" ]]; then
    pid="$(<"$DEMO_DIR/$name.pid")"
    if [[ -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$DEMO_DIR/"; then
      say "stopping the $name an earlier ./demo.sh --keep left running"
      stop_process "$name" "$pid"
    fi
    rm -f "$DEMO_DIR/$name.pid"
  fi
done
if [[ -f "$DEMO_DIR/segment.id" ]]; then
  ipcrm -m "$(<"$DEMO_DIR/segment.id")" 2>/dev/null || true
  rm -f "$DEMO_DIR/segment.id"
fi

# ---- 1. binaries -----------------------------------------------------------------
step "Kubernetes binaries (built from Go modules on first use, cached in ~/.cache/sharedipc)"
command -v java >/dev/null || fail "java (17+) is not on PATH"
run bash scripts/kube-binaries.sh ensure etcd kube-apiserver kube-controller-manager kube-scheduler kwok kubectl
BIN_DIR="$(bash scripts/kube-binaries.sh path 2>/dev/null)"
# bin/ for the kubectl plugin (kubectl finds bin/kubectl-sharedipc as `kubectl sharedipc`).
export PATH="$ROOT/bin:$BIN_DIR:$PATH"
say "kubectl: $(command -v kubectl), binaries in $BIN_DIR"

# ---- 2. jars -----------------------------------------------------------------------
step "The operator and agent jars"
if ((REBUILD)) || [[ ! -f "$OPERATOR_JAR" ]]; then
  say "building with Maven (a first build downloads Maven and the dependencies)"
  run ./mvnw -B -q -DskipTests package
else
  say "using $OPERATOR_JAR (built $(date -r "$OPERATOR_JAR" '+%F %T'); ./demo.sh --rebuild rebuilds)"
  if [[ -n "$(find operator/src api/src -newer "$OPERATOR_JAR" -type f -print -quit 2>/dev/null)" ]]; then
    note "the sources changed since that jar was built: ./demo.sh --rebuild to use them"
  fi
fi
[[ -f "$OPERATOR_JAR" ]] || fail "no $OPERATOR_JAR after the build"
if [[ -f "$AGENT_JAR" ]]; then say "agent: $AGENT_JAR"; else note "no $AGENT_JAR: the agent steps are skipped"; fi

# ---- 3. control plane --------------------------------------------------------------
step "A local control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, 3 KWOK nodes"
if "$CLUSTER" status >/dev/null 2>&1; then CLUSTER_WAS_UP=1; else STARTED_CLUSTER=1; fi
run "$CLUSTER" up --nodes 3 >/dev/null
export KUBECONFIG="$ROOT/target/local-cluster/kubeconfig"
run kubectl get nodes -o wide

# ---- 4. CRDs and RBAC ----------------------------------------------------------------
step "Install deploy/: CRDs, RBAC, admission policies, the agent DaemonSet (all but the operator's Deployment)"
say "the operator's Deployment is left out: its image is not pullable here, so the demo runs the operator"
say "as a local process instead, with the same ServiceAccount and RBAC. The agent DaemonSet is installed:"
say "KWOK pretends to run its pods on the simulated nodes, and the agent process on this host will act as"
say "the one on $AGENT_NODE, with a token bound to that pod"
kubectl kustomize deploy/ >"$DEMO_DIR/deploy.yaml"
awk -v RS='\n---\n' -v ORS='\n---\n' '!/(^|\n)kind: Deployment\n/' "$DEMO_DIR/deploy.yaml" >"$DEMO_DIR/deploy-without-operator.yaml"
run kubectl apply --server-side --force-conflicts -f "$DEMO_DIR/deploy-without-operator.yaml"
run kubectl wait --for=condition=Established --timeout=60s crd/sharedipcgroups.sharedipc.dev crd/sharedipcnodes.sharedipc.dev crd/sharedipcpolicies.sharedipc.dev

# ---- 5. operator -----------------------------------------------------------------------
step "Run the operator as ServiceAccount sharedipc-system/sharedipc-operator"
TOKEN="$(kubectl create token sharedipc-operator -n sharedipc-system --duration=24h)"
OPERATOR_KUBECONFIG="$DEMO_DIR/operator.kubeconfig"
write_kubeconfig "$OPERATOR_KUBECONFIG" sharedipc-operator "$TOKEN" sharedipc-system
say "its kubeconfig ($OPERATOR_KUBECONFIG) holds only a token of that ServiceAccount:"
run kubectl --kubeconfig "$OPERATOR_KUBECONFIG" auth whoami -o jsonpath='{.status.userInfo.username}{"\n"}'
OPERATOR_PORT="$(free_port)"
# A copy: a rebuild of operator/target meanwhile must not pull classes from under the running JVM.
cp -f "$OPERATOR_JAR" "$DEMO_DIR/sharedipc-operator.jar"
say "running a copy of ${OPERATOR_JAR#"$ROOT"/} (so that a rebuild meanwhile cannot break it):"
printf '%s$ java -jar %s run --no-leader-election --http-address 127.0.0.1 --http-port %s --kubeconfig %s >%s 2>&1 &%s\n' \
  "$DIM" "${DEMO_DIR#"$ROOT"/}/sharedipc-operator.jar" "$OPERATOR_PORT" "${OPERATOR_KUBECONFIG#"$ROOT"/}" "${DEMO_DIR#"$ROOT"/}/operator.log" "$N"
java -jar "$DEMO_DIR/sharedipc-operator.jar" run --no-leader-election --http-address 127.0.0.1 --http-port "$OPERATOR_PORT" \
  --kubeconfig "$OPERATOR_KUBECONFIG" </dev/null >"$DEMO_DIR/operator.log" 2>&1 &
OPERATOR_PID=$!
echo "$OPERATOR_PID" >"$DEMO_DIR/operator.pid"
operator_ready() {
  kill -0 "$OPERATOR_PID" 2>/dev/null || {
    tail -n 30 "$DEMO_DIR/operator.log" >&2
    fail "the operator exited (log: $DEMO_DIR/operator.log)"
  }
  curl -fsS -m 2 "http://127.0.0.1:$OPERATOR_PORT/readyz" >/dev/null 2>&1
}
t0=$SECONDS
until operator_ready; do
  ((SECONDS - t0 < 90)) || fail "the operator is not ready after 90s (log: $DEMO_DIR/operator.log)"
  sleep 0.5
done
say "operator ready (pid $OPERATOR_PID): $(curl -fsS "http://127.0.0.1:$OPERATOR_PORT/readyz")"

# A SamePod group NAME with orphanPolicy POLICY (grace 1s), its one pod pinned to $AGENT_NODE.
apply_agent_group() { # name policy
  printf '%s$ kubectl apply --server-side -n %s -f - (SharedIpcGroup %s, orphanPolicy %s)%s\n' "$DIM" "$NS" "$1" "$2" "$N"
  kubectl apply --server-side -n "$NS" -f - <<EOF
apiVersion: sharedipc.dev/v1alpha1
kind: SharedIpcGroup
metadata:
  name: $1
spec:
  replicas: 1
  placement: SamePod
  sharedMemory: {size: 64Mi, mountPath: /dev/shm, accountTo: writer}
  segments: {orphanPolicy: $2, orphanGracePeriod: 1s, maxSegments: 16}
  members:
    - name: writer
      template:
        spec:
          nodeSelector: {kubernetes.io/hostname: $AGENT_NODE}
          containers:
            - name: writer
              image: busybox:1.36
              command: [sh, -c, "sleep infinity"]
              resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {memory: 32Mi}}
EOF
}

# A new IPC namespace on this host standing for the containers of group NAME's pod on $AGENT_NODE,
# mapped to that pod under $DEMO_DIR/proc; its holder's pid in NEW_NS_PID. False (with a note) on failure.
pod_ipc_namespace() { # name
  local uid host_ns
  pod_running() {
    [[ "$(kubectl get pod -n "$NS" "$1-0" -o jsonpath='{.spec.nodeName} {.status.phase}' 2>/dev/null)" == "$AGENT_NODE Running" ]]
  }
  wait_until 60 pod_running "$1" || { note "pod $NS/$1-0 is not Running on $AGENT_NODE after 60s"; return 1; }
  uid="$(kubectl get pod -n "$NS" "$1-0" -o jsonpath='{.metadata.uid}')"
  say "pod $NS/$1-0 (uid $uid) runs on $AGENT_NODE; a new IPC namespace on this host stands for its containers'"
  host_ns="$(readlink /proc/self/ns/ipc)"
  # No --fork: unshare execs sleep in the new namespace, so that sleep is the namespace's only process.
  unshare --ipc sleep 3600 </dev/null >/dev/null 2>&1 &
  NEW_NS_PID=$!
  ns_made() { local l; l="$(readlink "/proc/$NEW_NS_PID/ns/ipc")" && [[ "$l" != "$host_ns" ]]; }
  wait_until 10 ns_made || { note "unshare --ipc (pid $NEW_NS_PID) made no IPC namespace within 10s"; return 1; }
  # The fixture proc root: <pid>/cgroup names the pod (cgroup v2, systemd driver, containerd), <pid>/ns/ipc links the namespace.
  mkdir -p "$DEMO_DIR/proc/$NEW_NS_PID/ns"
  ln -s "/proc/$NEW_NS_PID/ns/ipc" "$DEMO_DIR/proc/$NEW_NS_PID/ns/ipc"
  printf '0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod%s.slice/cri-containerd-%s.scope\n' \
    "${uid//-/_}" "$(printf 'ab%.0s' {1..32})" >"$DEMO_DIR/proc/$NEW_NS_PID/cgroup"
  say "mapped to the pod by ${DEMO_DIR#"$ROOT"/}/proc/$NEW_NS_PID/{cgroup,ns/ipc}"
}

# The agent's half (see the header): group $AGENT_GROUP's pod on $AGENT_NODE, a real IPC namespace with
# an attached segment and an orphan; group $REPORT_GROUP's, with an orphan. False (with a note) when
# this host cannot (not root, or no unshare/nsenter/python3).
map_group_namespace() {
  local tool line orphan helper
  [[ $(id -u) == 0 ]] || { note "not root: no IPC namespace of our own to map to a pod"; return 1; }
  for tool in unshare nsenter python3; do
    command -v "$tool" >/dev/null || { note "no $tool on PATH"; return 1; }
  done
  kubectl get namespace "$NS" >/dev/null 2>&1 || run kubectl create namespace "$NS"
  wait_until 60 kubectl get serviceaccount default -n "$NS" || fail "no ServiceAccount $NS/default after 60s"
  say "a SamePod group whose orphans the agent removes, and one whose orphans it keeps and reports:"
  apply_agent_group "$AGENT_GROUP" Delete
  apply_agent_group "$REPORT_GROUP" Report
  pod_ipc_namespace "$AGENT_GROUP" || return 1
  IPC_NS_PID=$NEW_NS_PID
  helper=(nsenter "--ipc=/proc/$IPC_NS_PID/ns/ipc" python3 "$ROOT/agent/src/test/resources/shm_helper.py")
  # A writer that stays attached (nattch 1: in use, never removed) and one that created a segment and exited (an orphan).
  # Emptied first, here: the background job's own redirection truncates it only later, so a previous
  # run's shmid could be read, then vanish.
  : >"$DEMO_DIR/holder.out"
  "${helper[@]}" create 0x5e1c0001 "$HELD_BYTES" hold </dev/null >"$DEMO_DIR/holder.out" 2>&1 &
  HOLDER_PID=$!
  held_made() { [[ -s "$DEMO_DIR/holder.out" ]]; }
  if ! wait_until 10 held_made || ! line="$(head -n 1 "$DEMO_DIR/holder.out")" || [[ ! "$line" =~ ^[0-9]+$ ]]; then
    note "the segment helper made no attached segment: $(cat "$DEMO_DIR/holder.out")"
    return 1
  fi
  HELD_ID="$line"
  orphan="$("${helper[@]}" create 0x5e1c0002 "$ORPHAN_BYTES" </dev/null 2>&1)" || true
  [[ "$orphan" =~ ^[0-9]+$ ]] || { note "the segment helper made no orphan: $orphan"; return 1; }
  ORPHAN_ID="$orphan"
  say "in it: shmid $HELD_ID ($HELD_BYTES bytes, attached by pid $HOLDER_PID) and shmid $ORPHAN_ID ($ORPHAN_BYTES bytes, its creator gone):"
  run nsenter "--ipc=/proc/$IPC_NS_PID/ns/ipc" ipcs -m
  pod_ipc_namespace "$REPORT_GROUP" || return 1
  REPORT_NS_PID=$NEW_NS_PID
  helper=(nsenter "--ipc=/proc/$REPORT_NS_PID/ns/ipc" python3 "$ROOT/agent/src/test/resources/shm_helper.py")
  orphan="$("${helper[@]}" create 0x5e1c0003 "$REPORT_ORPHAN_BYTES" </dev/null 2>&1)" || true
  [[ "$orphan" =~ ^[0-9]+$ ]] || { note "the segment helper made no orphan: $orphan"; return 1; }
  REPORT_ORPHAN_ID="$orphan"
  say "in it: shmid $REPORT_ORPHAN_ID ($REPORT_ORPHAN_BYTES bytes, its creator gone)"
  MAPPED=1
}
MAPPED=0
HELD_ID=""
ORPHAN_ID=""
REPORT_ORPHAN_ID=""
NEW_NS_PID=""

# ---- 6. agent ----------------------------------------------------------------------------
step "The node agent"
if [[ -f "$AGENT_JAR" ]]; then
  if command -v ipcmk >/dev/null 2>&1; then
    say "a 1 MiB System V segment on this host (ipcmk), so the scan has something to show; no pod owns it,"
    say "so the agent reports it Unattributed and would never remove it"
    SEGMENT_ID="$(ipcmk -M 1048576 2>/dev/null | awk '{ print $NF }')" || SEGMENT_ID=""
    if [[ -n "$SEGMENT_ID" ]]; then
      echo "$SEGMENT_ID" >"$DEMO_DIR/segment.id"
      say "created shmid $SEGMENT_ID"
    fi
  fi
  say "the agent's scan of this host (every IPC namespace and memory volume; changes nothing):"
  # this shell runs in the host's IPC namespace; /proc/1 may be unreadable in a sandbox
  run java -jar "${AGENT_JAR#"$ROOT"/}" scan --ledger none --host-ipc-ns /proc/self/ns/ipc 2>"$DEMO_DIR/agent-scan.log" || note "the scan failed (log: $DEMO_DIR/agent-scan.log); going on"
  if java -jar "$AGENT_JAR" serve --help >/dev/null 2>&1; then
    agent_pod() {
      kubectl get pods -n sharedipc-agent -l app.kubernetes.io/name=sharedipc-agent \
        --field-selector "spec.nodeName=$AGENT_NODE" -o jsonpath='{.items[0].metadata.name}' 2>/dev/null
    }
    has_agent_pod() { [[ -n "$(agent_pod)" ]]; }
    if wait_until 60 has_agent_pod; then
      POD="$(agent_pod)"
      say "the agent as the daemon of simulated node $AGENT_NODE: a token of ServiceAccount sharedipc-agent bound"
      say "to pod $POD, so the API server knows its node (deploy/'s admission policy lets an agent write only"
      say "its own node's SharedIpcNode) and deploy/'s agent RBAC is all it has:"
      printf '%s$ kubectl create token sharedipc-agent -n sharedipc-agent --bound-object-kind Pod --bound-object-name %s%s\n' "$DIM" "$POD" "$N"
      AGENT_TOKEN="$(kubectl create token sharedipc-agent -n sharedipc-agent --bound-object-kind Pod --bound-object-name "$POD" --duration=24h)"
      write_kubeconfig "$DEMO_DIR/agent.kubeconfig" sharedipc-agent "$AGENT_TOKEN" sharedipc-agent
      run kubectl --kubeconfig "$DEMO_DIR/agent.kubeconfig" auth whoami
      # The agent sees the processes of a fixture proc root, not this host's: the one below maps a real
      # IPC namespace to the pod of group $AGENT_GROUP. Shared directories and memory volumes: empty demo dirs.
      # the agent runs in this machine's IPC namespace, the node's here (its pod would read /proc/1/ns/ipc)
      AGENT_ARGS=(--proc-root "$DEMO_DIR/proc" --shared-root "$DEMO_DIR/shared-root" --kubelet-root "$DEMO_DIR/kubelet-root"
        --host-ipc-ns /proc/self/ns/ipc)
      rm -rf "$DEMO_DIR/proc" && mkdir -p "$DEMO_DIR/proc" "$DEMO_DIR/shared-root" "$DEMO_DIR/kubelet-root"
      map_group_namespace || note "the agent reports no group of its node (the reason is above)"
      AGENT_PORT="$(free_port)"
      cp -f "$AGENT_JAR" "$DEMO_DIR/sharedipc-agent.jar"
      printf '%s$ java -jar %s serve --node-name %s --listen 127.0.0.1:%s --interval 5s --ledger none --kubeconfig %s %s >%s 2>&1 &%s\n' \
        "$DIM" "${DEMO_DIR#"$ROOT"/}/sharedipc-agent.jar" "$AGENT_NODE" "$AGENT_PORT" "${DEMO_DIR#"$ROOT"/}/agent.kubeconfig" \
        "${AGENT_ARGS[*]//"$ROOT"\//}" "${DEMO_DIR#"$ROOT"/}/agent.log" "$N"
      java -jar "$DEMO_DIR/sharedipc-agent.jar" serve --node-name "$AGENT_NODE" --listen "127.0.0.1:$AGENT_PORT" --interval 5s \
        --ledger none --kubeconfig "$DEMO_DIR/agent.kubeconfig" "${AGENT_ARGS[@]}" </dev/null >"$DEMO_DIR/agent.log" 2>&1 &
      AGENT_PID=$!
      echo "$AGENT_PID" >"$DEMO_DIR/agent.pid"
    else
      note "no agent pod on $AGENT_NODE within 60s: the agent daemon step is skipped"
    fi
  fi
else
  note "skipped: no $AGENT_JAR (build it with ./mvnw -B -q -DskipTests package)"
fi

# ---- 7. samples --------------------------------------------------------------------------
step "Apply samples/ into namespaces $NS and $NS_HOSTIPC"
for f in samples/*.yaml; do say "$f: $(grep -m1 '^# ' "$f" | sed 's/^# //')"; done
for ns in "$NS" "$NS_HOSTIPC"; do
  kubectl get namespace "$ns" >/dev/null 2>&1 || run kubectl create namespace "$ns"
done
say "a group may ask for the node's IPC namespace (hostIPC) only in a namespace a cluster admin has labelled"
say "(deploy/'s admission policy); the demo, the admin here, labels $NS_HOSTIPC for the samples that do:"
run kubectl label namespace "$NS_HOSTIPC" sharedipc.dev/host-ipc=allowed --overwrite
if grep -q 'pg-credentials' samples/*.yaml; then
  say "postgres-shared-buffers reads its password from a Secret, as its header says:"
  kubectl get secret pg-credentials -n "$NS" >/dev/null 2>&1 ||
    run kubectl create secret generic pg-credentials -n "$NS" --from-literal=password=demo-only
fi
# The ServiceAccount admission plugin rejects pods until a namespace's default ServiceAccount exists.
for ns in "$NS" "$NS_HOSTIPC"; do
  wait_until 60 kubectl get serviceaccount default -n "$ns" || fail "no ServiceAccount $ns/default after 60s"
done
for f in samples/*.yaml; do
  target="$NS"
  if grep -q 'hostIPC: true' "$f"; then target="$NS_HOSTIPC"; fi
  # One file at a time: a sample the API server refuses is shown, and the others still go in.
  run kubectl apply --server-side -n "$target" -f "$f" || note "$f was refused (see the message above)"
done

# ---- 8. wait -----------------------------------------------------------------------------
step "Wait until the operator has acted on every group"
# Settled: status reflects the latest spec, and the phase is no longer Pending/Placing.
groups_settled() {
  kubectl get sipc -A -o jsonpath='{range .items[*]}{.metadata.generation} {.status.observedGeneration} {.status.phase}{"\n"}{end}' |
    awk 'NF < 3 || $1 != $2 || $3 == "Pending" || $3 == "Placing" { bad = 1 } END { exit bad }'
}
t0=$SECONDS
until groups_settled; do
  if ((SECONDS - t0 >= 90)); then
    note "not every group settled within 90s; showing what there is"
    break
  fi
  kill -0 "$OPERATOR_PID" 2>/dev/null || fail "the operator exited (log: $DEMO_DIR/operator.log)"
  sleep 1
done
say "settled after $((SECONDS - t0))s"

# ---- 9. the agent's half -------------------------------------------------------------------
step "The agent's half: group $AGENT_GROUP's segments in its status, its orphan removed; $REPORT_GROUP's kept"
if ((MAPPED)) && [[ -n "$AGENT_PID" ]]; then
  usage_reported() {
    [[ "$(kubectl get sipc -n "$NS" "$AGENT_GROUP" -o jsonpath='{.status.usage.segments} {.status.usage.orphansRemoved}' 2>/dev/null)" == "1 1" ]]
  }
  t0=$SECONDS
  if wait_until 60 usage_reported; then
    say "after $((SECONDS - t0))s, the agent has removed the orphan (shmid $ORPHAN_ID) and kept the attached segment:"
    run nsenter "--ipc=/proc/$IPC_NS_PID/ns/ipc" ipcs -m
    say "the operator summed the agent's SharedIpcNode/$AGENT_NODE into the group's status:"
    run kubectl get sipc -n "$NS" "$AGENT_GROUP" -o jsonpath='{"usage: "}{.status.usage}{"\ninstances[0].segments: "}{.status.instances[0].segments}{"\n"}'
    run kubectl get sipc -n "$NS" "$AGENT_GROUP" -o wide
    say "and the removal is an Event on the pod:"
    run kubectl get events -n "$NS" --field-selector reason=OrphanSegmentRemoved -o custom-columns='OBJECT:.involvedObject.name,REASON:.reason,FROM:.source.component,MESSAGE:.message'
    report_orphan_kept() {
      kubectl sharedipc orphans -n "$NS" --group "$REPORT_GROUP" -o json 2>/dev/null | grep -q '"action": "Kept"'
    }
    if wait_until 60 report_orphan_kept; then
      say "group $REPORT_GROUP's orphan (shmid $REPORT_ORPHAN_ID) stays: its policy is Report. The kubectl plugin"
      say "(bin/kubectl-sharedipc, on PATH) lists where the orphans are and what their policy does:"
      run kubectl sharedipc orphans -n "$NS" -o wide
    else
      kubectl sharedipc orphans -A -o wide || true
      fail "no Kept orphan of group $NS/$REPORT_GROUP in the agent's report 60s after the agent started (log: $DEMO_DIR/agent.log)"
    fi
  else
    kubectl get sipc -n "$NS" "$AGENT_GROUP" -o jsonpath='{.status.usage}{"\n"}' || true
    tail -n 20 "$DEMO_DIR/agent.log" >&2
    fail "group $NS/$AGENT_GROUP shows no segment and no removed orphan 60s after the agent started (log: $DEMO_DIR/agent.log)"
  fi
else
  note "skipped: the agent is not running or no IPC namespace was mapped to the group's pod (the reason is above)"
fi

# ---- 10. show -------------------------------------------------------------------------------
step "What a user looks at"
run kubectl get sipc -A -o wide
echo
run kubectl get pods -A -l app.kubernetes.io/managed-by=sharedipc-operator -o wide -L sharedipc.dev/group,sharedipc.dev/instance
echo
say "each group's phase, and its conditions that are False (what blocks it):"
kubectl get sipc -A -o jsonpath='{range .items[*]}{.metadata.namespace}/{.metadata.name}{"\t"}{.status.phase}{"\t"}{range .status.conditions[?(@.status=="False")]}{.type}={.reason}: {.message}{"; "}{end}{"\n"}{end}' |
  awk -F'\t' '{ printf "    %-38s %-8s %s\n", $1, $2, ($3 == "" ? "no condition is False" : $3) }'
echo
# describe, without the spec the user wrote: name, then status and Events.
for ns in "$NS" "$NS_HOSTIPC"; do
  printf '%s$ kubectl describe sipc -n %s | (name, Status and Events)%s\n' "$DIM" "$ns" "$N"
  kubectl describe sipc -n "$ns" | awk '/^Name:/ { print; next } /^Status:/ { show = 1 } /^$/ { if (show) print; show = 0 } show'
done
run kubectl get sharedipcpolicies
if [[ -n "$AGENT_PID" ]]; then
  echo
  agent_reported() { [[ -n "$(kubectl get sharedipcnode "$AGENT_NODE" -o jsonpath='{.status.lastScanTime}' 2>/dev/null)" ]]; }
  if wait_until 30 agent_reported; then
    run kubectl get sharedipcnodes -o wide
    echo
    say "every IPC object the agents report, per node and pod:"
    run kubectl sharedipc ipcs -A
  else
    note "the agent wrote no SharedIpcNode/$AGENT_NODE within 30s (log: $DEMO_DIR/agent.log)"
  fi
fi
echo
say "the operator's metrics (http://127.0.0.1:$OPERATOR_PORT/metrics), first lines of sharedipc_*:"
curl -fsS "http://127.0.0.1:$OPERATOR_PORT/metrics" | grep '^sharedipc_' | head -n 8 | sed 's/^/    /' || true
say "the operator's log: $DEMO_DIR/operator.log ($(grep -c . "$DEMO_DIR/operator.log") lines); its decisions:"
grep -E 'verdict=|phase=' "$DEMO_DIR/operator.log" | tail -n 5 | cut -c1-200 | sed 's/^/    /' || true
if [[ -n "$AGENT_PID" ]]; then
  echo
  say "and the cluster's shared memory by group and pod, largest first:"
  run kubectl sharedipc top -A
fi
