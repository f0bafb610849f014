#!/usr/bin/env bash
# A local Kubernetes control plane for development, the demo and the E2E tests: etcd,
# kube-apiserver, kube-controller-manager, kube-scheduler and the KWOK controller, run as
# plain processes on 127.0.0.1 only, with N simulated (KWOK) nodes that report capacity and
# heartbeat Ready, and whose pods go Running and Ready. No container runtime, no downloads:
# the binaries come from scripts/kube-binaries.sh (built from Go modules, cached outside the repo).
#
# Usage: scripts/local-cluster.sh COMMAND [options]
#   up        start what is not running (a no-op when all is healthy), make the nodes
#             match the options, wait until they are Ready, print the kubeconfig path
#   down      stop every process of this cluster; keeps its state (certificates, etcd data)
#             so the next `up` is warm. --purge also deletes the state directory.
#   status    what runs, where, and the nodes; exit 0 only when all is healthy
#   restart COMPONENT   stop and start one component (etcd, kube-apiserver,
#             kube-controller-manager, kube-scheduler, kwok) and wait until it is healthy
#   kubeconfig          print the admin kubeconfig path
#   real-node ARGS...   scripts/real-node.sh on this cluster (exec NAME -- CMD, load, console...)
# Options of up:
#   --nodes N          simulated nodes (default 3; `up` creates missing ones, deletes extra ones)
#   --node-cpu C       CPU capacity of each node (default 8)
#   --node-memory M    memory capacity of each node (default 32Gi)
#   --node-pods P      pod capacity of each node (default 110)
#   --real-nodes N     real nodes beside the simulated ones (default: as many as the last `up`
#                      asked for, 0 at first): QEMU guests with a real kubelet, containerd and
#                      runc, named real-node-1..N (scripts/real-node.sh; docs/local-cluster.md).
#                      Each costs SHAREDIPC_REAL_NODE_MEMORY (3G) of host memory and ~1 GB of disk;
#                      the first one takes ~10 min to set up (guest image, kubelet, images)
#
# Environment (all optional):
#   SHAREDIPC_CLUSTER_DIR   state directory (default <repo>/target/local-cluster); one cluster per
#                           directory, so the E2E tests use their own next to a developer's
#   SHAREDIPC_APISERVER_PORT  fixed API server port (default: a free port picked on first `up`, then kept)
#   Versions and the binaries cache: see scripts/kube-binaries.sh.
#
# Layout of the state directory: kubeconfig (admin, system:masters), ports.env, pki/,
# etcd/ (data), config/ (per-component kubeconfigs, KWOK stages, scheduler config),
# logs/<component>.log, run/<component>.pid.
set -euo pipefail

PROG="local-cluster"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
# shellcheck source=lib/common.sh
. "$SCRIPT_DIR/lib/common.sh"
KUBE_BINARIES="$SCRIPT_DIR/kube-binaries.sh"

STATE_DIR="${SHAREDIPC_CLUSTER_DIR:-$REPO_ROOT/target/local-cluster}"
export SHAREDIPC_CLUSTER_DIR="$STATE_DIR" # scripts/real-node.sh works on the same cluster
PKI="$STATE_DIR/pki"
CONF="$STATE_DIR/config"
LOGS="$STATE_DIR/logs"
RUN="$STATE_DIR/run"
KUBECONFIG_FILE="$STATE_DIR/kubeconfig"
PORTS_FILE="$STATE_DIR/ports.env"

# Components in start order; `down` stops them in reverse. kubelet-proxy carries the API server's
# connections to kubelets (kubectl logs/exec): scripts/real-node/kubelet-proxy.py.
COMPONENTS=(etcd kubelet-proxy kube-apiserver kube-controller-manager kube-scheduler kwok)
REAL_NODE="$SCRIPT_DIR/real-node.sh"
REAL_NODE_PREFIX="real-node-"
KUBELET_PROXY_SOCKET="$STATE_DIR/run/kubelet-proxy.sock"

SERVICE_CIDR="10.96.0.0/16"
CLUSTER_CIDR="10.244.0.0/16" # node podCIDRs (/24 each) from kube-controller-manager's nodeipam; KWOK takes pod IPs from them
NODE_PREFIX="kwok-node-"
# KWOK manages only nodes with this annotation (kwokctl's convention).
KWOK_NODE_ANNOTATION="kwok.x-k8s.io/node"

usage() { script_usage; }

now_ms() { date +%s%3N; }
T0="$(now_ms)"
elapsed() { # seconds since the command started, one decimal
  local ms=$(($(now_ms) - T0))
  printf '%d.%ds' $((ms / 1000)) $(((ms % 1000) / 100))
}

