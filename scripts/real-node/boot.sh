#!/bin/bash
# The boot script of a real node's guest, run by /sbin/sharedipc-init (init.c) as the guest's only
# service manager: it mounts what a kubelet needs, configures the network slirp gives the guest,
# starts containerd, imports the images of the seed disk, and runs the kubelet, restarting it when
# it exits (a killed kubelet comes back, as under systemd). Everything node-specific comes from the
# seed disk (/dev/vdb, made by scripts/real-node.sh on every start): node.env, the kubelet binary,
# its certificate, the images. Progress lines go to the console (the host's console.log).
set -uo pipefail
say() { echo "sharedipc-node: $*" >/dev/console; }
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

mountpoint -q /proc || mount -t proc proc /proc
mountpoint -q /sys || mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /run /sys/fs/cgroup /seed
mountpoint -q /dev/pts || mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mountpoint -q /dev/shm || mount -t tmpfs -o mode=1777,nosuid,nodev shm /dev/shm
mount -t tmpfs -o mode=755,nosuid,nodev run /run
mount -t tmpfs -o mode=1777,nosuid,nodev tmp /tmp
mountpoint -q /sys/fs/cgroup || mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
# Mount propagation for the kubelet's volumes and the CSI driver's bind mounts.
mount --make-rshared /
mount -o remount,rw /
say "kernel $(uname -r), $(nproc) CPU, $(awk '/MemTotal/ { print int($2 / 1024) " MiB" }' /proc/meminfo)"

for m in virtio_net overlay bridge br_netfilter veth nf_conntrack nf_nat iptable_nat iptable_filter \
  xt_MASQUERADE xt_conntrack xt_comment xt_mark xt_addrtype ip_tables; do
  modprobe "$m" 2>/dev/null || say "module $m not loaded"
done
mountpoint -q /seed || mount -o ro /dev/vdb /seed || { say "no seed disk at /dev/vdb"; exit 1; }
# shellcheck source=/dev/null
. /seed/node.env
hostname "$NODE_NAME"
echo "$NODE_NAME" >/etc/hostname
printf '127.0.0.1 localhost\n%s %s\n' "$NODE_IP" "$NODE_NAME" >/etc/hosts
# No name server: nothing in the guest may reach beyond the host's loopback (images are imported,
# never pulled; pods reach the API server by its service IP).
printf 'search .\noptions ndots:1\n' >/etc/resolv.conf

# The virtio NIC appears once its driver has probed it: wait for it.
nic=""
for _ in $(seq 1 100); do
  for d in /sys/class/net/*; do
    [[ "${d##*/}" != lo && -e "$d/device" ]] && nic="${d##*/}" && break
  done
  [[ -n "$nic" ]] && break
  sleep 0.1
done
[[ -n "$nic" ]] || { say "no network interface (virtio_net did not probe); interfaces: $(ls /sys/class/net)"; exit 1; }
ip link set lo up
ip link set "$nic" up
ip addr add "$NODE_IP/24" dev "$nic"
ip route add default via "$GATEWAY" || { say "no default route via $GATEWAY on $nic"; exit 1; }
sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 kernel.panic=10 vm.overcommit_memory=1 \
  kernel.panic_on_oops=1 2>/dev/null
# The one Service pods of this node need, the API server's (kubernetes.default, 10.96.0.1:443), is
# forwarded to the host's API server through slirp: a kube-proxy of one rule.
for chain in PREROUTING OUTPUT; do
  iptables -t nat -A "$chain" -d "$API_SERVICE_IP" -p tcp --dport 443 -j DNAT --to-destination "$GATEWAY:$APISERVER_PORT"
done

mkdir -p /etc/containerd /etc/cni/net.d /var/lib/kubelet /var/log/pods /var/log/containers
cat >/etc/containerd/config.toml <<CONF
version = 2
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "/etc/cni/net.d"
    conf_template = "/etc/containerd/cni-template.json"
CONF
# containerd renders the node's pod CIDR (given by the kubelet once the node has one) into this.
cat >/etc/containerd/cni-template.json <<'CONF'
{
  "cniVersion": "0.4.0",
  "name": "sharedipc-local",
  "plugins": [
    { "type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
      "ipam": { "type": "host-local", "ranges": [[{ "subnet": "{{.PodCIDR}}" }]], "routes": [{ "dst": "0.0.0.0/0" }] } },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
CONF

containerd >/var/log/containerd.log 2>&1 &
for _ in $(seq 1 300); do [[ -S /run/containerd/containerd.sock ]] && break; sleep 0.2; done
[[ -S /run/containerd/containerd.sock ]] || { say "containerd did not start; tail of its log:"; tail -20 /var/log/containerd.log >/dev/console; exit 1; }
say "containerd $(containerd --version | awk '{ print $3 }') running"
# Images: each archive is imported once; the guest's disk keeps containerd's store across boots, and
# a marker per archive digest (images.sha256, written by the host) says what is there already.
mkdir -p /var/lib/sharedipc/imported
while read -r sum file; do
  [[ -n "$file" && -e "/seed/images/$file" ]] || continue
  [[ -e "/var/lib/sharedipc/imported/$sum" ]] && continue
  if out="$(ctr -n k8s.io images import "/seed/images/$file" 2>&1)"; then
    touch "/var/lib/sharedipc/imported/$sum"
    say "image imported: $file"
  else
    say "image import failed: $file: $out"
  fi
done </seed/images.sha256

install -m 0755 /seed/kubelet /usr/local/bin/kubelet
mkdir -p /var/lib/kubelet/pki
cp /seed/pki/* /var/lib/kubelet/pki/
chmod 600 /var/lib/kubelet/pki/*.key
cat >/var/lib/kubelet/kubeconfig <<CONF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://$GATEWAY:$APISERVER_PORT
    certificate-authority: /var/lib/kubelet/pki/ca.crt
    tls-server-name: localhost
users:
- name: node
  user:
    client-certificate: /var/lib/kubelet/pki/kubelet.crt
    client-key: /var/lib/kubelet/pki/kubelet.key
contexts:
- name: local
  context: { cluster: local, user: node }
current-context: local
CONF
cat >/var/lib/kubelet/config.yaml <<CONF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: /var/lib/kubelet/pki/ca.crt }
authorization: { mode: Webhook }
failSwapOn: false
resolvConf: /etc/resolv.conf
clusterDomain: cluster.local
# Images are imported, never pulled: none may be collected.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: { memory.available: "64Mi", nodefs.available: "2%", imagefs.available: "2%" }
serializeImagePulls: false
nodeStatusReportFrequency: 20s
maxPods: $MAX_PODS
CONF
say "node $NODE_NAME at $NODE_IP; API server https://$GATEWAY:$APISERVER_PORT; starting the kubelet"
restarts=0
while :; do
  kubelet --config=/var/lib/kubelet/config.yaml --kubeconfig=/var/lib/kubelet/kubeconfig \
    --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" --node-labels="$NODE_LABELS" --v=1 \
    >>/var/log/kubelet.log 2>&1
  rc=$?
  restarts=$((restarts + 1))
  say "kubelet exited ($rc), restart $restarts in 2 s; tail of its log:"
  tail -5 /var/log/kubelet.log >/dev/console
  sleep 2
done
