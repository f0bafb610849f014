#!/usr/bin/env bash
# Real nodes for the local cluster: QEMU guests, each with a real kubelet, containerd and runc,
# joined to the control plane of scripts/local-cluster.sh beside its KWOK nodes. local-cluster.sh
# `up --real-nodes N` drives this script; it can also be run on its own against a running cluster.
# Never a kubelet or a container runtime on the host: they run only inside the guests.
#
# Usage: scripts/real-node.sh COMMAND [args]
#   assets             build what every guest boots from, if missing (idempotent): a Debian
#                      bookworm root file system with its kernel, containerd, runc and the CNI
#                      plugins (mmdebstrap), as an ext4 image, cached outside the repository
#   start NAME INDEX   boot guest NAME (slirp subnet 10.200.INDEX.0/24; INDEX 1..250), wait
#                      until its node is Ready; a no-op when it runs and is Ready
#   stop NAME          power the guest off (its disk is kept: the next start boots it again)
#   delete NAME        stop it, delete its Node object and its disk
#   status             one line per guest: name, state, pid, node address, kubelet port, Ready
#   exec NAME -- CMD   run CMD as root on the node (all its namespaces), through a node shell pod
#   load NAME [TAR...] import images into the node's containerd (default: every image of
#                      scripts/images.sh), without a reboot
#   console NAME       print the guest's console log
#   names              the guests of this cluster, one a line
#
# Environment (all optional):
#   SHAREDIPC_CLUSTER_DIR      the cluster's state directory, as for local-cluster.sh
#   SHAREDIPC_CACHE            cache root (~/.cache/sharedipc): the guest image lives in real-node/
#   SHAREDIPC_REAL_NODE_MEMORY guest memory (default 3G; qemu holds about that much of the host)
#   SHAREDIPC_REAL_NODE_CPUS   guest CPUs (default 2)
#   SHAREDIPC_REAL_NODE_ACCEL  kvm or tcg (default: kvm when a probe guest boots under it, else tcg)
#   SHAREDIPC_REAL_NODE_READY_TIMEOUT  seconds to wait for Ready (default 300)
#   SHAREDIPC_IMAGES_DIR       where scripts/images.sh wrote the image archives
#
# Networking, all on the host's loopback: each guest has slirp user networking on a subnet of its
# own; the guest reaches the host's 127.0.0.1 as 10.200.INDEX.2 (its kubelet dials the API server
# there); slirp forwards a loopback port to the guest's kubelet (10250), and the API server reaches
# it through scripts/real-node/kubelet-proxy.py, its egress selector (docs/local-cluster.md).
set -euo pipefail

PROG="real-node"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
. "$SCRIPT_DIR/lib/common.sh"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
GUEST_DIR="$SCRIPT_DIR/real-node"
KUBE_BINARIES="$SCRIPT_DIR/kube-binaries.sh"

STATE_DIR="${SHAREDIPC_CLUSTER_DIR:-$REPO_ROOT/target/local-cluster}"
PKI="$STATE_DIR/pki"
NODES_DIR="$STATE_DIR/real-nodes"
KUBELET_MAP="$NODES_DIR/kubelets.map"
KUBECONFIG_FILE="$STATE_DIR/kubeconfig"
SHAREDIPC_CACHE="${SHAREDIPC_CACHE:-$HOME/.cache/sharedipc}"
MEMORY="${SHAREDIPC_REAL_NODE_MEMORY:-3G}"
CPUS="${SHAREDIPC_REAL_NODE_CPUS:-2}"
READY_TIMEOUT="${SHAREDIPC_REAL_NODE_READY_TIMEOUT:-300}"
IMAGES_DIR="${SHAREDIPC_IMAGES_DIR:-$REPO_ROOT/target/images}"

# What the guest image holds. Changing this list (or init.c, or the base stub) makes a new image.
SUITE=bookworm
PACKAGES=linux-image-cloud-amd64,containerd,runc,containernetworking-plugins,iproute2,iptables,kmod,procps,util-linux,e2fsprogs
API_SERVICE_IP=10.96.0.1
SHELL_NAMESPACE=kube-system

usage() { script_usage; }
now_ms() { date +%s%3N; }
T0="$(now_ms)"
elapsed() {
  local ms=$(($(now_ms) - T0))
  printf '%d.%ds' $((ms / 1000)) $(((ms % 1000) / 100))
}