# ---- binaries ----------------------------------------------------------------
BIN_DIR=""
ensure_binaries() {
  bash "$KUBE_BINARIES" ensure etcd kube-apiserver kube-controller-manager kube-scheduler kwok kubectl ||
    die "could not get the Kubernetes binaries (see the kube-binaries messages above)"
  BIN_DIR="$(bash "$KUBE_BINARIES" path 2>/dev/null)"
  [[ -x "$BIN_DIR/kube-apiserver" ]] || die "no kube-apiserver in $BIN_DIR after kube-binaries.sh ensure"
}
kubectl_() { "$BIN_DIR/kubectl" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

# ---- ports -------------------------------------------------------------------
# True when something listens on the port (on any address). Connections left in TIME_WAIT do
# not count: the Go servers set SO_REUSEADDR, so a restart can bind the port again at once.
port_busy() { # port
  if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
  if command -v ss >/dev/null 2>&1 && [[ -n "$(ss -Htln "( sport = :$1 )" 2>/dev/null)" ]]; then return 0; fi
  return 1
}
# A free port below the kernel's ephemeral range (where kube-api-test and clients get theirs).
pick_port() { # ports already taken by this cluster...
  local p i taken=" $* "
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + RANDOM % 10000))
    [[ "$taken" != *" $p "* ]] || continue
    port_busy "$p" || {
      echo "$p"
      return 0
    }
  done
  die "found no free TCP port in 20000-29999 on 127.0.0.1"
}
PORT_NAMES=(ETCD_PORT ETCD_PEER_PORT APISERVER_PORT KCM_PORT SCHEDULER_PORT KWOK_PORT)
load_ports() {
  # shellcheck disable=SC1090
  [[ -f "$PORTS_FILE" ]] && source "$PORTS_FILE"
  return 0
}
# Keeps the ports of an earlier `up` (the kubeconfig names the API server's) unless one is
# now taken by someone else and its component is not running.
assign_ports() {
  local name taken=() changed=0 comp
  load_ports
  if [[ -n "${SHAREDIPC_APISERVER_PORT:-}" && "${APISERVER_PORT:-}" != "$SHAREDIPC_APISERVER_PORT" ]]; then
    APISERVER_PORT="$SHAREDIPC_APISERVER_PORT"
    changed=1 # a running API server on the old port then fails its health check and is restarted
  fi
  for name in "${PORT_NAMES[@]}"; do
    comp="$(component_of_port "$name")"
    if [[ -n "${!name:-}" ]] && { is_running "$comp" || ! port_busy "${!name}"; }; then
      taken+=("${!name}")
      continue
    fi
    [[ -z "${!name:-}" ]] || log "port ${!name} ($name) is taken by another process; picking another"
    printf -v "$name" '%s' "$(pick_port "${taken[@]}")"
    taken+=("${!name}")
    changed=1
  done
  if ((changed)) || [[ ! -f "$PORTS_FILE" ]]; then
    : >"$PORTS_FILE.tmp"
    for name in "${PORT_NAMES[@]}"; do printf '%s=%s\n' "$name" "${!name}" >>"$PORTS_FILE.tmp"; done
    mv -f "$PORTS_FILE.tmp" "$PORTS_FILE"
  fi
}
component_of_port() {
  case "$1" in
    ETCD_PORT | ETCD_PEER_PORT) echo etcd ;;
    APISERVER_PORT) echo kube-apiserver ;;
    KCM_PORT) echo kube-controller-manager ;;
    SCHEDULER_PORT) echo kube-scheduler ;;
    KWOK_PORT) echo kwok ;;
  esac
}

# ---- certificates and kubeconfigs ---------------------------------------------
# One certificate signed by the cluster's CA, in the current directory (the PKI directory):
# name, subject, extendedKeyUsage, subjectAltName.
issue() {
  openssl genrsa -out "$1.key" 2048 2>/dev/null
  openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=%s\n%s\n' \
    "$3" "${4:+subjectAltName=$4}" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days 3650 \
    -extfile "$1.ext" -out "$1.crt" 2>/dev/null
  rm -f "$1.csr" "$1.ext" ca.srl
}
# A CA, the API server's serving certificate (127.0.0.1, localhost, the in-cluster names),
# a client certificate per component, and the service-account signing key pair.
make_pki() {
  if [[ -f "$PKI/.complete" ]]; then
    # A state directory of an earlier version of this script lacks the newer certificates.
    [[ -f "$PKI/apiserver-kubelet-client.crt" ]] ||
      (cd "$PKI" && umask 077 && issue apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth)
    return 0
  fi
  command -v openssl >/dev/null 2>&1 || die "'openssl' is needed to create the cluster's certificates (apt-get install openssl)"
  log "creating certificates in $PKI"
  rm -rf "$PKI"
  mkdir -p "$PKI"
  (
    cd "$PKI"
    umask 077
    openssl genrsa -out ca.key 2048 2>/dev/null
    openssl req -x509 -new -key ca.key -sha256 -days 3650 -subj "/CN=sharedipc-local-cluster-ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.crt
    issue apiserver "/CN=kube-apiserver" serverAuth \
      "IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
    issue admin "/O=system:masters/CN=sharedipc-local-admin" clientAuth
    issue kube-controller-manager "/CN=system:kube-controller-manager" clientAuth
    issue kube-scheduler "/CN=system:kube-scheduler" clientAuth
    # KWOK writes node and pod status, leases and deletes pods of every simulated node.
    issue kwok "/O=system:masters/CN=kwok-controller" clientAuth
    # The aggregation layer's client (requestheader authentication, as kubeadm sets it up).
    issue front-proxy-client "/CN=front-proxy-client" clientAuth
    # The API server's client certificate at the kubelets (real nodes: logs, exec, port-forward).
    issue apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    rm -f ca.srl
    touch .complete
  )
}

