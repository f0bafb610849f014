#!/usr/bin/env bash
# The scale benchmark of issues 4 and 12: N simulated nodes, G SamePod groups of R replicas, against
# the same pods created as G plain StatefulSets. Prints both times side by side, their ratio (target
# <= 1.15x), the operator's peak heap and RSS (target <= 256 MiB, run with the JVM options of
# deploy/operator-deployment.yaml) beside kube-scheduler's and the KWOK controller's peak RSS; then
# simulates the node agents of every node in each report mode (a PATCH of the node's SharedIpcNode
# status per write) and prints the API server's SharedIpcNode requests and the
# operator's work per report update. Builds what it needs; runs its own local control plane
# (e2e/target/bench-cluster), stopped at the end; result in e2e/target/bench-logs/scale-benchmark.txt.
#
# Usage: e2e/scale-benchmark.sh [--nodes 100] [--groups 1000] [--replicas 2] [--timeout-minutes 20]
#                               [--operator-jvm "-Xmx128m -XX:+UseSerialGC ..."]
#                               [--report-modes every-scan,on-change|none] [--fleet-seconds 120]
#                               [--change-fraction 0.05] [--large]
#   --report-modes   simulated agents: every-scan (a write every 30 s scan, today's agent), on-change
#                    (a write when usage changed, --change-fraction of the nodes per scan, plus a
#                    heartbeat every 5 min), both in turn (default), or none
#   --large          5,000 groups x 2 on 500 nodes, 90 min timeout, the operator heap of a 1280Mi
#                    limit (-Xmx512m), unless the options after it say otherwise
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=../scripts/lib/common.sh
. scripts/lib/common.sh

NODES=100 GROUP_COUNT=1000 REPLICAS=2 TIMEOUT=20 JVM="" MODES="every-scan,on-change" FLEET=120 FRACTION=0.05
while (($#)); do
  case "$1" in
    --nodes) NODES="$2"; shift 2 ;;
    --groups) GROUP_COUNT="$2"; shift 2 ;;
    --replicas) REPLICAS="$2"; shift 2 ;;
    --timeout-minutes) TIMEOUT="$2"; shift 2 ;;
    --operator-jvm) JVM="$2"; shift 2 ;;
    --report-modes) MODES="$2"; shift 2 ;;
    --fleet-seconds) FLEET="$2"; shift 2 ;;
    --change-fraction) FRACTION="$2"; shift 2 ;;
    --large)
      NODES=500 GROUP_COUNT=5000 TIMEOUT=90
      JVM="-Xmx512m -XX:NewRatio=3 -Xss512k -XX:MaxMetaspaceSize=96m -XX:ReservedCodeCacheSize=32m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError -XX:-UsePerfData"
      shift ;;
    -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) usage_error scale-benchmark.sh option "$1" --nodes --groups --replicas --timeout-minutes --operator-jvm --report-modes --fleet-seconds --change-fraction --large --help ;;
  esac
done

rc=0
rm -f e2e/target/bench-logs/scale-benchmark.txt
./mvnw -B verify -pl e2e -am -DskipTests -Pscale-benchmark \
  -Dsharedipc.e2e.nodes="$NODES" -Dsharedipc.bench.groups="$GROUP_COUNT" -Dsharedipc.bench.replicas="$REPLICAS" \
  -Dsharedipc.bench.timeoutMinutes="$TIMEOUT" -Dsharedipc.bench.reportModes="$MODES" \
  -Dsharedipc.bench.fleetSeconds="$FLEET" -Dsharedipc.bench.changeFraction="$FRACTION" \
  ${JVM:+"-Dsharedipc.e2e.operatorJvmOptions=$JVM"} || rc=$?
if [[ -f e2e/target/bench-logs/scale-benchmark.txt ]]; then cat e2e/target/bench-logs/scale-benchmark.txt; fi
exit "$rc"