BIN_DIR=""
kube_bin_dir() {
  [[ -n "$BIN_DIR" ]] || BIN_DIR="$(bash "$KUBE_BINARIES" path 2>/dev/null)"
  echo "$BIN_DIR"
}
kubectl_() { "$(kube_bin_dir)/kubectl" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

# ---- host prerequisites ----------------------------------------------------------
# Debian packages the guests need on the host; installed when missing and run as root (CI),
# otherwise named with the command that installs them.
require_host_tools() {
  local missing=()
  command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
  command -v qemu-img >/dev/null || missing+=(qemu-utils)
  command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
  command -v mkfs.ext4 >/dev/null || missing+=(e2fsprogs)
  command -v gcc >/dev/null || missing+=(gcc libc6-dev)
  command -v openssl >/dev/null || missing+=(openssl)
  command -v curl >/dev/null || missing+=(curl)
  command -v python3 >/dev/null || missing+=(python3)
  install_packages "$PROG" "for the real nodes" "${missing[@]}"
}

# ---- the guest image -------------------------------------------------------------
image_key() {
  {
    echo "$SUITE $PACKAGES"
    cat "$GUEST_DIR/init.c"
    base_stub
  } | sha256sum | cut -c1-12
}
IMAGE_DIR=""
set_image_dir() { IMAGE_DIR="$SHAREDIPC_CACHE/real-node/$SUITE-$(image_key)"; }

# The guest's boot script lives on the seed disk (boot.sh, new on every start); the image holds only
# this stub, which mounts the seed and runs it.
base_stub() {
  cat <<'EOF'
#!/bin/sh
# sharedipc real node: run the boot script of the seed disk (scripts/real-node/boot.sh).
mountpoint -q /proc || mount -t proc proc /proc
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mkdir -p /seed
for i in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/vdb ] && break; sleep 0.5; done
mount -o ro /dev/vdb /seed && exec /bin/bash /seed/boot.sh
echo "sharedipc-node: cannot mount the seed disk /dev/vdb" >/dev/console
exit 1
EOF
}