b64() { base64 -w0 <"$1"; }
write_kubeconfig() { # file user(cert name)
  local tmp="$1.tmp"
  umask 077
  cat >"$tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: sharedipc-local
  cluster:
    server: https://127.0.0.1:${APISERVER_PORT}
    certificate-authority-data: $(b64 "$PKI/ca.crt")
users:
- name: $2
  user:
    client-certificate-data: $(b64 "$PKI/$2.crt")
    client-key-data: $(b64 "$PKI/$2.key")
contexts:
- name: sharedipc-local
  context:
    cluster: sharedipc-local
    user: $2
current-context: sharedipc-local
EOF
  mv -f "$tmp" "$1"
}

# KWOK's own default stages (what kwokctl configures): node-initialize and
# node-heartbeat-with-lease, pod-ready, pod-complete and pod-delete, read from the
# sigs.k8s.io/kwok module at the pinned version (already in the Go module cache when
# kube-binaries.sh built kwok; fetched through the module proxy otherwise).
write_kwok_config() {
  local version dir out="$CONF/kwok.yaml" f
  [[ -s "$out" ]] && return 0
  # The version of the kwok binary itself, e.g. "kwok version v0.8.0 go1.26.8 (linux/amd64)".
  version="$("$BIN_DIR/kwok" --version 2>/dev/null | awk '{ print $3; exit }')"
  [[ "$version" =~ ^v[0-9]+\.[0-9]+\.[0-9]+ ]] || die "cannot tell the version of $BIN_DIR/kwok (--version printed '$version')"
  dir="$(go env GOMODCACHE 2>/dev/null)/sigs.k8s.io/kwok@$version"
  if [[ ! -d "$dir/kustomize/stage" ]]; then
    command -v go >/dev/null 2>&1 || die "KWOK's stage files are not in the Go module cache and 'go' is not on PATH"
    log "fetching KWOK $version stage definitions through the Go module proxy"
    dir="$(cd "$STATE_DIR" && GOWORK=off GOFLAGS=-mod=mod go mod download -json "sigs.k8s.io/kwok@$version" |
      sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
    [[ -d "$dir/kustomize/stage" ]] || die "could not get sigs.k8s.io/kwok@$version from the Go module proxy"
  fi
  {
    printf '# KWOK %s default stages (kustomize/stage of sigs.k8s.io/kwok), as kwokctl uses them.\n' "$version"
    for f in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
      pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
      printf -- '---\n'
      cat "$dir/kustomize/stage/$f.yaml"
    done
  } >"$out.tmp"
  mv -f "$out.tmp" "$out"
}

write_configs() {
  mkdir -p "$CONF" "$LOGS" "$RUN"
  write_kubeconfig "$KUBECONFIG_FILE" admin
  local c
  for c in kube-controller-manager kube-scheduler kwok; do
    write_kubeconfig "$CONF/$c.kubeconfig" "$c"
  done
  cat >"$CONF/kube-scheduler.yaml" <<EOF
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: $CONF/kube-scheduler.kubeconfig
  qps: 200
  burst: 400
leaderElection:
  leaderElect: false
EOF
  write_kwok_config
  # The API server reaches kubelets (its "cluster" egress) through kubelet-proxy, which knows the
  # loopback port of each real node's kubelet; KWOK's loopback kubelets pass through it unchanged.
  cat >"$CONF/egress-selector.yaml" <<EOF
apiVersion: apiserver.k8s.io/v1beta1
kind: EgressSelectorConfiguration
egressSelections:
- name: cluster
  connection:
    proxyProtocol: HTTPConnect
    transport:
      uds:
        udsName: $KUBELET_PROXY_SOCKET
EOF
}

# ---- processes -----------------------------------------------------------------
pid_file() { echo "$RUN/$1.pid"; }
# The pid of a running component, checked against its command line (which names this
# state directory), so a recycled pid is never taken for ours.
running_pid() { # component
  local pid f
  f="$(pid_file "$1")"
  [[ -f "$f" ]] || return 1
  read -r pid <"$f" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$STATE_DIR/" || return 1
  [[ "$(stat -c %U "/proc/$pid" 2>/dev/null)" == "$(id -un)" ]] || return 1
  echo "$pid"
}
is_running() { running_pid "$1" >/dev/null; }

