#!/bin/sh
# Scan benchmark: 10,000 segments across 50 fresh IPC namespaces; prints the agent's warm full
# scan, the raw kernel read and `ipcs -m` side by side, and the serving agent's resident memory.
# Needs root (unshare, setns). Not part of `./mvnw verify`. Usage (from the repo root):
#   agent/bench/scan-bench.sh [--namespaces 50] [--segments 10000] [--posix 10000] [--rounds 15]
#                             [--kubeconfig FILE --node-name NODE]
# With --kubeconfig the serving agent runs as deployed, against that API server (informers of the
# node's pods and of the groups, its SharedIpcNode report); without it, --offline.
set -eu
root=$(CDPATH= cd -- "$(dirname -- "$0")/../.." && pwd)
cd "$root"
if [ ! -f agent/target/sharedipc-agent.jar ]; then
  ./mvnw -B -q -pl agent -am package -DskipTests
fi
# The benchmark JVM runs with the launcher's small-daemon JVM settings, so the scan it times is the daemon's.
SHAREDIPC_AGENT_MAIN=dev.sharedipc.agent.bench.ScanBenchmark exec agent/bin/sharedipc-agent --launcher agent/bin/sharedipc-agent "$@"