# The Debian mirror the host's apt uses, so that the guest comes from the same package source.
host_mirror() {
  local uri=""
  if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    uri="$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)"
  fi
  if [[ -z "$uri" && -f /etc/apt/sources.list ]]; then
    uri="$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' /etc/apt/sources.list)"
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

cmd_assets() {
  require_host_tools
  set_image_dir
  [[ -f "$IMAGE_DIR/.complete" ]] && return 0
  mkdir -p "$SHAREDIPC_CACHE/real-node"
  exec 8>"$SHAREDIPC_CACHE/real-node/.lock"
  flock -n 8 || {
    log "another real-node.sh builds the guest image; waiting for it"
    flock 8
  }
  [[ -f "$IMAGE_DIR/.complete" ]] && return 0
  [[ $(id -u) == 0 ]] || die "building the guest image needs root (mmdebstrap, file ownership in the image); run as root once"
  local tmp root opts=() f mirror
  tmp="$(mktemp -d "$SHAREDIPC_CACHE/real-node/.build.XXXXXX")"
  root="$tmp/root"
  for f in /etc/apt/apt.conf.d/*; do
    [[ -f "$f" ]] && grep -q '^[A-Za-z]' "$f" 2>/dev/null && opts+=("--aptopt=$f")
  done
  mirror="$(host_mirror)"
  log "building the guest image (Debian $SUITE from $mirror: kernel, containerd, runc, CNI plugins; ~2 min) into $IMAGE_DIR"
  mmdebstrap --quiet --variant=minbase --include="$PACKAGES" "${opts[@]}" "$SUITE" "$root" "$mirror" >&2 ||
    die "mmdebstrap failed (see its output above); the host's package source is $mirror"
  gcc -static -O2 -Wall -o "$root/sbin/sharedipc-init" "$GUEST_DIR/init.c" || die "building init.c failed"
  base_stub >"$root/usr/local/sbin/sharedipc-node-boot"
  chmod 0755 "$root/usr/local/sbin/sharedipc-node-boot"
  # The kernel and its initrd boot the guest from outside (qemu -kernel); their modules stay inside.
  cp "$root"/boot/vmlinuz-* "$tmp/vmlinuz"
  cp "$root"/boot/initrd.img-* "$tmp/initrd"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/usr/share/doc "$root"/usr/share/man
  truncate -s 8G "$tmp/root.img"
  mkfs.ext4 -q -F -L sharedipc-root -d "$root" "$tmp/root.img" >&2 || die "mkfs.ext4 -d failed"
  rm -rf "$root"
  rm -rf "$IMAGE_DIR"
  mv "$tmp" "$IMAGE_DIR"
  touch "$IMAGE_DIR/.complete"
  log "guest image ready: $IMAGE_DIR ($(du -sh --apparent-size "$IMAGE_DIR/root.img" | cut -f1) sparse, $(du -sh "$IMAGE_DIR/root.img" | cut -f1) used; $(elapsed))"
}

# ---- acceleration ----------------------------------------------------------------
# KVM where a probe guest (the kernel alone, panicking for want of a root) ends under it within
# 15 s (TCG takes ~5 s); TCG otherwise (nested KVM that hangs, no /dev/kvm). The verdict is kept per host kernel.
choose_accel() {
  if [[ -n "${SHAREDIPC_REAL_NODE_ACCEL:-}" ]]; then
    echo "$SHAREDIPC_REAL_NODE_ACCEL"
    return
  fi
  local verdict="$SHAREDIPC_CACHE/real-node/accel-$(uname -r)" out
  if [[ -f "$verdict" ]]; then
    cat "$verdict"
    return
  fi
  local accel=tcg
  if [[ -r /dev/kvm && -w /dev/kvm ]]; then
    out="$(timeout 15 qemu-system-x86_64 -accel kvm -cpu host -m 256 -nodefaults -display none -no-reboot \
      -serial stdio -kernel "$IMAGE_DIR/vmlinuz" -append "console=ttyS0 panic=-1 root=/dev/nonexistent" 2>&1 || true)"
    if grep -q "Kernel panic\|VFS: Unable to mount root" <<<"$out"; then accel=kvm; fi
  fi
  echo "$accel" >"$verdict"
  echo "$accel"
}

# ---- one guest ---------------------------------------------------------------------
node_dir() { echo "$NODES_DIR/$1"; }
qemu_pid() { # name: pid of its running qemu
  local f pid
  f="$(node_dir "$1")/qemu.pid"
  [[ -f "$f" ]] || return 1
  read -r pid <"$f" || return 1
  [[ "$pid" =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$(node_dir "$1")/" || return 1
  echo "$pid"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_kubelet_port() { # name: the loopback port slirp forwards to the guest's kubelet, kept per node
  local f port
  f="$(node_dir "$1")/kubelet.port"
  if [[ -f "$f" ]]; then
    read -r port <"$f"
    port_busy "$port" || {
      echo "$port"
      return
    }
  fi
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % 20000))
    port_busy "$port" || break
  done
  echo "$port" >"$f"
  echo "$port"
}

issue_kubelet_cert() { # name dir
  [[ -f "$2/kubelet.crt" ]] && openssl x509 -in "$2/kubelet.crt" -noout -checkend 86400 >/dev/null 2>&1 &&
    cmp -s "$2/ca.crt" "$PKI/ca.crt" && return 0
  (
    umask 077
    cd "$2"
    openssl genrsa -out kubelet.key 2048 2>/dev/null
    openssl req -new -key kubelet.key -subj "/O=system:nodes/CN=system:node:$1" -out kubelet.csr
    printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' >kubelet.ext
    openssl x509 -req -in kubelet.csr -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial -CAserial "$2/ca.srl" \
      -sha256 -days 3650 -extfile kubelet.ext -out kubelet.crt 2>/dev/null
    rm -f kubelet.csr kubelet.ext ca.srl
    cp "$PKI/ca.crt" ca.crt
  )
}

# The seed disk: everything node-specific, made anew on every start (so a new kubelet, boot
# script or image takes effect at the next boot).
make_seed() { # name index port
  local name="$1" idx="$2" dir seed apiserver_port pause tar n=0
  dir="$(node_dir "$name")"
  seed="$dir/seed"
  rm -rf "$seed"
  mkdir -p "$seed/pki" "$seed/images"
  # shellcheck source=/dev/null
  apiserver_port="$(. "$STATE_DIR/ports.env" && echo "$APISERVER_PORT")"
  issue_kubelet_cert "$name" "$dir"
  cp "$dir/kubelet.crt" "$dir/kubelet.key" "$dir/ca.crt" "$seed/pki/"
  cp "$(kube_bin_dir)/kubelet" "$seed/kubelet"
  cp "$GUEST_DIR/boot.sh" "$seed/boot.sh"
  pause="$(images_index | awk '$1 ~ /\/pause:/ { print $1; exit }')"
  [[ -n "$pause" ]] || die "no pause image in $IMAGES_DIR (scripts/images.sh build makes it)"
  cat >"$seed/node.env" <<EOF
NODE_NAME=$name
NODE_IP=10.200.$idx.15
GATEWAY=10.200.$idx.2
APISERVER_PORT=$apiserver_port
API_SERVICE_IP=$API_SERVICE_IP
PAUSE_IMAGE=$pause
MAX_PODS=110
NODE_LABELS=sharedipc.dev/real-node=true
EOF
  cp "$seed/node.env" "$dir/node.env"
  while read -r _ref tar; do
    ln "$IMAGES_DIR/$tar" "$seed/images/$tar" 2>/dev/null || cp "$IMAGES_DIR/$tar" "$seed/images/$tar"
    n=$((n + 1))
  done < <(images_index)
  (cd "$seed/images" && sha256sum -- *.tar | awk '{ print $1, $2 }') >"$seed/images.sha256"
  local size_mb
  size_mb=$(($(du -sm "$seed" | cut -f1) * 11 / 10 + 32))
  rm -f "$dir/seed.img"
  truncate -s "${size_mb}M" "$dir/seed.img"
  mkfs.ext4 -q -F -L sharedipc-seed -d "$seed" "$dir/seed.img" >&2 || die "mkfs.ext4 of the seed disk failed"
  rm -rf "$seed"
  log "$name: seed disk with the kubelet $(kube_version), $n image(s) (${size_mb} MiB)"
}

kube_version() { "$(kube_bin_dir)/kubelet" --version 2>/dev/null | awk '{ print $2 }'; }

# "reference tar-file" per image scripts/images.sh built.
images_index() {
  [[ -f "$IMAGES_DIR/index.tsv" ]] || die "no image index $IMAGES_DIR/index.tsv; run scripts/images.sh build"
  awk -F'\t' '!/^#/ && NF >= 2 { print $1, $2 }' "$IMAGES_DIR/index.tsv"
}

map_kubelet() { # name index port: the proxy's route to this node's kubelet
  mkdir -p "$NODES_DIR"
  local tmp="$KUBELET_MAP.tmp.$$"
  { grep -v " # $1\$" "$KUBELET_MAP" 2>/dev/null || true; printf '10.200.%s.15:10250 127.0.0.1:%s # %s\n%s:10250 127.0.0.1:%s # %s\n' \
    "$2" "$3" "$1" "$1" "$3" "$1"; } >"$tmp"
  mv -f "$tmp" "$KUBELET_MAP"
}
unmap_kubelet() {
  [[ -f "$KUBELET_MAP" ]] || return 0
  local tmp="$KUBELET_MAP.tmp.$$"
  grep -v " # $1\$" "$KUBELET_MAP" >"$tmp" || true
  mv -f "$tmp" "$KUBELET_MAP"
}

node_ready() { # name: True, False, Unknown or nothing
  kubectl_ get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null || true
}
# The kernel's boot id the node last reported: a new one tells the guest booted since.
node_boot_id() { # name
  kubectl_ get node "$1" -o jsonpath='{.status.nodeInfo.bootID}' 2>/dev/null || true
}

console_tail() { # name
  local f
  f="$(node_dir "$1")/console.log"
  [[ -f "$f" ]] || return 0
  echo "---- last lines of $f ----" >&2
  tail -n 25 "$f" | sed 's/\r$//' >&2
  echo "----" >&2
}

cmd_start() {
  local name="${1:?start needs NAME INDEX}" idx="${2:?start needs NAME INDEX}"
  [[ "$name" =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] || die "node name '$name' is not a DNS-1123 label"
  [[ "$idx" =~ ^[0-9]+$ ]] && ((idx >= 1 && idx <= 250)) || die "INDEX must be 1..250 (got '$idx')"
  [[ -f "$PKI/.complete" && -f "$STATE_DIR/ports.env" ]] || die "no cluster in $STATE_DIR; start it with scripts/local-cluster.sh up"
  local dir pid port accel
  dir="$(node_dir "$name")"
  mkdir -p "$dir"
  if pid="$(qemu_pid "$name")"; then
    if [[ "$(node_ready "$name")" == True ]]; then
      log "$name: running (qemu pid $pid) and Ready"
      return 0
    fi
    log "$name: running (qemu pid $pid), waiting for Ready"
    wait_ready "$name"
    return
  fi
  cmd_assets
  set_image_dir
  bash "$KUBE_BINARIES" ensure kubelet kubectl >&2 || die "could not build the kubelet (see the kube-binaries messages above)"
  port="$(pick_kubelet_port "$name")"
  make_seed "$name" "$idx" "$port"
  # The guest's own disk: a copy-on-write layer over the shared image, kept across stops.
  if [[ ! -f "$dir/disk.qcow2" ]] || ! qemu-img info --output=json "$dir/disk.qcow2" 2>/dev/null | grep -qF "$IMAGE_DIR/root.img"; then
    rm -f "$dir/disk.qcow2"
    qemu-img create -q -f qcow2 -F raw -b "$IMAGE_DIR/root.img" "$dir/disk.qcow2" >&2 || die "qemu-img create failed"
  fi
  accel="$(choose_accel)"
  local cpu=max accel_opt="tcg,thread=multi,tb-size=512"
  if [[ "$accel" == kvm ]]; then
    cpu=host
    accel_opt=kvm
  fi
  log "$name: booting ($accel acceleration$([[ $accel == tcg ]] && echo ': no working KVM here, every guest instruction is emulated'); $CPUS CPU, $MEMORY; console $dir/console.log)"
  : >"$dir/console.log"
  map_kubelet "$name" "$idx" "$port"
  local old_boot
  old_boot="$(node_boot_id "$name")"
  # No inherited lock (local-cluster.sh holds fd 9, assets fd 8): the daemon would hold it for good.
  qemu-system-x86_64 -name "sharedipc-$name" -machine q35 -accel "$accel_opt" -cpu "$cpu" -smp "$CPUS" -m "$MEMORY" \
    -nodefaults -display none -serial "file:$dir/console.log" -monitor "unix:$dir/monitor.sock,server,nowait" \
    -kernel "$IMAGE_DIR/vmlinuz" -initrd "$IMAGE_DIR/initrd" \
    -append "root=/dev/vda rw console=ttyS0 init=/sbin/sharedipc-init panic=10 quiet systemd.unified_cgroup_hierarchy=1" \
    -drive "file=$dir/disk.qcow2,if=virtio,format=qcow2,cache=unsafe,discard=unmap" \
    -drive "file=$dir/seed.img,if=virtio,format=raw,readonly=on" \
    -netdev "user,id=net0,net=10.200.$idx.0/24,host=10.200.$idx.2,hostfwd=tcp:127.0.0.1:$port-10.200.$idx.15:10250" \
    -device virtio-net-pci,netdev=net0 -device virtio-rng-pci \
    -pidfile "$dir/qemu.pid" -daemonize >&2 8>&- 9>&- || {
    console_tail "$name"
    die "$name: qemu did not start"
  }
  wait_ready "$name" "$old_boot"
}

# Waits until the node is Ready, reported by a boot other than OLD_BOOT_ID (the Node object keeps
# the Ready of the guest's previous life until the node controller notices it is gone).
wait_ready() { # name [old boot id]
  local name="$1" old_boot="${2:-}" deadline=$(($(now_ms) + READY_TIMEOUT * 1000)) state=""
  while :; do
    if ! qemu_pid "$name" >/dev/null; then
      console_tail "$name"
      die "$name: the guest stopped before its node was Ready"
    fi
    state="$(node_ready "$name")"
    if [[ "$state" == True && ( -z "$old_boot" || "$(node_boot_id "$name")" != "$old_boot" ) ]]; then
      log "$name: node Ready ($(elapsed))"
      return 0
    fi
    if (($(now_ms) > deadline)); then
      console_tail "$name"
      die "$name: node not Ready after ${READY_TIMEOUT}s (Ready=${state:-not registered}); the kubelet's log is /var/log/kubelet.log in the guest (scripts/real-node.sh exec $name -- tail /var/log/kubelet.log, once it is Ready), its console above"
    fi
    sleep 1
  done
}

cmd_stop() {
  local name="${1:?stop needs NAME}" pid
  if pid="$(qemu_pid "$name")"; then
    # A hard power-off, as a pulled plug: the guest's disk is journaled ext4; what its page cache held is lost.
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    log "$name: stopped (qemu pid $pid)"
  fi
  rm -f "$(node_dir "$name")/qemu.pid" "$(node_dir "$name")/monitor.sock"
  unmap_kubelet "$name"
}

cmd_delete() {
  local name="${1:?delete needs NAME}"
  cmd_stop "$name"
  [[ -f "$KUBECONFIG_FILE" ]] && kubectl_ delete node "$name" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  rm -rf "$(node_dir "$name")"
  log "$name: deleted (Node object and disk)"
}

cmd_names() {
  [[ -d "$NODES_DIR" ]] || return 0
  local d
  for d in "$NODES_DIR"/*/; do
    [[ -d "$d" ]] && basename "$d"
  done
}

cmd_status() {
  local name pid port state ok=0
  printf '%-16s %-8s %-8s %-14s %-8s %s\n' NODE STATE PID ADDRESS KUBELET READY
  while read -r name; do
    [[ -n "$name" ]] || continue
    port="$(cat "$(node_dir "$name")/kubelet.port" 2>/dev/null || echo -)"
    local addr
    addr="$(awk -F= '$1 == "NODE_IP" { print $2 }' "$(node_dir "$name")/node.env" 2>/dev/null || true)"
    if pid="$(qemu_pid "$name")"; then
      state="$(node_ready "$name")"
      [[ "$state" == True ]] || ok=1
      printf '%-16s %-8s %-8s %-14s %-8s %s\n' "$name" running "$pid" "${addr:--}" "127.0.0.1:$port" "${state:-unknown}"
    else
      printf '%-16s %-8s %-8s %-14s %-8s %s\n' "$name" stopped - "${addr:--}" - -
      ok=1
    fi
  done < <(cmd_names)
  return "$ok"
}

cmd_console() { cat "$(node_dir "${1:?console needs NAME}")/console.log"; }

# ---- on the node -------------------------------------------------------------------
# A privileged pod in the host's namespaces (busybox's nsenter), as `kubectl debug node/` would
# make, kept running so that every exec is one API call.
shell_pod() { echo "node-shell-$1"; }
ensure_shell() { # name
  local pod
  pod="$(shell_pod "$1")"
  if [[ "$(kubectl_ get pod -n "$SHELL_NAMESPACE" "$pod" -o jsonpath='{.status.phase}' 2>/dev/null)" == Running ]]; then
    return 0
  fi
  kubectl_ delete pod -n "$SHELL_NAMESPACE" "$pod" --ignore-not-found --wait=true >/dev/null 2>&1 || true
  kubectl_ apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $pod
  namespace: $SHELL_NAMESPACE
  labels: { app.kubernetes.io/name: sharedipc-node-shell }
spec:
  nodeName: $1
  hostPID: true
  hostNetwork: true
  hostIPC: true
  tolerations: [{ operator: Exists }]
  terminationGracePeriodSeconds: 0
  containers:
  - name: shell
    image: docker.io/library/busybox:1.36
    imagePullPolicy: Never
    command: ["sleep", "2147483647"]
    securityContext: { privileged: true }
EOF
  kubectl_ wait -n "$SHELL_NAMESPACE" --for=condition=Ready "pod/$pod" --timeout=180s >/dev/null ||
    die "$1: the node shell pod did not become Ready (kubectl describe pod -n $SHELL_NAMESPACE $pod)"
}

cmd_exec() {
  local name="${1:?exec needs NAME -- CMD}"
  shift
  [[ "${1:-}" == -- ]] && shift
    (($#)) || die "exec needs a command after --"
  qemu_pid "$name" >/dev/null || die "$name is not running"
  ensure_shell "$name"
  kubectl_ exec -i -n "$SHELL_NAMESPACE" "$(shell_pod "$name")" -- nsenter -t 1 -m -u -i -n -p -- "$@"
}

cmd_load() {
  local name="${1:?load needs NAME}" tar
  shift
  local tars=("$@")
  if ((${#tars[@]} == 0)); then
    while read -r _ tar; do tars+=("$IMAGES_DIR/$tar"); done < <(images_index)
  fi
  for tar in "${tars[@]}"; do
    [[ -f "$tar" ]] || die "no image archive $tar"
    cmd_exec "$name" -- ctr -n k8s.io images import - <"$tar" >/dev/null || die "$name: importing $tar failed"
    log "$name: imported $(basename "$tar")"
  done
}

main() {
  local cmd="${1:-}"
  (($# == 0)) || shift
  case "$cmd" in
    assets) cmd_assets "$@" ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    delete) cmd_delete "$@" ;;
    status) cmd_status "$@" ;;
    exec) cmd_exec "$@" ;;
    load) cmd_load "$@" ;;
    console) cmd_console "$@" ;;
    names) cmd_names ;;
    -h | --help | help) usage ;;
    *) usage_error real-node.sh command "$cmd" assets start stop delete status exec load console names ;;
  esac
}

main "$@"; exit $?