component_args() { # component -> CMD array
  case "$1" in
    etcd)
      # A throwaway development store: no fsync (much faster on a shared disk).
      CMD=("$BIN_DIR/etcd" --name=local --data-dir="$STATE_DIR/etcd"
        --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT"
        --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT"
        --initial-cluster="local=http://127.0.0.1:$ETCD_PEER_PORT" --initial-cluster-state=new
        --unsafe-no-fsync=true --quota-backend-bytes=4294967296 --log-level=warn)
      ;;
    kube-apiserver)
      # endpoint-reconciler none: the `kubernetes` Service gets no endpoints, as a loopback
      # address is not a valid endpoint and nothing in a KWOK pod dials it.
      # shellcheck disable=SC2054
      CMD=("$BIN_DIR/kube-apiserver" --bind-address=127.0.0.1 --advertise-address=127.0.0.1
        --secure-port="$APISERVER_PORT" --etcd-servers="http://127.0.0.1:$ETCD_PORT"
        --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key"
        --client-ca-file="$PKI/ca.crt" --authorization-mode=Node,RBAC
        --requestheader-client-ca-file="$PKI/ca.crt" --requestheader-allowed-names=front-proxy-client
        --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group
        --requestheader-extra-headers-prefix=X-Remote-Extra-
        --proxy-client-cert-file="$PKI/front-proxy-client.crt" --proxy-client-key-file="$PKI/front-proxy-client.key"
        --service-account-issuer=https://kubernetes.default.svc.cluster.local
        --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key"
        --service-cluster-ip-range="$SERVICE_CIDR" --allow-privileged=true
        --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" --kubelet-client-key="$PKI/apiserver-kubelet-client.key"
        --kubelet-preferred-address-types=InternalIP,Hostname --egress-selector-config-file="$CONF/egress-selector.yaml"
        --endpoint-reconciler-type=none --shutdown-watch-termination-grace-period=2s --profiling=false --v=1)
      ;;
    kubelet-proxy)
      CMD=(python3 "$SCRIPT_DIR/real-node/kubelet-proxy.py" "$KUBELET_PROXY_SOCKET" "$STATE_DIR/real-nodes/kubelets.map")
      ;;
    kube-controller-manager)
      CMD=("$BIN_DIR/kube-controller-manager" --kubeconfig="$CONF/kube-controller-manager.kubeconfig"
        --authentication-kubeconfig="$CONF/kube-controller-manager.kubeconfig"
        --authorization-kubeconfig="$CONF/kube-controller-manager.kubeconfig"
        --bind-address=127.0.0.1 --secure-port="$KCM_PORT" --leader-elect=false
        --use-service-account-credentials=true
        --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt"
        --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key"
        --allocate-node-cidrs=true --cluster-cidr="$CLUSTER_CIDR" --node-cidr-mask-size=24
        --service-cluster-ip-range="$SERVICE_CIDR" --controllers='*'
        --kube-api-qps=200 --kube-api-burst=400 --profiling=false --v=1)
      ;;
    kube-scheduler)
      CMD=("$BIN_DIR/kube-scheduler" --config="$CONF/kube-scheduler.yaml"
        --authentication-kubeconfig="$CONF/kube-scheduler.kubeconfig"
        --authorization-kubeconfig="$CONF/kube-scheduler.kubeconfig"
        --bind-address=127.0.0.1 --secure-port="$SCHEDULER_PORT" --profiling=false --v=1)
      ;;
    kwok)
      CMD=("$BIN_DIR/kwok" --kubeconfig="$CONF/kwok.kubeconfig" --config="$CONF/kwok.yaml"
        --manage-all-nodes=false --manage-nodes-with-annotation-selector="$KWOK_NODE_ANNOTATION=fake"
        --node-ip=127.0.0.1 --node-port="$KWOK_PORT" --server-address="127.0.0.1:$KWOK_PORT"
        --node-lease-duration-seconds=40 --cidr=10.0.0.1/16)
      ;;
    *) die "unknown component '$1' (known: ${COMPONENTS[*]})" ;;
  esac
}

healthy() { # component: one quick probe
  case "$1" in
    etcd) curl -fsS -m 2 "http://127.0.0.1:$ETCD_PORT/health" 2>/dev/null | grep -q '"health":"true"' ;;
    kube-apiserver)
      curl -fsS -m 3 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
        "https://127.0.0.1:$APISERVER_PORT/readyz" >/dev/null 2>&1
      ;;
    # The proxy answers anything but CONNECT with 405.
    kubelet-proxy) [[ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' --unix-socket "$KUBELET_PROXY_SOCKET" http://proxy/ 2>/dev/null)" == 405 ]] ;;
    kube-controller-manager) curl -fsSk -m 2 "https://127.0.0.1:$KCM_PORT/healthz" >/dev/null 2>&1 ;;
    kube-scheduler) curl -fsSk -m 2 "https://127.0.0.1:$SCHEDULER_PORT/healthz" >/dev/null 2>&1 ;;
    kwok) curl -fsS -m 2 "http://127.0.0.1:$KWOK_PORT/healthz" >/dev/null 2>&1 ;;
  esac
}

# Runs a component under a supervisor, as a kubelet runs a static pod: when the component exits it
# is started again after 1 s. kube-scheduler, for one, exits on purpose when its cache disagrees
# with the API server (after an API server restart a pod deleted and re-created under the same name
# can look like a pod that moved nodes: kubernetes 1.37.2 hits this in ApiServerRestartE2E) and
# counts on being restarted. A component that fails 3 times within 5 s of starting is given up on
# (a bad flag, a port taken), so that wait_healthy reports its log at once. The supervisor forwards
# SIGTERM to the component and waits for it; the pid file names the supervisor.
SUPERVISOR='
trap '"'"'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 0'"'"' TERM INT
quick=0
while :; do
  started=$SECONDS
  "$@" &
  child=$!
  wait "$child"
  rc=$?
  if ((SECONDS - started < 5)); then quick=$((quick + 1)); else quick=0; fi
  if ((quick >= 3)); then
    printf "\n==== %s %s exited (code %s) 3 times within 5 s of starting; not restarting it\n" "$(date -u +%FT%TZ)" "${1##*/}" "$rc"
    exit "$rc"
  fi
  printf "\n==== %s %s exited (code %s); restarting it in 1 s\n" "$(date -u +%FT%TZ)" "${1##*/}" "$rc"
  sleep 1
