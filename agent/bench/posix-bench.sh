#!/bin/sh
# POSIX benchmark: 10,000 files across 100 pod-like memory volumes (each a real tmpfs mount) and
# 500 processes that map some of them (and keep some open); prints the agent's warm POSIX pass,
# a raw read (find -printf + every /proc/*/maps) and `lsof +D` over the same directories side by
# side. Everything it makes (mounts, files, processes) is removed on exit, whatever happens.
# It runs in its own PID and mount namespaces (unshare), like a node whose processes are all
# readable: its /proc holds the benchmark's ~500 processes, and its mounts and processes end with it
# even on SIGKILL. (A sandbox may forbid reading some host pids' maps; the agent, which needs them
# all, would then rightly report "not known".)
# Needs root (mount), gcc, lsof (skipped with a note when missing). Not part of `./mvnw verify`.
# Usage (from the repo root):
#   agent/bench/posix-bench.sh [--volumes 100] [--objects 10000] [--processes 500] [--rounds 15]
set -eu
volumes=100 objects=10000 processes=500 rounds=15
while [ $# -gt 0 ]; do
  case $1 in
    --volumes) volumes=$2; shift 2 ;;
    --objects) objects=$2; shift 2 ;;
    --processes) processes=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    *) echo "posix-bench: unknown argument $1 (see the usage at the top of $0)" >&2; exit 2 ;;
  esac
done
root=$(CDPATH= cd -- "$(dirname -- "$0")/../.." && pwd)
cd "$root"
if [ -z "${SHAREDIPC_POSIX_BENCH_BASE:-}" ]; then
  if [ ! -f agent/target/sharedipc-agent.jar ]; then
    ./mvnw -B -q -pl agent -am package -DskipTests
  fi
  command -v lsof >/dev/null 2>&1 || apt-get install -y -q lsof >/dev/null 2>&1 || echo "lsof is not installable here: its column is skipped"
  SHAREDIPC_POSIX_BENCH_BASE=$(mktemp -d /tmp/sharedipc-posix-bench.XXXXXX)
  export SHAREDIPC_POSIX_BENCH_BASE
  trap 'rm -rf "$SHAREDIPC_POSIX_BENCH_BASE"' EXIT
  trap 'exit 130' INT TERM HUP
  unshare --pid --fork --mount-proc --propagation private sh "$0" --volumes "$volumes" --objects "$objects" \
    --processes "$processes" --rounds "$rounds"
  exit $?
fi

base=$SHAREDIPC_POSIX_BENCH_BASE
pids=""
cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null || true; done
  for p in $pids; do wait "$p" 2>/dev/null || true; done
  for m in "$base"/vol-*; do
    if mountpoint -q "$m" 2>/dev/null; then umount "$m" || umount -l "$m" || true; fi
  done
  rm -rf "$base"
  echo "cleanup: $volumes tmpfs mounts, their files and $processes processes are gone"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# The helper maps each file it is given (and keeps the first one open), says so, and waits.
cat > "$base/holder.c" <<'C'
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
int main(int argc, char **argv) {
  for (int i = 2; i < argc; i++) {
    int fd = open(argv[i], O_RDWR);
    if (fd < 0 || mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED) { perror(argv[i]); return 1; }
    if (i > 2) close(fd);
  }
  close(open(argv[1], O_WRONLY | O_CREAT, 0600));
  pause();
  return 0;
}
C
gcc -O2 -o "$base/holder" "$base/holder.c"
mkdir "$base/ready"

per=$(( (objects + volumes - 1) / volumes ))
start=$(date +%s%N)
i=0
while [ $i -lt "$volumes" ]; do
  v=$(printf '%s/vol-%03d' "$base" "$i")
  mkdir "$v"
  mount -t tmpfs -o size=64m,mode=1777 "bench-shm-$i" "$v"
  i=$((i + 1))
done
python3 - "$base" "$volumes" "$per" "$objects" <<'PY'
import os, sys
base, volumes, per, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
page = b"\1" * 4096
made = 0
for v in range(volumes):
    for k in range(per):
        if made == total:
            break
        with open(f"{base}/vol-{v:03d}/psm_{k:04d}", "wb") as f:
            f.write(page)
        made += 1
PY
# Process n maps 4 files of volume n % volumes (keeping the first open): 2,000 mappings of 500 processes.
n=0
while [ $n -lt "$processes" ]; do
  v=$(printf '%s/vol-%03d' "$base" $((n % volumes)))
  k=$(( (n / volumes) * 4 ))
  "$base/holder" "$base/ready/$n" "$v/psm_$(printf %04d $k)" "$v/psm_$(printf %04d $((k + 1)))" \
    "$v/psm_$(printf %04d $((k + 2)))" "$v/psm_$(printf %04d $((k + 3)))" &
  pids="$pids $!"
  n=$((n + 1))
done
tries=0
while [ "$(ls "$base/ready" | wc -l)" -lt "$processes" ]; do
  tries=$((tries + 1))
  if [ $tries -gt 600 ]; then echo "posix-bench: the helper processes did not all map their files in 60 s" >&2; exit 1; fi
  sleep 0.1
done
echo "setup: $objects objects of 4 KiB in $volumes tmpfs mounts under $base, $processes processes mapping 4 each," \
  "in $(( ($(date +%s%N) - start) / 1000000 )) ms"

# The benchmark JVM runs with the launcher's small-daemon JVM settings, so the pass it times is the daemon's.
SHAREDIPC_AGENT_MAIN=dev.sharedipc.agent.bench.PosixBenchmark agent/bin/sharedipc-agent --root "$base" --rounds "$rounds"
