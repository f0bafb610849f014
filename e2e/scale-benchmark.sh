#!/usr/bin/env bash
# The scale benchmark of issue 4: N simulated nodes, G SamePod groups of R replicas, against the
# same pods created as G plain StatefulSets. Prints both times side by side, their ratio (target
# <= 1.5x) and the operator's peak heap and RSS (target <= 512 MiB, run with the JVM options of
# deploy/operator-deployment.yaml). Builds what it needs; runs its own local control plane
# (e2e/target/bench-cluster), stopped at the end; result in e2e/target/bench-logs/scale-benchmark.txt.
#
# Usage: e2e/scale-benchmark.sh [--nodes 100] [--groups 1000] [--replicas 2] [--timeout-minutes 20]
#                               [--operator-jvm "-Xmx256m -XX:+UseSerialGC"]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

NODES=100 GROUP_COUNT=1000 REPLICAS=2 TIMEOUT=20 JVM=""
while (($#)); do
  case "$1" in
    --nodes) NODES="$2"; shift 2 ;;
    --groups) GROUP_COUNT="$2"; shift 2 ;;
    --replicas) REPLICAS="$2"; shift 2 ;;
    --timeout-minutes) TIMEOUT="$2"; shift 2 ;;
    --operator-jvm) JVM="$2"; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) echo "scale-benchmark: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done

rc=0
rm -f e2e/target/bench-logs/scale-benchmark.txt
./mvnw -B verify -pl e2e -am -DskipTests -Pscale-benchmark \
  -Dsharedipc.e2e.nodes="$NODES" -Dsharedipc.bench.groups="$GROUP_COUNT" -Dsharedipc.bench.replicas="$REPLICAS" \
  -Dsharedipc.bench.timeoutMinutes="$TIMEOUT" ${JVM:+"-Dsharedipc.e2e.operatorJvmOptions=$JVM"} || rc=$?
if [[ -f e2e/target/bench-logs/scale-benchmark.txt ]]; then cat e2e/target/bench-logs/scale-benchmark.txt; fi
exit "$rc"