done'

start_component() { # component
  local CMD pid
  component_args "$1"
  printf '\n==== %s starting %s\n' "$(date -u +%FT%TZ)" "$1" >>"$LOGS/$1.log"
  # setsid: its own session, so a Ctrl-C meant for a terminal's foreground job (the demo,
  # a test run) does not reach it; only `down` stops it. No inherited fds but the log.
  setsid bash -c "$SUPERVISOR" "local-cluster-supervisor" "${CMD[@]}" </dev/null >>"$LOGS/$1.log" 2>&1 9>&- &
  pid=$!
  echo "$pid" >"$(pid_file "$1")"
}

wait_healthy() { # component timeout_seconds
  local deadline=$(($(now_ms) + $2 * 1000))
  while ! healthy "$1"; do
    if ! is_running "$1"; then
      log "$1 exited; last lines of $LOGS/$1.log:"
      tail -n 25 "$LOGS/$1.log" >&2 || true
      die "$1 did not start (full log: $LOGS/$1.log)"
    fi
    if (($(now_ms) > deadline)); then
      tail -n 25 "$LOGS/$1.log" >&2 || true
      die "$1 not healthy after $2 s (log: $LOGS/$1.log)"
    fi
    sleep 0.2
  done
}

timeout_of() {
  case "$1" in
    kube-apiserver) echo 120 ;;
    *) echo 60 ;;
  esac
}

# Starts a component unless it runs; restarts it if it runs but stays unhealthy.
ensure_component() { # component
  if is_running "$1"; then
    healthy "$1" && return 0
    local deadline=$(($(now_ms) + 5000))
    while (($(now_ms) < deadline)); do
      healthy "$1" && return 0
      sleep 0.2
    done
    log "$1 runs but is not healthy; restarting it"
    stop_component "$1"
  fi
  log "starting $1"
  start_component "$1"
}

stop_pid() { # name pid
  local pid="$2" i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 150; i++)); do # 15 s for a graceful stop
    [[ -d "/proc/$pid" ]] || return 0
    # A zombie child of this shell is gone as far as anyone cares.
    [[ "$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" != Z ]] || return 0
    sleep 0.1
  done
  log "$1 (pid $pid) ignored SIGTERM for 15 s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
}

stop_component() { # component
  local pid
  if pid="$(running_pid "$1")"; then
    log "stopping $1 (pid $pid)"
    stop_pid "$1" "$pid"
  fi
  rm -f "$(pid_file "$1")"
}

# Processes of this cluster that no pid file names (e.g. the state directory was deleted by
# `mvn clean` while they ran): any process of ours whose command line names this state
# directory. Prints "<pid> <component>" lines in stop order (the reverse of start order).
stray_pids() {
  local d pid exe comp known=" " c i cmdline
  for c in "${COMPONENTS[@]}"; do
    # the supervisor (the pid file's) and the component it runs
    pid="$(running_pid "$c" 2>/dev/null)" && known+="$pid $(pgrep -P "$pid" | tr '\n' ' ')"
  done
  for d in /proc/[0-9]*; do
    pid="${d#/proc/}"
    [[ "$known" != *" $pid "* ]] || continue
    [[ "$(stat -c %U "$d" 2>/dev/null)" == "$(id -un)" ]] || continue
    exe="$(readlink "$d/exe" 2>/dev/null)" || continue
    exe="${exe% (deleted)}"
    comp="${exe##*/}"
    cmdline="$(tr '\0' ' ' <"$d/cmdline" 2>/dev/null)" || continue
    [[ "$comp" != python3* || "$cmdline" != *kubelet-proxy.py* ]] || comp=kubelet-proxy
    # A real node's guest: stopped before every component.
    if [[ "$comp" == qemu-system-* && "$cmdline" == *"$STATE_DIR/real-nodes/"* ]]; then
      echo "99 $pid real-node-guest"
      continue
    fi
    [[ " ${COMPONENTS[*]} " == *" $comp "* ]] || continue
    [[ "$cmdline" == *"$STATE_DIR/"* ]] || continue
    for i in "${!COMPONENTS[@]}"; do [[ "${COMPONENTS[i]}" != "$comp" ]] || echo "$i $pid $comp"; done
  done | sort -rn | cut -d' ' -f2-
  return 0
}

stop_strays() {
  local pid comp
  while read -r pid comp; do
    [[ -n "$pid" ]] || continue
    log "stopping leftover $comp (pid $pid, no pid file)"
    stop_pid "$comp" "$pid"
  done < <(stray_pids)
}

# ---- nodes ---------------------------------------------------------------------
NODES=3
NODE_CPU=8
NODE_MEMORY=32Gi
NODE_PODS=110
# As a kubelet reports its node file system: the agent's and the operator's containers request
# ephemeral-storage, and the scheduler places no such pod on a node that reports none.
NODE_EPHEMERAL=100Gi

node_yaml() { # name
  cat <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $1
  annotations:
    $KWOK_NODE_ANNOTATION: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    type: kwok
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: $1
    kubernetes.io/os: linux
    node-role.kubernetes.io/agent: ""
status:
  addresses:
  - { type: InternalIP, address: 127.0.0.1 }
  - { type: Hostname, address: $1 }
  allocatable: { cpu: "$NODE_CPU", memory: "$NODE_MEMORY", pods: "$NODE_PODS", ephemeral-storage: "$NODE_EPHEMERAL" }
  capacity: { cpu: "$NODE_CPU", memory: "$NODE_MEMORY", pods: "$NODE_PODS", ephemeral-storage: "$NODE_EPHEMERAL" }
EOF
}

ensure_nodes() {
  local name cpu mem pods eph i created=0 patched=0 deleted=0 creates="" patch
  local -A have=() want=()
  # One read of every KWOK node: "name cpu memory pods ephemeral-storage".
  while read -r name cpu mem pods eph; do
    [[ -n "$name" ]] && have["$name"]="$cpu $mem $pods ${eph:-}"
  done < <(kubectl_ get nodes -l type=kwok \
    -o jsonpath='{range .items[*]}{.metadata.name} {.status.capacity.cpu} {.status.capacity.memory} {.status.capacity.pods} {.status.capacity.ephemeral-storage}{"\n"}{end}')
  local res="\"cpu\":\"$NODE_CPU\",\"memory\":\"$NODE_MEMORY\",\"pods\":\"$NODE_PODS\",\"ephemeral-storage\":\"$NODE_EPHEMERAL\""
  patch="{\"status\":{\"capacity\":{$res},\"allocatable\":{$res}}}"
  for ((i = 0; i < NODES; i++)); do
    name="$NODE_PREFIX$i"
    want["$name"]=1
    if [[ -z "${have[$name]+x}" ]]; then
      creates+="$(node_yaml "$name")"$'\n---\n'
      created=$((created + 1))
    elif [[ "${have[$name]}" != "$NODE_CPU $NODE_MEMORY $NODE_PODS $NODE_EPHEMERAL" ]]; then
      kubectl_ patch node "$name" --subresource=status --type=merge -p "$patch" >/dev/null
      patched=$((patched + 1))
    fi
  done
  [[ -z "$creates" ]] || kubectl_ create -f - >/dev/null <<<"$creates"
  for name in "${!have[@]}"; do
    [[ -z "${want[$name]+x}" ]] || continue
    kubectl_ delete node "$name" --wait=false >/dev/null
    deleted=$((deleted + 1))
  done
  ((created + patched + deleted == 0)) ||
    log "nodes: $created created, $patched resized, $deleted deleted (want $NODES x ${NODE_CPU} CPU / $NODE_MEMORY / $NODE_PODS pods)"
}

nodes_ready() { # prints the number of Ready KWOK nodes named NODE_PREFIX<i>, i < NODES
  kubectl_ get nodes -l type=kwok \
    -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' 2>/dev/null |
    awk -v p="$NODE_PREFIX" -v n="$NODES" '$2 == "True" && index($1, p) == 1 && substr($1, length(p) + 1) + 0 < n { c++ } END { print c + 0 }'
}

wait_nodes_ready() {
  local deadline=$(($(now_ms) + 60000)) ready
  while :; do
    ready="$(nodes_ready)"
    ((ready >= NODES)) && return 0
    (($(now_ms) < deadline)) || die "only $ready of $NODES nodes Ready after 60 s; see $LOGS/kwok.log and $LOGS/kube-controller-manager.log"
    sleep 0.3
  done
}

drop_node_leases() {
  local names
  names="$(kubectl_ get nodes -l type=kwok -o jsonpath='{.items[*].metadata.name}' 2>/dev/null)" || return 0
  [[ -n "$names" ]] || return 0
  # shellcheck disable=SC2086 # one argument per node name
  kubectl_ delete lease -n kube-node-lease --ignore-not-found --wait=false $names >/dev/null
}

# Every wanted node has a Lease again: the running KWOK controller has taken it over.
wait_node_leases() {
  local deadline=$(($(now_ms) + 60000)) have
  while :; do
    have="$(kubectl_ get leases -n kube-node-lease -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.spec.holderIdentity}{"\n"}{end}' 2>/dev/null |
      awk -v p="$NODE_PREFIX" -v n="$NODES" '$2 != "" && index($1, p) == 1 && substr($1, length(p) + 1) + 0 < n { c++ } END { print c + 0 }')"
    ((have >= NODES)) && return 0
    (($(now_ms) < deadline)) || die "only $have of $NODES node Leases held after 60 s; see $LOGS/kwok.log"
    sleep 0.2
  done
}

# The service-account controller has created the default ServiceAccount: pods can be created.
wait_default_sa() {
  local deadline=$(($(now_ms) + 60000))
  until kubectl_ get serviceaccount default -n default >/dev/null 2>&1; do
    (($(now_ms) < deadline)) || die "no ServiceAccount default/default after 60 s; see $LOGS/kube-controller-manager.log"
    sleep 0.3
  done
}

# ---- real nodes ------------------------------------------------------------------
# QEMU guests with a real kubelet and containerd (scripts/real-node.sh), named REAL_NODE_PREFIX<i>,
# i = 1..N. Without --real-nodes, `up` keeps the number the last `up` asked for (0 at first), so
# `down` and `up` bring back the same cluster.
REAL_NODES=""
REAL_NODES_FILE="$STATE_DIR/real-nodes/count"
ensure_real_nodes() {
  local i name n
  if [[ -z "$REAL_NODES" ]]; then
    REAL_NODES="$(cat "$REAL_NODES_FILE" 2>/dev/null || echo 0)"
  fi
  mkdir -p "$(dirname "$REAL_NODES_FILE")"
  echo "$REAL_NODES" >"$REAL_NODES_FILE"
  # Extra guests from an earlier, larger `up` go, with their Node objects and disks.
  while read -r name; do
    [[ "$name" == "$REAL_NODE_PREFIX"* ]] || continue
    n="${name#"$REAL_NODE_PREFIX"}"
    [[ "$n" =~ ^[0-9]+$ ]] && ((n >= 1 && n <= REAL_NODES)) || bash "$REAL_NODE" delete "$name"
  done < <(bash "$REAL_NODE" names)
  ((REAL_NODES > 0)) || return 0
  ((REAL_NODES <= 250)) || die "--real-nodes is at most 250 (one slirp subnet each)"
  log "real nodes: $REAL_NODES (QEMU guests; images from scripts/images.sh)"
  bash "$SCRIPT_DIR/images.sh" build >&2 || die "building the images for the real nodes failed (scripts/images.sh build)"
  for ((i = 1; i <= REAL_NODES; i++)); do
    bash "$REAL_NODE" start "$REAL_NODE_PREFIX$i" "$i" || die "real node $REAL_NODE_PREFIX$i did not come up"
  done
}

stop_real_nodes() {
  local name
  while read -r name; do
    [[ -n "$name" ]] && bash "$REAL_NODE" stop "$name"
  done < <(bash "$REAL_NODE" names 2>/dev/null)
  return 0
}

# ---- commands ----------------------------------------------------------------
with_lock() {
  mkdir -p "$STATE_DIR"
  exec 9>"$STATE_DIR/.lock"
  if ! flock -n 9; then
    log "another local-cluster.sh works on $STATE_DIR; waiting for it"
    flock 9
  fi
}

cmd_up() {
  while (($#)); do
    case "$1" in
      --nodes) NODES="${2:?--nodes needs a number}"; shift 2 ;;
      --nodes=*) NODES="${1#*=}"; shift ;;
      --node-cpu) NODE_CPU="${2:?--node-cpu needs a value}"; shift 2 ;;
      --node-cpu=*) NODE_CPU="${1#*=}"; shift ;;
      --node-memory) NODE_MEMORY="${2:?--node-memory needs a value}"; shift 2 ;;
      --node-memory=*) NODE_MEMORY="${1#*=}"; shift ;;
      --node-pods) NODE_PODS="${2:?--node-pods needs a value}"; shift 2 ;;
      --node-pods=*) NODE_PODS="${1#*=}"; shift ;;
      --real-nodes) REAL_NODES="${2:?--real-nodes needs a number}"; shift 2 ;;
      --real-nodes=*) REAL_NODES="${1#*=}"; shift ;;
      *) usage_error "$PROG.sh up" option "$1" --nodes --node-cpu --node-memory --node-pods --real-nodes ;;
    esac
  done
  [[ "$NODES" =~ ^[0-9]+$ ]] || die "--nodes must be a number (got '$NODES')"
  [[ "$NODE_PODS" =~ ^[0-9]+$ ]] || die "--node-pods must be a number (got '$NODE_PODS')"
  [[ -z "$REAL_NODES" || "$REAL_NODES" =~ ^[0-9]+$ ]] || die "--real-nodes must be a number (got '$REAL_NODES')"
  ((${#KUBELET_PROXY_SOCKET} < 100)) ||
    die "the state directory's path is too long for a UNIX socket ($KUBELET_PROXY_SOCKET); set SHAREDIPC_CLUSTER_DIR to a shorter one"
  command -v curl >/dev/null 2>&1 || die "'curl' is needed for health checks (apt-get install curl)"

  ensure_binaries
  with_lock
  local c all_up=1
  for c in "${COMPONENTS[@]}"; do is_running "$c" || all_up=0; done
  if ((all_up)); then log "control plane already running in $STATE_DIR"; else log "bringing up the control plane in $STATE_DIR"; fi

  # Processes of this directory without a pid file hold its ports and etcd's data: stop them first.
  [[ -z "$(stray_pids)" ]] || stop_strays
  assign_ports
  make_pki
  write_configs

  ensure_component etcd
  wait_healthy etcd "$(timeout_of etcd)"
  ensure_component kubelet-proxy
  wait_healthy kubelet-proxy "$(timeout_of kubelet-proxy)"
  ensure_component kube-apiserver
  wait_healthy kube-apiserver "$(timeout_of kube-apiserver)"
  log "kube-apiserver ready on https://127.0.0.1:$APISERVER_PORT ($(elapsed))"
  # A KWOK controller manages a node's pods only while it holds the node's Lease; the Leases an
  # earlier one held would keep a new one waiting for them to expire (40 s): remove them first.
  is_running kwok || drop_node_leases
  for c in kube-controller-manager kube-scheduler kwok; do ensure_component "$c"; done
  for c in kube-controller-manager kube-scheduler kwok; do wait_healthy "$c" "$(timeout_of "$c")"; done

  ensure_nodes
  wait_nodes_ready
  wait_node_leases
  wait_default_sa
  ensure_real_nodes
  log "ready: $NODES KWOK node(s)$( ((REAL_NODES > 0)) && echo " and $REAL_NODES real node(s)") Ready, control plane healthy ($(elapsed))"
  log "use it: export KUBECONFIG=$KUBECONFIG_FILE"
  echo "$KUBECONFIG_FILE"
}

cmd_down() {
  local purge=0 c strays=()
  while (($#)); do
    case "$1" in
      --purge) purge=1; shift ;;
      *) usage_error "$PROG.sh down" option "$1" --purge ;;
    esac
  done
  if [[ ! -d "$STATE_DIR" ]]; then
    log "no cluster in $STATE_DIR: nothing to stop"
    return 0
  fi
  with_lock
  stop_real_nodes
  for ((c = ${#COMPONENTS[@]} - 1; c >= 0; c--)); do stop_component "${COMPONENTS[c]}"; done
  stop_strays
  mapfile -t strays < <(stray_pids)
  ((${#strays[@]} == 0)) || die "processes of $STATE_DIR still alive: ${strays[*]}"
  if ((purge)); then
    rm -rf "$STATE_DIR"
    log "stopped; deleted $STATE_DIR ($(elapsed))"
  else
    log "stopped; no process left ($(elapsed)). State kept in $STATE_DIR (down --purge deletes it)"
  fi
}

cmd_status() {
  local c pid ok=0 state port
  BIN_DIR="$(bash "$KUBE_BINARIES" path 2>/dev/null)"
  load_ports
  printf '%-24s %-8s %-8s %-6s %s\n' COMPONENT STATE PID PORT HEALTH
  for c in "${COMPONENTS[@]}"; do
    case "$c" in
      etcd) port="${ETCD_PORT:-}" ;;
      kube-apiserver) port="${APISERVER_PORT:-}" ;;
      kubelet-proxy) port=unix ;;
      kube-controller-manager) port="${KCM_PORT:-}" ;;
      kube-scheduler) port="${SCHEDULER_PORT:-}" ;;
      kwok) port="${KWOK_PORT:-}" ;;
    esac
    if pid="$(running_pid "$c")"; then
      if healthy "$c"; then state=ok; else
        state=unhealthy
        ok=1
      fi
      printf '%-24s %-8s %-8s %-6s %s\n' "$c" running "$pid" "$port" "$state"
    else
      printf '%-24s %-8s %-8s %-6s %s\n' "$c" stopped - "${port:--}" -
      ok=1
    fi
  done
  local strays
  strays="$(stray_pids | tr '\n' ' ')"
  if [[ -n "$strays" ]]; then
    echo "leftover processes of this cluster without a pid file (pid component): $strays; \`down\` stops them"
    ok=1
  fi
  if [[ -n "$(bash "$REAL_NODE" names 2>/dev/null)" ]]; then
    echo
    bash "$REAL_NODE" status || ok=1
  fi
  if is_running kube-apiserver && healthy kube-apiserver; then
    echo
    kubectl_ get nodes -o wide 2>&1 || true
    echo
    echo "kubeconfig: $KUBECONFIG_FILE"
  fi
  echo "state: $STATE_DIR (logs in $LOGS)"
  return "$ok"
}

cmd_restart() {
  local c="${1:-}"
  [[ -n "$c" ]] || die "restart needs a component: ${COMPONENTS[*]}"
  [[ " ${COMPONENTS[*]} " == *" $c "* ]] || usage_error "$PROG.sh restart" component "$c" "${COMPONENTS[@]}"
  ensure_binaries
  with_lock
  load_ports
  [[ -f "$PKI/.complete" && -n "${APISERVER_PORT:-}" ]] || die "no cluster in $STATE_DIR; run: $0 up"
  stop_component "$c"
  [[ "$c" != kwok ]] || drop_node_leases
  log "starting $c"
  start_component "$c"
  wait_healthy "$c" "$(timeout_of "$c")"
  if [[ "$c" == kwok ]]; then
    NODES="$(kubectl_ get nodes -l type=kwok -o name | grep -c .)" || NODES=0
    wait_node_leases
  fi
  log "$c restarted ($(elapsed))"
}

main() {
  local cmd="${1:-}"
  (($# == 0)) || shift
  case "$cmd" in
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    status) cmd_status "$@" ;;
    restart) cmd_restart "$@" ;;
    kubeconfig) echo "$KUBECONFIG_FILE" ;;
    real-node) bash "$REAL_NODE" "$@" ;;
    -h | --help | help) usage ;;
    '') usage ;;
    *) usage_error "$PROG.sh" command "$cmd" up down status restart kubeconfig real-node ;;
  esac
}

# One line: bash reads a script as it runs it, so an edit of this file during a long `up` cannot
# make it execute a half-read line after main returns.
main "$@"; exit $?
